{#- Seeds live at a location in the lake (external tables), so dbt-spark's reload, which drops
    the table and creates it again, would find the old rows still at that location and add
    the new ones to them. Empty the Delta table first (a delete commit: time travel keeps the
    old rows), then let dbt-spark drop and re-create the entry over the now empty table. -#}
{% macro spark__reset_csv_table(model, full_refresh, old_relation, agate_table) %}
    {% if old_relation %}
        {% do run_query('delete from ' ~ old_relation) %}
        {{ adapter.drop_relation(old_relation) }}
    {% endif %}
    {% set sql = create_csv_table(model, agate_table) %}
    {{ return(sql) }}
{% endmacro %}
