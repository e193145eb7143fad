-- Rule 7: per current declaration, duty and taxes assessed (as declared, and as Customs
-- assessed them in its latest response with taxes) against money collected (ERP payments net
-- of refunds; receipts only acknowledge a payment), all in the national currency.
with decl as (select * from {{ ref('int_cms__declarations') }}),
declared as (
    select t.lrn, sum(
        case when t.currency is null or t.currency = '{{ var("national_currency") }}' then t.amount
             when t.currency = d.invoice_currency then t.amount * d.exchange_rate_used end) as amount
    from {{ ref('stg_cms__declaration_tax_lines') }} t
    join decl d on d.record_id = t.record_id
    where t.level = 'item' or not exists (
        select 1 from {{ ref('stg_cms__declaration_tax_lines') }} i
        where i.record_id = t.record_id and i.level = 'item')
    group by t.lrn
),
latest_assessment as (
    select lrn, record_id from (
        select lrn, record_id, row_number() over (partition by lrn order by issue_datetime desc, record_id) as r
        from {{ ref('stg_cms__response_tax_lines') }}) where r = 1
),
assessed as (
    select t.lrn, sum(t.amount) as amount
    from {{ ref('stg_cms__response_tax_lines') }} t
    join latest_assessment a on a.record_id = t.record_id
    where t.currency is null or t.currency = '{{ var("national_currency") }}'
    group by t.lrn
),
money as (
    select lrn,
        sum(case when kind = 'refund' then 0 else amount end) filter (where kind <> 'receipt') as paid,
        sum(case when kind = 'refund' then amount else 0 end) as refunded,
        max(value_date) as last_value_date
    from {{ ref('int_erp__payments') }}
    where disposition = 'kept' and (currency is null or currency = '{{ var("national_currency") }}')
    group by lrn
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
    m.last_value_date
from decl d
left join declared x on x.lrn = d.lrn
left join assessed a on a.lrn = d.lrn
left join money m on m.lrn = d.lrn
