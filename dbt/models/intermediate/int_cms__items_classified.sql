-- Rule 2 (HS codes): the current versions' goods items with the code normalized (digits only;
-- 6, 8 or 10 digits) and an HS 2017 subheading mapped to HS 2022 through the correlation seed,
-- keeping the national digits after the subheading. A subheading split in 2022 maps to the
-- candidate most often declared with the same national digits (flagged as ambiguous).
-- An invalid code is flagged, never dropped.
--
-- The items x versions join is read once: Spark computes a CTE again for every reference, and
-- this is the largest input of the project. An HS 2017 item becomes one row per HS 2022
-- candidate (the seed is small); a candidate's popularity is a window count of the HS 2022
-- items declared under the same code, taken over the same rows, so no second pass is needed.
--
-- Incremental (a Delta merge on item_record_id that can delete: macros/merge_delete.sql).
-- An item's row reads its own code, its version being current, and, for an HS 2017 code
-- only, how often each candidate is declared across all current items (global). A night
-- recomputes (a) every item of the touched LRNs (macros/touched_lrns.sql: the only LRNs
-- whose current version can change), deleting those no longer current, and (b) every HS 2017
-- item held, with the candidates' counts after this night: the held HS 2022 items outside
-- the touched LRNs plus the touched LRNs' current ones. Nothing else can change, so the
-- merged table is the one a full build gives. HS 2017 items are a small share of all items.
{{ config(materialized='incremental', incremental_strategy='merge', unique_key='item_record_id',
          merge_delete_flag='_deleted') }}
-- depends_on: {{ ref('stg_cms__declarations') }}, {{ ref('stg_cms__responses') }}
with {% if is_incremental() -%}
touched as ({{ touched_lrns([ref('stg_cms__declarations'), ref('stg_cms__responses')]) }}),
-- Broadcast filters (macros/dispositions.sql: why): every item of the touched LRNs, current
-- or not (a held one that is not current any more is deleted), and the held HS 2017 items.
scope as (
    select /*+ BROADCAST(t, k) */ i.*
    from {{ ref('stg_cms__declaration_items') }} i
    left join (select lrn, true as hit from touched) t on t.lrn <=> i.lrn
    left join (
        select item_record_id, true as hit from {{ this }} where hs_version_declared = 'HS2017'
    ) k on k.item_record_id = i.item_record_id
    where t.hit or k.hit
),
{% endif -%}
items as (
    select i.*, regexp_replace(coalesce(i.hs_code_declared, ''), '[^0-9]', '') as hs_digits
        {%- if is_incremental() %}, v.record_id is null as _deleted{% endif %}
    {% if is_incremental() -%}
    from scope i
    left join {{ ref('int_cms__declaration_versions') }} v
    {%- else -%}
    from {{ ref('stg_cms__declaration_items') }} i
    join {{ ref('int_cms__declaration_versions') }} v
    {%- endif %}
      on v.record_id = i.record_id and v.disposition = 'current'
),
valid as (
    select *, length(hs_digits) in (6, 8, 10) as hs_valid from items
),
expanded as (
    select v.*, concat(c.hs2022, substr(v.hs_digits, 7)) as candidate
    from valid v
    left join {{ ref('hs_correlation_2017_2022') }} c
      on v.hs_valid and c.hs2017 = substr(v.hs_digits, 1, 6)
),
{% if is_incremental() -%}
-- How often each HS 2022 national line is declared after this night: the held HS 2022 items
-- outside the touched LRNs, plus the touched LRNs' current HS 2022 items.
declared as (
    select code, sum(n) as n from (
        select /*+ BROADCAST(t) */ c.hs_code as code, count(*) as n
        from {{ this }} c left anti join touched t on t.lrn <=> c.lrn
        where c.hs_version_declared = 'HS2022'
        group by c.hs_code
        union all
        select hs_digits, count(*) from expanded
        where hs_valid and candidate is null and not _deleted
        group by hs_digits
    ) counted group by code
),
scored as (
    select e.*, coalesce(d.n, 0) as n
    from expanded e left join declared d on d.code = e.candidate
),
{%- else %}
-- How often each HS 2022 national line is declared (valid codes outside the HS 2017 list).
scored as (
    select *,
        count(case when hs_valid and candidate is null then 1 end)
            over (partition by coalesce(candidate, hs_digits)) as n
    from expanded
),
{%- endif %}
picked as (
    select *,
        count(candidate) over (partition by item_record_id) as n_candidates,
        row_number() over (partition by item_record_id order by n desc, candidate) as pick
    from scored
)
select * except (candidate, n, n_candidates, pick{{ ', _deleted' if is_incremental() }}),
    case when not hs_valid then null else coalesce(candidate, hs_digits) end as hs_code,
    case when hs_valid then substr(coalesce(candidate, hs_digits), 1, 6) end as hs6,
    case when candidate is not null then 'HS2017' when hs_valid then 'HS2022' end as hs_version_declared,
    array_compact(array(
        case when not hs_valid then concat('hs_invalid items[', item_no, '].hs_code: ',
             coalesce(hs_code_declared, 'null'), ' is not 6, 8 or 10 digits') end,
        case when candidate is not null then concat('hs2017_mapped items[', item_no, '].hs_code: ',
             hs_code_declared, ' -> ', candidate) end,
        case when n_candidates > 1 then concat('hs2017_ambiguous items[', item_no,
             '].hs_code: ', hs_code_declared, ' split into ', n_candidates, ' HS 2022 codes') end
    )) as hs_flags
    {%- if is_incremental() %}, _deleted{% endif %}
from picked
where pick = 1
