{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
-- One row per customs response (CUSRES): the MRN, the LRN it answers, its status and errors.
select
    {{ record_id() }} as record_id,
    nullif(trim(document_number), '') as mrn,
    nullif(trim(declaration_ref), '') as lrn,
    {{ code('response_type') }} as response_type,
    {{ code('message_function') }} as message_function,
    issue_datetime,
    {{ code('status') }} as status_code,
    transform(errors, e -> upper(trim(e.code))) as error_codes,
    {{ provenance() }}
from {{ source('bronze', 'cms_responses') }}
{{ new_batches_only() }}
