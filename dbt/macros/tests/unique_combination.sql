{#- The grain test: no two rows share the given columns (what dbt_utils offers, without a
    package download at build time). -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
