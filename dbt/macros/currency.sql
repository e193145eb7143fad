{#- Rule 3: an amount in the national currency. The declared rate (national currency per unit)
    is used when the amount is in the declared currency; otherwise, or when no rate was
    declared, the dated reference rate (`ref_rate`, joined with `reference_rate_join`). A
    declared rate further than the tolerance from the reference rate is flagged, as is a
    currency with no reference rate. Emits amount_national, rate_used, fx_no_reference_rate,
    fx_out_of_tolerance and fx_flags. -#}
{% macro to_national(amount, currency, declared_rate, declared_currency, ref_rate, path) -%}
    {%- set nat = "'" ~ var("national_currency") ~ "'" -%}
    {%- set rate -%}
        case when {{ currency }} = {{ nat }} then 1
             else coalesce(case when {{ currency }} = {{ declared_currency }} then {{ declared_rate }} end,
                           {{ ref_rate }}) end
    {%- endset -%}
    cast({{ amount }} * ({{ rate }}) as decimal(38,6)) as amount_national,
    {{ rate }} as rate_used,
    coalesce({{ currency }} is not null and {{ currency }} <> {{ nat }} and {{ ref_rate }} is null,
             false) as fx_no_reference_rate,
    coalesce({{ currency }} = {{ declared_currency }} and {{ currency }} <> {{ nat }}
             and abs({{ declared_rate }} / {{ ref_rate }} - 1) > {{ var("exchange_rate_tolerance") }},
             false) as fx_out_of_tolerance,
    array_compact(array(
        case when {{ currency }} is not null and {{ currency }} <> {{ nat }} and {{ ref_rate }} is null
             then concat('no_reference_rate {{ path }}: currency ', {{ currency }}) end,
        case when {{ currency }} = {{ declared_currency }} and {{ currency }} <> {{ nat }}
              and {{ declared_rate }} is not null and {{ ref_rate }} is not null
              and abs({{ declared_rate }} / {{ ref_rate }} - 1) > {{ var("exchange_rate_tolerance") }}
             then concat('rate_out_of_tolerance exchange_rate: declared ',
                         cast({{ declared_rate }} as string), ', reference ', cast({{ ref_rate }} as string)) end,
        case when {{ amount }} is not null and {{ currency }} is null
             then 'missing_currency {{ path }}: no currency given' end
    )) as fx_flags
{%- endmacro %}

{% macro reference_rate_join(alias, currency, at) -%}
    left join {{ ref('exchange_rates') }} {{ alias }}
      on {{ alias }}.currency = {{ currency }}
     and {{ alias }}.quote_currency = '{{ var("national_currency") }}'
     and to_date({{ at }}) between {{ alias }}.valid_from and {{ alias }}.valid_to
{%- endmacro %}
