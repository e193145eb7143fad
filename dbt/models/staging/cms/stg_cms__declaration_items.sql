{{ config(materialized='incremental', incremental_strategy='merge', unique_key='item_record_id') }}
-- One row per goods item of every bronze declaration message.
with src as (
    select _ingest, flags, lrn, issue_datetime, posexplode(items) as (pos, item)
    from {{ source('bronze', 'cms_declarations') }}
    {{ new_batches_only() }}
)
select
    {{ record_id('pos') }} as item_record_id,
    {{ record_id() }} as record_id,
    nullif(trim(lrn), '') as lrn,
    coalesce(item.item_no, pos + 1) as item_no,
    trim(item.hs_code) as hs_code_declared,
    {{ code('item.hs_code_list') }} as hs_code_list,
    {{ code('item.procedure_code') }} as procedure_code,
    trim(item.description) as description,
    {{ code('item.origin_country') }} as origin_country,
    item.customs_value,
    {{ code('item.value_currency') }} as value_currency,
    item.statistical_value,
    item.gross_mass,
    item.net_mass,
    {{ code('item.mass_unit') }} as mass_unit,
    item.quantity,
    {{ code('item.quantity_unit') }} as quantity_unit,
    item.packages,
    {{ provenance() }}
from src
