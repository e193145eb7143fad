-- Rule 7: per current declaration, duty and taxes assessed (as declared, and as Customs
-- assessed them in its latest response with taxes) against money collected (ERP payments net
-- of refunds; receipts only acknowledge a payment), all in the national currency.
-- Incremental per LRN (macros/touched_lrns.sql): a night recomputes the LRNs of its batches
-- (declarations and their tax lines, responses and theirs, payments); batch_id is the
-- current declaration version's.
{{ config(materialized='incremental', incremental_strategy='merge', unique_key='lrn') }}
-- depends_on: {{ ref('stg_cms__declarations') }}, {{ ref('stg_cms__responses') }}
with {% if is_incremental() -%}
touched as ({{ touched_lrns([ref('stg_cms__declarations'), ref('stg_cms__responses'),
                             ref('int_erp__payments')]) }}),
{% endif -%}
decl as (select * from {{ lrn_scoped(ref('int_cms__declarations')) }}),
-- A tax line in the national currency counts as is; in the invoice's currency at the
-- declaration's rate; in any other currency at the dated reference rate. A line no rate
-- converts is never dropped silently: revenue_flags names it.
declared_lines as (
    select t.lrn, t.level, t.item_no, t.tax_type, t.amount, t.currency,
        case when t.currency is null or t.currency = '{{ var("national_currency") }}' then t.amount
             when t.currency = d.invoice_currency and d.exchange_rate_used is not null
                 then t.amount * d.exchange_rate_used
             else t.amount * xr.rate end as amount_national
    -- The items' lines; the declaration-level lines only for a message without item lines.
    -- (A window, not a NOT EXISTS over the same table: the tax lines are read once.)
    from (
        select *, bool_or(level = 'item') over (partition by record_id) as has_item_lines
        -- scoped too: a message's tax lines carry its LRN, so the window sees whole messages
        from {{ lrn_scoped(ref('stg_cms__declaration_tax_lines')) }}
    ) t
    join decl d on d.record_id = t.record_id
    {{ reference_rate_join('xr', 't.currency', 'd.issue_date') }}
    where t.level = 'item' or not t.has_item_lines
),
declared as (
    select lrn, sum(amount_national) as amount,
        collect_list(case when amount is not null and amount_national is null
            then concat('tax_unconverted ', case when level = 'item'
                        then concat('items[', item_no, '].taxes') else 'declaration_taxes' end,
                        ': ', coalesce(tax_type, 'null'), ' ', cast(cast(amount as decimal(38,2)) as string), ' ',
                        currency, ' has no exchange rate') end) as flags
    from declared_lines group by lrn
),
-- The lines of each LRN's latest response with taxes (one window: the lines are read once).
assessed_lines as (
    select t.lrn, t.tax_type, t.amount, t.currency,
        case when t.currency is null or t.currency = '{{ var("national_currency") }}' then t.amount
             else t.amount * xr.rate end as amount_national
    from (
        select *, first_value(record_id) over (
            partition by lrn order by issue_datetime desc, record_id) as latest_record_id
        from {{ lrn_scoped(ref('stg_cms__response_tax_lines')) }}
    ) t
    {{ reference_rate_join('xr', 't.currency', 't.issue_datetime') }}
    where t.record_id = t.latest_record_id
),
assessed as (
    select lrn, sum(amount_national) as amount,
        collect_list(case when amount is not null and amount_national is null
            then concat('tax_unconverted response taxes: ', coalesce(tax_type, 'null'), ' ',
                        cast(cast(amount as decimal(38,2)) as string), ' ', currency, ' has no exchange rate') end) as flags
    from assessed_lines group by lrn
),
-- Money in a foreign currency is converted at the reference rate of its value date, like a
-- third-currency tax line; a payment no rate converts is named in revenue_flags, not dropped.
money_lines as (
    select p.lrn, p.kind, p.amount, p.currency, p.value_date,
        case when p.currency is null or p.currency = '{{ var("national_currency") }}' then p.amount
             else p.amount * xr.rate end as amount_national
    from {{ lrn_scoped(ref('int_erp__payments')) }} p
    {{ reference_rate_join('xr', 'p.currency', 'p.value_date') }}
    where p.disposition = 'kept'
),
money as (
    select lrn,
        sum(case when kind = 'refund' then 0 else amount_national end) filter (where kind <> 'receipt') as paid,
        sum(case when kind = 'refund' then amount_national else 0 end) as refunded,
        max(value_date) as last_value_date,
        collect_list(case when kind <> 'receipt' and amount is not null and amount_national is null
            then concat('payment_unconverted ', kind, ': ', cast(cast(amount as decimal(38,2)) as string),
                        ' ', currency, ' has no exchange rate') end) as flags
    from money_lines group by lrn
)
select d.lrn, d.mrn, d.office_code, d.issue_date,
    cast(coalesce(x.amount, 0) as decimal(38,2)) as declared_taxes,
    cast(a.amount as decimal(38,2)) as assessed_by_customs,
    cast(coalesce(a.amount, x.amount, 0) as decimal(38,2)) as assessed,
    cast(coalesce(m.paid, 0) as decimal(38,2)) as paid,
    cast(coalesce(m.refunded, 0) as decimal(38,2)) as refunded,
    cast(coalesce(m.paid, 0) - coalesce(m.refunded, 0) as decimal(38,2)) as collected,
    cast(coalesce(a.amount, x.amount, 0) - (coalesce(m.paid, 0) - coalesce(m.refunded, 0)) as decimal(38,2)) as gap,
    coalesce(a.amount, x.amount, 0) - (coalesce(m.paid, 0) - coalesce(m.refunded, 0))
        > {{ var('payment_tolerance') }} as underpaid,
    (coalesce(m.paid, 0) - coalesce(m.refunded, 0)) - coalesce(a.amount, x.amount, 0)
        > {{ var('payment_tolerance') }} as overpaid,
    m.last_value_date,
    concat(coalesce(x.flags, array()), coalesce(a.flags, array()), coalesce(m.flags, array())) as revenue_flags,
    d.batch_id
from decl d
left join declared x on x.lrn = d.lrn
left join assessed a on a.lrn = d.lrn
left join money m on m.lrn = d.lrn
