{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
-- One row per bronze declaration message (originals, amendments and resent copies alike):
-- types cast, codes trimmed and upper-cased, parties flattened, natural persons pseudonymized.
with src as (
    select *,
        {{ first_party('parties', 'IM') }} as p_im,
        {{ first_party('parties', 'DT') }} as p_dt,
        {{ first_party('parties', 'EX') }} as p_ex
    from {{ source('bronze', 'cms_declarations') }}
    {{ new_batches_only() }}
)
select
    {{ record_id() }} as record_id,
    nullif(trim(lrn), '') as lrn,
    {{ code('declaration_type') }} as declaration_type,
    {{ code('declaration_type_ext') }} as declaration_type_ext,
    coalesce({{ code('message_function') }}, '9') as message_function,
    issue_datetime,
    {{ code('procedure_code') }} as procedure_code,
    {{ code('office_code') }} as office_code,
    {{ code('country_of_dispatch') }} as country_of_dispatch,
    {{ code('country_of_destination') }} as country_of_destination,
    {{ code('transport_mode') }} as transport_mode,
    {{ code('transport_id') }} as transport_id,
    {{ code('delivery_terms') }} as delivery_terms,
    invoice_amount,
    {{ code('invoice_currency') }} as invoice_currency,
    exchange_rate,
    total_duty,
    {{ code('total_duty_currency') }} as total_duty_currency,
    {{ party_id('p_im') }} as importer_id,
    {{ party_name('p_im') }} as importer_name,
    p_im.id rlike '{{ var("natural_person_id_regex") }}' as importer_is_natural_person,
    {{ party_id('p_dt') }} as declarant_id,
    {{ party_name('p_dt') }} as declarant_name,
    {{ party_id('p_ex') }} as exporter_id,
    {{ party_name('p_ex') }} as exporter_name,
    {{ code('p_ex.country') }} as exporter_country,
    size(items) as n_items,
    -- What makes two messages the same message: a resent copy has the same content.
    sha2(to_json(struct(lrn, message_function, issue_datetime, office_code, invoice_amount,
        invoice_currency, exchange_rate, parties, items, declaration_taxes)), 256) as content_hash,
    {{ code('syntax') }} as syntax,
    {{ provenance() }}
from src
