-- One row per current declaration: the current version's header, its MRN and latest status,
-- and (rule 3) its invoice amount in the national currency.
-- Incremental per LRN (macros/touched_lrns.sql): a night recomputes the LRNs of its batches.
{{ config(materialized='incremental', incremental_strategy='merge', unique_key='lrn') }}
-- depends_on: {{ ref('stg_cms__responses') }}
with {% if is_incremental() -%}
touched as ({{ touched_lrns([ref('stg_cms__declarations'), ref('stg_cms__responses')]) }}),
{% endif -%}
cur as (
    select s.* from {{ lrn_scoped(ref('stg_cms__declarations')) }} s
    join {{ lrn_scoped(ref('int_cms__declaration_versions')) }} v
      on v.record_id = s.record_id and v.disposition = 'current'
),
counts as (
    select lrn, count(*) filter (where disposition in ('current', 'superseded')) as n_versions,
        count(*) filter (where disposition = 'duplicate') as n_resent
    from {{ lrn_scoped(ref('int_cms__declaration_versions')) }} group by lrn
),
-- The reference rate joined onto the current versions themselves (not a second CTE joined
-- back by record_id): the staged declarations are read once.
fx as (
    select cur.*, xr.rate as reference_rate,
        {{ to_national('cur.invoice_amount', 'cur.invoice_currency', 'cur.exchange_rate',
                       'cur.invoice_currency', 'xr.rate', 'invoice_amount') }}
    from cur
    {{ reference_rate_join('xr', 'cur.invoice_currency', 'cur.issue_datetime') }}
)
select
    cur.lrn, st.mrn, coalesce(st.status, 'lodged') as status, st.status_at, st.released_at,
    coalesce(st.selected_for_inspection, false) as selected_for_inspection,
    cur.record_id, cur.message_function, cur.declaration_type, cur.declaration_type_ext,
    cur.issue_datetime, to_date(cur.issue_datetime) as issue_date, cur.procedure_code,
    cur.office_code, cur.country_of_dispatch, cur.country_of_destination, cur.transport_mode,
    cur.transport_id, cur.delivery_terms, cur.invoice_amount, cur.invoice_currency,
    cur.exchange_rate, cur.amount_national as invoice_amount_national,
    cur.rate_used as exchange_rate_used, cur.reference_rate,
    cur.fx_out_of_tolerance as rate_out_of_tolerance, cur.fx_no_reference_rate as no_reference_rate,
    cur.importer_id, cur.importer_name, cur.importer_is_natural_person,
    cur.declarant_id, cur.declarant_name, cur.exporter_id, cur.exporter_name,
    cur.exporter_country, cur.n_items, counts.n_versions, counts.n_resent,
    concat(coalesce(cur.bronze_flags, array()), cur.fx_flags) as flags, cur.batch_id
from fx cur
join counts on counts.lrn = cur.lrn
left join {{ lrn_scoped(ref('int_cms__declaration_status')) }} st on st.lrn = cur.lrn
