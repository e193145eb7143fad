{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
-- Rule 6 (first half): tracking events deduplicated on event_id (devices resend).
{{ with_dispositions(ref('stg_ects__events'), 'event_id', ['event_id', 'trip_id', 'event_time']) }}
