-- Rule 2 (HS codes): the current versions' goods items with the code normalized (digits only;
-- 6, 8 or 10 digits) and an HS 2017 subheading mapped to HS 2022 through the correlation seed,
-- keeping the national digits after the subheading. A subheading split in 2022 maps to the
-- candidate most often declared with the same national digits (flagged as ambiguous).
-- An invalid code is flagged, never dropped.
with items as (
    select i.*, regexp_replace(coalesce(i.hs_code_declared, ''), '[^0-9]', '') as hs_digits
    from {{ ref('stg_cms__declaration_items') }} i
    join {{ ref('int_cms__declaration_versions') }} v
      on v.record_id = i.record_id and v.disposition = 'current'
),
valid as (
    select *, length(hs_digits) in (6, 8, 10) as hs_valid from items
),
hs2017 as (select distinct hs2017 from {{ ref('hs_correlation_2017_2022') }}),
-- How often each HS 2022 national line is declared: decides between split candidates.
popularity as (
    select v.hs_digits as code, count(*) as n
    from valid v left anti join hs2017 h on h.hs2017 = substr(v.hs_digits, 1, 6)
    where v.hs_valid
    group by v.hs_digits
),
candidates as (
    select v.item_record_id, concat(c.hs2022, substr(v.hs_digits, 7)) as code,
        coalesce(p.n, 0) as n,
        count(*) over (partition by v.item_record_id) as n_candidates
    from valid v
    join {{ ref('hs_correlation_2017_2022') }} c on c.hs2017 = substr(v.hs_digits, 1, 6)
    left join popularity p on p.code = concat(c.hs2022, substr(v.hs_digits, 7))
    where v.hs_valid
),
mapped as (
    select item_record_id, code, n_candidates from (
        select *, row_number() over (partition by item_record_id order by n desc, code) as pick
        from candidates) where pick = 1
)
select v.*,
    case when not v.hs_valid then null else coalesce(m.code, v.hs_digits) end as hs_code,
    case when v.hs_valid then substr(coalesce(m.code, v.hs_digits), 1, 6) end as hs6,
    case when m.code is not null then 'HS2017' when v.hs_valid then 'HS2022' end as hs_version_declared,
    array_compact(array(
        case when not v.hs_valid then concat('hs_invalid items[', v.item_no, '].hs_code: ',
             coalesce(v.hs_code_declared, 'null'), ' is not 6, 8 or 10 digits') end,
        case when m.code is not null then concat('hs2017_mapped items[', v.item_no, '].hs_code: ',
             v.hs_code_declared, ' -> ', m.code) end,
        case when m.n_candidates > 1 then concat('hs2017_ambiguous items[', v.item_no,
             '].hs_code: ', v.hs_code_declared, ' split into ', m.n_candidates, ' HS 2022 codes') end
    )) as hs_flags
from valid v left join mapped m on m.item_record_id = v.item_record_id
