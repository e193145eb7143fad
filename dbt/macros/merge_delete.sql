{#- The project's Delta merge for incremental models (dbt dispatches `get_merge_sql` to the
    root project's `spark__` macro first).

    Without `merge_delete_flag`: dbt-spark's plain upsert on the unique key (update every
    column of a matched row, insert the others).

    With `merge_delete_flag='<column>'`: for models whose rows can also *leave* (the items of a
    declaration whose amendment became current: another version's items replace them). The
    model's incremental branch emits, after its columns, a boolean column of that name: true
    on a key the model held and must drop, false on a recomputed row. A flagged row that
    matches is deleted, one that matches nothing is skipped; the flag itself is never written
    (the update and insert name the target's columns). One `MERGE`, so the deletes and the
    upserts commit together: a failed run leaves the table as it was. -#}
{% macro spark__get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
  {%- if config.get('merge_update_columns') or config.get('merge_exclude_columns') -%}
    {%- do exceptions.raise_compiler_error(
        'merge_update_columns / merge_exclude_columns are not supported by macros/merge_delete.sql') -%}
  {%- endif -%}
  {%- set keys = [unique_key] if unique_key is string else unique_key -%}
  {%- set on = [] + (incremental_predicates or []) -%}
  {%- for key in keys -%}
    {%- do on.append('DBT_INTERNAL_SOURCE.' ~ key ~ ' = DBT_INTERNAL_DEST.' ~ key) -%}
  {%- endfor -%}
  {%- set flag = config.get('merge_delete_flag') -%}
merge into {{ target }} as DBT_INTERNAL_DEST
using {{ source }} as DBT_INTERNAL_SOURCE
on {{ on | join(' and ') if on else 'false' }}
{%- if flag %}
  {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='quoted') | list %}
when matched and DBT_INTERNAL_SOURCE.{{ flag }} then delete
when matched then update set
  {% for c in columns %}DBT_INTERNAL_DEST.{{ c }} = DBT_INTERNAL_SOURCE.{{ c }}{{ ', ' if not loop.last }}{% endfor %}
when not matched and not DBT_INTERNAL_SOURCE.{{ flag }} then insert ({{ columns | join(', ') }})
  values ({% for c in columns %}DBT_INTERNAL_SOURCE.{{ c }}{{ ', ' if not loop.last }}{% endfor %})
{%- else %}
when matched then update set *
when not matched then insert *
{%- endif %}
{%- endmacro %}
