{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
-- One row per ERP money movement.
select
    {{ record_id() }} as record_id,
    nullif(trim(payment_id), '') as payment_id,
    lower(trim(kind)) as kind,
    nullif(trim(declaration_ref), '') as lrn,
    {{ code('tax_type') }} as tax_type,
    amount,
    {{ code('currency') }} as currency,
    {{ code('method') }} as method,
    value_date,
    recorded_at,
    {{ provenance() }}
from {{ source('bronze', 'erp_payments') }}
{{ new_batches_only() }}
