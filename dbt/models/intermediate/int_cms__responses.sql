{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
-- Customs responses: one per (MRN, LRN, status, time); a repeated response is a duplicate.
{{ with_dispositions(ref('stg_cms__responses'), 'mrn, lrn, status_code, issue_datetime', ['lrn', 'status_code']) }}
