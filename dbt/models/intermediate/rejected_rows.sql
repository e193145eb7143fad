-- Every bronze record silver rejected, with the rule (and field) that rejected it; resent
-- duplicates and superseded versions are counted in record_dispositions.
--
-- Incremental (merge on the record): a record is rejected for a required value missing in
-- its own row (record ids name one bronze row, which never changes), so a rejected record
-- stays rejected with the same rule, field and value, and no other record ever becomes one.
-- A night adds the rejected records of batches above the highest one held: bronze batch ids
-- are one growing sequence, so every record new since the last run is above it.
{{ config(materialized='incremental', incremental_strategy='merge',
          unique_key=['source_table', 'record_id']) }}
select d.source_table, d.record_id, d.disposition, d.rule, d.field, d.value, d.batch_id
from {{ ref('record_dispositions') }} d
where d.disposition = 'rejected'
{%- if is_incremental() %}
  and d.batch_id > (select coalesce(max(batch_id), -1) from {{ this }})
{%- endif %}
