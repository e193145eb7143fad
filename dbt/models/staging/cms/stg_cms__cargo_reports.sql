{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
-- One row per cargo report (CUSCAR) with its consignment and container counts.
select
    {{ record_id() }} as record_id,
    nullif(trim(document_number), '') as document_number,
    {{ code('message_function') }} as message_function,
    issue_datetime,
    {{ code('transport_mode') }} as transport_mode,
    {{ code('conveyance_id') }} as conveyance_id,
    {{ code('carrier_id') }} as carrier_id,
    {{ code('place_of_loading') }} as place_of_loading,
    {{ code('place_of_discharge') }} as place_of_discharge,
    size(consignments) as n_consignments,
    size(equipment) as n_containers,
    {{ provenance() }}
from {{ source('bronze', 'cms_cargo_reports') }}
{{ new_batches_only() }}
