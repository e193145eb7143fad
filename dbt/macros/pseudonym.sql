{#- Rule 5: a personal value's keyed hash (HMAC-SHA256, hex). The function is registered on the
    session by lakehouse.transform with the key from LAKEHOUSE_PSEUDONYM_KEY, so the key never
    appears in SQL, compiled files or logs. Unit tests switch to lakehouse_pseudonym_test (the
    same HMAC under a public test key) so their expected rows can be literal. Null stays null; blanks are trimmed first so the same
    person gets the same pseudonym whatever padding a sender used. -#}
{% macro pseudonym(expr) -%}
    {{ var('pseudonym_function', 'lakehouse_pseudonym') }}(nullif(trim({{ expr }}), ''))
{%- endmacro %}

{% macro code(expr) -%}
    nullif(upper(trim({{ expr }})), '')
{%- endmacro %}
