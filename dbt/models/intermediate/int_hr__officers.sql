{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
-- The latest HR sync's record per officer; earlier syncs' records are superseded.
{{ with_dispositions(ref('stg_hr__officers'), 'officer_id', ['officer_id'], later_supersedes=true) }}
