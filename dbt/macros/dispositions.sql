{#- Every staged row with its disposition, so nothing vanishes without a reason:
    rejected (a required column is null: the rule names it), duplicate (a later copy of the
    same key) or superseded (an older row of the same key, when later rows replace earlier
    ones, e.g. an HR sync), else kept. Silver's entity tables are the kept rows. -#}
{% macro with_dispositions(relation, key, required, later_supersedes=false) -%}
with base as (
    select *,
        case {% for col in required %}when {{ col }} is null then '{{ col }}' {% endfor %} end as reject_field
    from {{ relation }}
),
ranked as (
    select *, case when reject_field is null then row_number() over (
        partition by reject_field is null, {{ key }}
        order by received_at {{ 'desc' if later_supersedes else 'asc' }}, record_id) end as copy_no
    from base
)
select *,
    case when reject_field is not null then 'rejected'
         when copy_no = 1 then 'kept'
         else '{{ "superseded" if later_supersedes else "duplicate" }}' end as disposition,
    case when reject_field is not null then concat('missing_', reject_field)
         when copy_no > 1 then '{{ "superseded_by_later_record" if later_supersedes else "repeated_key" }}'
    end as disposition_rule
from ranked
{%- endmacro %}
