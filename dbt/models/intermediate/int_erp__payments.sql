{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
-- ERP money movements, one per payment_id (a resent record is a duplicate).
{{ with_dispositions(ref('stg_erp__payments'), 'payment_id', ['payment_id', 'amount', 'kind']) }}
