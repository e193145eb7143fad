{#- A key column is unique and never null, checked in one query (one Spark job instead of
    two per key: on a small shared machine each test costs a job). -#}
{% test primary_key(model, column_name) %}
select {{ column_name }}, count(*) as n
from {{ model }}
group by {{ column_name }}
having count(*) > 1 or {{ column_name }} is null
{% endtest %}
