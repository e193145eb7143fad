-- Rule 1 (versions and duplicates): every bronze declaration message with its disposition.
--   rejected    a mandatory field is missing (the rule names it)
--   duplicate   a resent copy: same LRN and same content as an earlier message
--   current     per LRN, the latest accepted version (originals are accepted on lodgement;
--               a change (4) or replacement (5) once a later CUSRES accepted it (status 1))
--   superseded  an older version, or an amendment no response accepted (yet)
-- One pass over the staged messages (windows, not three CTEs read again and unioned).
-- Incremental per LRN (macros/touched_lrns.sql): a night recomputes the LRNs of its batches.
{{ config(materialized='incremental', incremental_strategy='merge', unique_key='record_id') }}
with {% if is_incremental() -%}
touched as ({{ touched_lrns([ref('stg_cms__declarations'), ref('stg_cms__responses')]) }}),
{% endif -%}
d as (
    select *,
        case when lrn is null then 'missing_lrn'
             when issue_datetime is null then 'missing_issue_datetime' end as reject_rule
    from {{ lrn_scoped(ref('stg_cms__declarations')) }}
),
acceptance as (
    select lrn, max(issue_datetime) as last_accepted_at, max(batch_id) as accepted_batch_id
    from {{ lrn_scoped(ref('stg_cms__responses')) }}
    where status_code = '1'
    group by lrn
),
copies as (
    select *, case when reject_rule is null then row_number() over (
        partition by reject_rule is null, lrn, content_hash order by received_at, record_id) end as copy_no
    from d
),
versions as (
    select c.*,
        coalesce(c.message_function = '9'
                 or (c.message_function in ('4', '5') and a.last_accepted_at >= c.issue_datetime),
                 false) as accepted,
        a.accepted_batch_id
    from copies c left join acceptance a on a.lrn = c.lrn
),
ranked as (
    select *, case when copy_no = 1 then row_number() over (
        partition by copy_no = 1, lrn
        order by accepted desc, issue_datetime desc,
                 case message_function when '5' then 3 when '4' then 2 else 1 end desc,
                 received_at desc, record_id) end as recency,
        -- The newest batch among the LRN's messages and the responses accepting them: a
        -- row's disposition reads nothing else, so silver.record_dispositions takes the rows
        -- a run may have changed by this column (above its watermark), not by a join.
        greatest(max(batch_id) over (partition by lrn), accepted_batch_id) as key_batch_id
    from versions
)
select record_id, lrn, message_function, issue_datetime, received_at, batch_id, key_batch_id,
    case when reject_rule is not null then 'rejected'
         when copy_no > 1 then 'duplicate'
         when recency = 1 and accepted then 'current' else 'superseded' end as disposition,
    case when reject_rule is not null then reject_rule
         when copy_no > 1 then 'resent_duplicate'
         when recency = 1 and accepted then null
         when accepted then 'superseded_version' else 'amendment_not_accepted' end as rule,
    case when reject_rule = 'missing_lrn' then 'lrn'
         when reject_rule is not null then 'issue_datetime'
         when copy_no > 1 then 'lrn' end as field,
    case when reject_rule is null and copy_no > 1 then lrn end as value
from ranked
