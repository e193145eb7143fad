{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
-- One row per bronze tracking event as received (devices resend: rule 6 deduplicates).
select
    {{ record_id() }} as record_id,
    nullif(trim(event_id), '') as event_id,
    nullif(trim(trip_id), '') as trip_id,
    {{ code('device_id') }} as device_id,
    {{ code('vehicle_id') }} as vehicle_id,
    {{ code('seal_id') }} as seal_id,
    lower(trim(event_type)) as event_type,
    event_time,
    latitude,
    longitude,
    speed_kmh,
    battery_pct,
    nullif(trim(mrn), '') as mrn,
    {{ code('office_of_departure') }} as office_of_departure,
    {{ code('office_of_destination') }} as office_of_destination,
    {{ provenance() }}
from {{ source('bronze', 'ects_events') }}
{{ new_batches_only() }}
