-- Rule 1 (versions and duplicates): every bronze declaration message with its disposition.
--   rejected    a mandatory field is missing (the rule names it)
--   duplicate   a resent copy: same LRN and same content as an earlier message
--   current     per LRN, the latest accepted version (originals are accepted on lodgement;
--               a change (4) or replacement (5) once a later CUSRES accepted it (status 1))
--   superseded  an older version, or an amendment no response accepted (yet)
with d as (
    select *,
        case when lrn is null then 'missing_lrn'
             when issue_datetime is null then 'missing_issue_datetime' end as reject_rule
    from {{ ref('stg_cms__declarations') }}
),
copies as (
    select *, row_number() over (
        partition by lrn, content_hash order by received_at, record_id) as copy_no
    from d where reject_rule is null
),
acceptance as (
    select lrn, max(issue_datetime) as last_accepted_at
    from {{ ref('stg_cms__responses') }}
    where status_code = '1'
    group by lrn
),
versions as (
    select c.*,
        coalesce(c.message_function = '9'
                 or (c.message_function in ('4', '5') and a.last_accepted_at >= c.issue_datetime),
                 false) as accepted
    from copies c left join acceptance a on a.lrn = c.lrn
    where c.copy_no = 1
),
ranked as (
    select *, row_number() over (
        partition by lrn
        order by accepted desc, issue_datetime desc,
                 case message_function when '5' then 3 when '4' then 2 else 1 end desc,
                 received_at desc, record_id) as recency
    from versions
)
select record_id, lrn, message_function, issue_datetime, received_at, batch_id,
    case when recency = 1 and accepted then 'current' else 'superseded' end as disposition,
    case when recency = 1 and accepted then null
         when accepted then 'superseded_version' else 'amendment_not_accepted' end as rule,
    cast(null as string) as field, cast(null as string) as value
from ranked
union all
select record_id, lrn, message_function, issue_datetime, received_at, batch_id,
    'duplicate', 'resent_duplicate', 'lrn', lrn
from copies where copy_no > 1
union all
select record_id, lrn, message_function, issue_datetime, received_at, batch_id,
    'rejected', reject_rule,
    case reject_rule when 'missing_lrn' then 'lrn' else 'issue_datetime' end, cast(null as string)
from d where reject_rule is not null
