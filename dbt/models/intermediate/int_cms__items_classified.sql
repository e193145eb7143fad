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
with items as (
    select i.*, regexp_replace(coalesce(i.hs_code_declared, ''), '[^0-9]', '') as hs_digits
    from {{ ref('stg_cms__declaration_items') }} i
    join {{ ref('int_cms__declaration_versions') }} v
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
-- How often each HS 2022 national line is declared (valid codes outside the HS 2017 list).
scored as (
    select *,
        count(case when hs_valid and candidate is null then 1 end)
            over (partition by coalesce(candidate, hs_digits)) as n
    from expanded
),
picked as (
    select *,
        count(candidate) over (partition by item_record_id) as n_candidates,
        row_number() over (partition by item_record_id order by n desc, candidate) as pick
    from scored
)
select * except (candidate, n, n_candidates, pick),
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
from picked
where pick = 1
