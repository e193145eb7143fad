-- One row per transit trip (grain: trip_id) with its anomalies and its declaration.
select t.*, d.lrn, d.importer_id, d.declarant_id
from {{ ref('int_ects__trips') }} t
left join {{ ref('int_cms__declarations') }} d on d.mrn = t.mrn
