{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
{{ with_dispositions(ref('stg_cms__inspection_outcomes'), 'inspection_id', ['inspection_id', 'lrn']) }}
