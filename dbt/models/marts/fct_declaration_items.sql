-- One row per goods item of a current declaration (grain: lrn, item_no).
select i.lrn, i.item_no, i.item_record_id, i.hs_code, i.hs6, i.hs_code_declared,
    i.hs_version_declared, i.description, i.origin_country, i.procedure_code, i.customs_value,
    i.value_currency, i.customs_value_national, i.exchange_rate_used, i.gross_mass_kg,
    i.net_mass_kg, i.quantity, i.quantity_unit, i.quantity_tariff_unit, i.tariff_unit,
    i.packages, i.office_code, i.importer_id, i.declarant_id, to_date(i.issue_datetime) as issue_date,
    case when i.quantity_tariff_unit > 0
         then cast(i.customs_value_national / i.quantity_tariff_unit as decimal(38,6)) end as unit_value_national,
    i.flags
from {{ ref('int_cms__declaration_items') }} i
