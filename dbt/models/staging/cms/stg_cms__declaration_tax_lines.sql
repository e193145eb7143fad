{{ config(materialized='incremental', incremental_strategy='merge', unique_key='tax_line_id') }}
-- One row per tax line of every bronze declaration message: the items' lines (item_no set)
-- and the declaration-level lines (item_no null).
with decl as (
    select * from {{ source('bronze', 'cms_declarations') }}
    {{ new_batches_only() }}
),
item_lines as (
    select _ingest, lrn, item.item_no as item_no, posexplode(item.taxes) as (tax_pos, tax), 'item' as level, item_pos
    from (select _ingest, lrn, posexplode(items) as (item_pos, item) from decl)
),
decl_lines as (
    select _ingest, lrn, cast(null as int) as item_no, tax_pos, tax, 'declaration' as level, -1 as item_pos
    from (select _ingest, lrn, posexplode(declaration_taxes) as (tax_pos, tax) from decl)
),
lines as (select * from item_lines union all select * from decl_lines)
select
    {{ record_id("concat(level, ':', item_pos, ':', tax_pos)") }} as tax_line_id,
    {{ record_id() }} as record_id,
    nullif(trim(lrn), '') as lrn,
    level,
    item_no,
    {{ code('tax.tax_type') }} as tax_type,
    {{ code('tax.tax_category') }} as tax_category,
    tax.rate,
    tax.base_amount,
    tax.amount,
    {{ code('tax.currency') }} as currency,
    _ingest.batch_id as batch_id
from lines
