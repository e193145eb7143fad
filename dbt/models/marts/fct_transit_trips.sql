-- One row per transit trip (grain: trip_id) with its anomalies and its declaration.
-- An MRN names one declaration; should a source ever send two current declarations with the
-- same MRN, the trip keeps the latest (then the lowest LRN), so the grain holds.
with decl as (
    select mrn, lrn, importer_id, declarant_id,
        row_number() over (partition by mrn order by issue_date desc, lrn) as nth
    from {{ ref('int_cms__declarations') }}
    where mrn is not null
)
-- batch_id is int_ects__trips' incremental watermark, not a fact of the trip.
select t.* except (batch_id), d.lrn, d.importer_id, d.declarant_id
from {{ ref('int_ects__trips') }} t
left join decl d on d.mrn = t.mrn and d.nth = 1
