{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
select
    {{ record_id() }} as record_id,
    nullif(trim(shift_id), '') as shift_id,
    {{ code('officer_id') }} as officer_id,
    {{ code('office_code') }} as office_code,
    shift_start,
    shift_end,
    {{ provenance() }}
from {{ source('bronze', 'hr_shifts') }}
{{ new_batches_only() }}
