-- Rules 3 and 4 on the classified items: values in the national currency (declared rate,
-- checked against the dated reference rate) and masses in kilograms, quantities in the
-- tariff line's unit (UN/ECE Rec. 20 factors). An unknown or unconvertible unit is flagged.
--
-- Incremental (a Delta merge on item_record_id that can delete: macros/merge_delete.sql).
-- An item's row reads its classified row, its declaration message, the seeds, and one
-- global: its tariff line's unit (int_tariff_lines, the unit most declared). A night
-- recomputes the items of the touched LRNs (held ones no longer classified, i.e. no longer
-- current, are deleted), every held HS 2017 item (int_cms__items_classified may have picked
-- another candidate for it), and every held item whose stored tariff_unit is not its tariff
-- line's unit now. Those are all the rows that can differ from a full build.
{{ config(materialized='incremental', incremental_strategy='merge', unique_key='item_record_id',
          merge_delete_flag='_deleted') }}
-- depends_on: {{ ref('stg_cms__responses') }}
with {% if is_incremental() -%}
touched as ({{ touched_lrns([ref('stg_cms__declarations'), ref('stg_cms__responses')]) }}),
keys as (
    select /*+ BROADCAST(t, tl) */ h.item_record_id
    from {{ this }} h
    left join (select lrn, true as hit from touched) t on t.lrn <=> h.lrn
    left join {{ ref('int_tariff_lines') }} tl on tl.hs_code = h.hs_code
    where t.hit or h.hs_version_declared = 'HS2017' or not (h.tariff_unit <=> tl.tariff_unit)
    union
    select /*+ BROADCAST(t) */ c.item_record_id
    from {{ ref('int_cms__items_classified') }} c left semi join touched t on t.lrn <=> c.lrn
),
classified as (
    select /*+ BROADCAST(k) */ c.* from {{ ref('int_cms__items_classified') }} c
    left semi join keys k on k.item_record_id = c.item_record_id
),
{% endif -%}
i as (
    {% if is_incremental() -%}
    select c.* except (item_record_id), k.item_record_id, c.item_record_id is null as _deleted,
        d.exchange_rate, d.invoice_currency, d.issue_datetime, d.office_code,
        d.importer_id, d.declarant_id
    from keys k
    left join classified c on c.item_record_id = k.item_record_id
    left join (
        select /*+ BROADCAST(r) */ s.* from {{ ref('stg_cms__declarations') }} s
        left semi join (select distinct record_id from classified) r on r.record_id = s.record_id
    ) d on d.record_id = c.record_id
    {%- else -%}
    select c.*, d.exchange_rate, d.invoice_currency, d.issue_datetime, d.office_code,
        d.importer_id, d.declarant_id
    from {{ ref('int_cms__items_classified') }} c
    join {{ ref('stg_cms__declarations') }} d on d.record_id = c.record_id
    {%- endif %}
),
-- One chain (items -> reference rate -> units), not CTEs joined back by item id: the items
-- and their declarations are read and joined once.
fx as (
    select i.*,
        {{ to_national('i.customs_value', 'coalesce(i.value_currency, i.invoice_currency)',
                       'i.exchange_rate', 'i.invoice_currency', 'xr.rate',
                       "items[' || i.item_no || '].customs_value") }}
    from i {{ reference_rate_join('xr', 'coalesce(i.value_currency, i.invoice_currency)', 'i.issue_datetime') }}
),
u as (
    select fx.*, t.tariff_unit,
        mu.factor_to_base as mass_factor, mu.quantity_kind as mass_kind,
        qu.factor_to_base as qty_factor, qu.quantity_kind as qty_kind,
        tu.factor_to_base as tariff_factor, tu.quantity_kind as tariff_kind
    from fx
    left join {{ ref('int_tariff_lines') }} t on t.hs_code = fx.hs_code
    left join {{ ref('unece_rec20_units') }} mu on mu.code = coalesce(fx.mass_unit, 'KGM')
    left join {{ ref('unece_rec20_units') }} qu on qu.code = fx.quantity_unit
    left join {{ ref('unece_rec20_units') }} tu on tu.code = t.tariff_unit
)
select
    i.item_record_id, i.record_id, i.lrn, i.item_no, i.hs_code_declared, i.hs_code, i.hs6,
    i.hs_version_declared, i.description, i.origin_country, i.procedure_code,
    i.customs_value, coalesce(i.value_currency, i.invoice_currency) as value_currency,
    i.amount_national as customs_value_national, i.rate_used as exchange_rate_used,
    i.gross_mass, i.net_mass, i.mass_unit,
    case when i.mass_kind = 'mass' then cast(i.gross_mass * i.mass_factor as decimal(38,6)) end as gross_mass_kg,
    case when i.mass_kind = 'mass' then cast(i.net_mass * i.mass_factor as decimal(38,6)) end as net_mass_kg,
    i.quantity, i.quantity_unit, i.tariff_unit,
    case when i.qty_kind = i.tariff_kind
         then cast(i.quantity * i.qty_factor / i.tariff_factor as decimal(38,6)) end as quantity_tariff_unit,
    i.packages, i.office_code, i.importer_id, i.declarant_id, i.issue_datetime,
    i.fx_out_of_tolerance as rate_out_of_tolerance,
    coalesce((i.mass_kind is null and (i.gross_mass is not null or i.net_mass is not null))
             or (i.quantity_unit is not null and i.qty_kind is null), false) as unit_unknown,
    coalesce(i.qty_kind <> i.tariff_kind, false) as unit_incompatible,
    concat(coalesce(i.hs_flags, array()), i.fx_flags, array_compact(array(
        case when i.mass_kind is null and (i.gross_mass is not null or i.net_mass is not null)
             then concat('unit_unknown items[', i.item_no, '].mass_unit: ', coalesce(i.mass_unit, 'null')) end,
        case when i.mass_kind is not null and i.mass_kind <> 'mass'
             then concat('unit_not_mass items[', i.item_no, '].mass_unit: ', i.mass_unit) end,
        case when i.quantity_unit is not null and i.qty_kind is null
             then concat('unit_unknown items[', i.item_no, '].quantity_unit: ', i.quantity_unit) end,
        case when i.qty_kind is not null and i.tariff_kind is not null and i.qty_kind <> i.tariff_kind
             then concat('unit_incompatible items[', i.item_no, '].quantity_unit: ', i.quantity_unit,
                         ' vs tariff unit ', i.tariff_unit) end
    ))) as flags,
    i.batch_id
    {%- if is_incremental() %}, i._deleted{% endif %}
from u i
