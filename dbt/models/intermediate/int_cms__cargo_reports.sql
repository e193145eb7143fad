{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
{{ with_dispositions(ref('stg_cms__cargo_reports'), 'document_number, message_function, issue_datetime', ['document_number']) }}
