{#- int_ects__trips: a CTE restricted to the affected trips on an incremental run (the model's
    `affected` CTE, broadcast: macros/dispositions.sql says why), else all of it. A macro file,
    not the model's own: dbt renders a model's calls with the project's macros only. -#}
{% macro affected_trips_only(cte) -%}
{%- if is_incremental() -%}
(select /*+ BROADCAST(a) */ x.* from {{ cte }} x left semi join affected a on a.trip_id = x.trip_id)
{%- else -%}
{{ cte }}
{%- endif -%}
{%- endmacro %}
