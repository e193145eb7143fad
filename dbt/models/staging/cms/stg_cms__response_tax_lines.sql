{{ config(materialized='incremental', incremental_strategy='merge', unique_key='tax_line_id') }}
-- One row per tax line a customs response assessed.
select
    {{ record_id('tax_pos') }} as tax_line_id,
    {{ record_id() }} as record_id,
    nullif(trim(document_number), '') as mrn,
    nullif(trim(declaration_ref), '') as lrn,
    issue_datetime,
    {{ code('tax.tax_type') }} as tax_type,
    tax.amount,
    {{ code('tax.currency') }} as currency,
    _ingest.batch_id as batch_id
from (
    select *, posexplode(taxes) as (tax_pos, tax)
    from {{ source('bronze', 'cms_responses') }}
    {{ new_batches_only() }}
)
