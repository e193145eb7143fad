{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
select
    {{ record_id() }} as record_id,
    nullif(trim(posting_id), '') as posting_id,
    {{ code('officer_id') }} as officer_id,
    {{ code('office_code') }} as office_code,
    lower(trim(role)) as role,
    start_date,
    end_date,
    {{ provenance() }}
from {{ source('bronze', 'hr_postings') }}
{{ new_batches_only() }}
