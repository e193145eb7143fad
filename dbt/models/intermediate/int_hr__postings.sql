{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
{{ with_dispositions(ref('stg_hr__postings'), 'posting_id', ['posting_id', 'officer_id'], later_supersedes=true) }}
