-- One row per current declaration (grain: lrn).
select d.lrn, d.mrn, d.status, d.status_at, d.released_at, d.selected_for_inspection,
    d.declaration_type, d.declaration_type_ext, d.procedure_code, d.issue_datetime, d.issue_date,
    d.office_code, d.country_of_dispatch, d.country_of_destination, d.transport_mode,
    d.delivery_terms, d.invoice_amount, d.invoice_currency, d.exchange_rate,
    d.invoice_amount_national, d.importer_id, d.importer_is_natural_person, d.declarant_id,
    d.exporter_id, d.exporter_country, d.n_items, d.message_function, d.n_versions, d.n_resent,
    r.declared_taxes, r.assessed, r.collected, r.gap, r.underpaid, r.overpaid,
    concat(d.flags, coalesce(r.revenue_flags, array()), coalesce(i.item_flags, array())) as flags
from {{ ref('int_cms__declarations') }} d
left join {{ ref('int_revenue__declarations') }} r on r.lrn = d.lrn
left join (
    select lrn, flatten(collect_list(flags)) as item_flags
    from {{ ref('int_cms__declaration_items') }} group by lrn
) i on i.lrn = d.lrn
