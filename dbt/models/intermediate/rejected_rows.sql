-- Every bronze record silver rejected, with the rule (and field) that rejected it; resent
-- duplicates and superseded versions are counted in record_dispositions.
select d.source_table, d.record_id, d.disposition, d.rule, d.field, d.value, d.batch_id
from {{ ref('record_dispositions') }} d
where d.disposition = 'rejected'
