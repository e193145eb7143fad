{#- A model's schema is its zone (silver, gold) as configured, not dbt's target_custom. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
