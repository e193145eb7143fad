{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
-- One row per officer per HR sync; national id, name, e-mail and birth date pseudonymized.
select
    {{ record_id() }} as record_id,
    {{ code('officer_id') }} as officer_id,
    {{ pseudonym('national_id') }} as national_id_pseudonym,
    {{ pseudonym('full_name') }} as full_name_pseudonym,
    {{ pseudonym('lower(email)') }} as email_pseudonym,
    {{ pseudonym('cast(date_of_birth as string)') }} as date_of_birth_pseudonym,
    {{ code('grade') }} as grade,
    hired_on,
    active,
    {{ provenance() }}
from {{ source('bronze', 'hr_officers') }}
{{ new_batches_only() }}
