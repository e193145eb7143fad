{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
-- One row per inspection outcome; times in UTC (senders' offsets were applied at parse time).
select
    {{ record_id() }} as record_id,
    nullif(trim(inspection_id), '') as inspection_id,
    nullif(trim(lrn), '') as lrn,
    {{ code('office_code') }} as office_code,
    {{ code('officer_id') }} as officer_id,
    inspected_at,
    lower(trim(channel)) as channel,
    lower(trim(result)) as result,
    findings,
    additional_duty,
    {{ code('currency') }} as currency,
    {{ provenance() }}
from {{ source('bronze', 'cms_inspection_outcomes') }}
{{ new_batches_only() }}
