-- One row per inspection outcome (grain: inspection_id) joined to its declaration.
select o.inspection_id, o.lrn, d.mrn, o.office_code, o.officer_id, o.inspected_at,
    o.channel, o.result, o.findings, size(o.findings) as n_findings, o.additional_duty,
    o.currency, d.importer_id, d.declarant_id, d.issue_datetime as declared_at,
    d.lrn is not null as declaration_found
from {{ ref('int_cms__inspection_outcomes') }} o
left join {{ ref('int_cms__declarations') }} d on d.lrn = o.lrn
where o.disposition = 'kept'
