-- One row per current declaration (grain: lrn): item aggregates, trader and route keys, trip
-- anomalies, payment behaviour, and the labels where an inspection outcome exists.
with items as (
    select lrn, count(*) as n_items, count(distinct hs6) as n_hs6,
        count(distinct origin_country) as n_origins,
        sum(customs_value_national) as value_national,
        sum(net_mass_kg) as net_mass_kg,
        min(unit_value_national) as min_unit_value_national,
        max(case when hs_version_declared = 'HS2017' then 1 else 0 end) as has_hs2017_code,
        max(size(flags)) as max_item_flags
    from {{ ref('fct_declaration_items') }} group by lrn
),
labels as (
    select lrn, max_by(result, inspected_at) as inspection_result,
        max_by(channel, inspected_at) as inspection_channel,
        sum(additional_duty) as additional_duty
    from {{ ref('fct_inspections') }} group by lrn
),
history as (
    select importer_id, count(*) as importer_declarations
    from {{ ref('int_cms__declarations') }} group by importer_id
),
trips as (
    select mrn, max(cast(anomaly_seal_opened_outside_approved_place as int)) as trip_seal_anomaly,
        max(cast(anomaly_route_deviation as int)) as trip_route_deviation,
        max(cast(anomaly_long_stop as int)) as trip_long_stop,
        max(cast(anomaly_device_silent as int)) as trip_device_silent,
        max(distance_km) as trip_distance_km
    from {{ ref('fct_transit_trips') }} group by mrn
)
select d.lrn, d.mrn, d.issue_date, d.office_code, d.procedure_code, d.transport_mode,
    d.country_of_dispatch, d.importer_id, d.declarant_id, d.exporter_country,
    concat_ws('>', d.country_of_dispatch, d.office_code, d.country_of_destination) as route_key,
    d.importer_is_natural_person, h.importer_declarations,
    i.n_items, i.n_hs6, i.n_origins, i.value_national, i.net_mass_kg, i.min_unit_value_national,
    i.has_hs2017_code, i.max_item_flags, d.n_versions, d.n_resent,
    d.declared_taxes, d.assessed, d.collected, d.gap,
    cast(d.underpaid as int) as underpaid, cast(d.overpaid as int) as overpaid,
    t.trip_seal_anomaly, t.trip_route_deviation, t.trip_long_stop, t.trip_device_silent,
    t.trip_distance_km,
    l.inspection_result is not null as has_label,
    l.inspection_result, l.inspection_channel, l.additional_duty,
    case when l.inspection_result is null then null
         when l.inspection_result = 'compliant' then 0 else 1 end as label_non_compliant
from {{ ref('fct_declarations') }} d
left join items i on i.lrn = d.lrn
left join labels l on l.lrn = d.lrn
left join history h on h.importer_id = d.importer_id
left join trips t on t.mrn = d.mrn
