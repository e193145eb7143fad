-- Rule 1: each declaration's MRN and its latest status from the responses. A rejection of a
-- resent duplicate (error DUP) answers the copy, not the declaration, so it does not count.
-- Incremental per LRN (macros/touched_lrns.sql); batch_id is the LRN's latest response batch.
{{ config(materialized='incremental', incremental_strategy='merge', unique_key='lrn') }}
with {% if is_incremental() -%}
touched as ({{ touched_lrns([ref('stg_cms__responses')]) }}),
{% endif -%}
r as (
    select *, case status_code
        {%- for code, name in var("response_status_names").items() %}
        when '{{ code }}' then '{{ name }}'
        {%- endfor %} end as status_name
    from {{ lrn_scoped(ref('stg_cms__responses')) }}
    where lrn is not null and not (status_code = '2' and array_contains(error_codes, 'DUP'))
),
ranked as (
    select *, row_number() over (
        partition by lrn order by issue_datetime desc, status_code desc, record_id) as recency
    from r
)
select
    lrn,
    max(mrn) filter (where mrn is not null) as mrn,
    max(case when recency = 1 then coalesce(status_name, concat('status_', status_code)) end) as status,
    max(case when recency = 1 then issue_datetime end) as status_at,
    bool_or(status_name = 'selected_for_inspection') as selected_for_inspection,
    min(issue_datetime) filter (where status_name = 'released') as released_at,
    max(batch_id) as batch_id
from ranked
group by lrn
