{#- Every staged row with its disposition, so nothing vanishes without a reason:
    rejected (a required column is null: the rule names it), duplicate (a later copy of the
    same key) or superseded (an older row of the same key, when later rows replace earlier
    ones, e.g. an HR sync), else kept. Silver's entity tables are the kept rows. -#}
{% macro with_dispositions(relation, key, required, later_supersedes=false) -%}
{%- set keys = key.split(', ') -%}
{#- A row's disposition depends only on the rows sharing its key, so an incremental run (the
    model is a Delta merge on record_id) recomputes just the keys of the new bronze batches,
    with every earlier row of those keys: the same result as a full build, at the cost of
    the new day (a null key matches null keys, as the window's partitions do). -#}
with {% if is_incremental() -%}
touched as (
    select distinct {{ key }} from {{ relation }}
    where batch_id > (select coalesce(max(batch_id), -1) from {{ this }})
),
scoped as (
    select /*+ BROADCAST(t) */ r.* from {{ relation }} r
    left semi join touched t
      on {% for k in keys %}r.{{ k }} <=> t.{{ k }}{{ ' and ' if not loop.last }}{% endfor %}
),
{% endif -%}
base as (
    select *,
        case {% for col in required %}when {{ col }} is null then '{{ col }}' {% endfor %} end as reject_field
    from {{ 'scoped' if is_incremental() else relation }}
),
-- One partitioning (the key) for both windows, so the rows are shuffled once: the kept
-- copy is numbered among the key's valid rows (they sort first), and key_batch_id is the
-- newest batch of any row of the key, so silver.record_dispositions finds the rows a run
-- recomputed with a filter (key_batch_id above its watermark) instead of a join.
ranked as (
    select *, case when reject_field is null then row_number() over (
            partition by {{ key }}
            order by reject_field is null desc,
                     received_at {{ 'desc' if later_supersedes else 'asc' }}, record_id) end as copy_no,
        max(batch_id) over (partition by {{ key }}) as key_batch_id
    from base
)
select *,
    case when reject_field is not null then 'rejected'
         when copy_no = 1 then 'kept'
         else '{{ "superseded" if later_supersedes else "duplicate" }}' end as disposition,
    case when reject_field is not null then concat('missing_', reject_field)
         when copy_no > 1 then '{{ "superseded_by_later_record" if later_supersedes else "repeated_key" }}'
    end as disposition_rule
from ranked
{%- endmacro %}

{#- Why the incremental branches broadcast their touched keys (`/*+ BROADCAST(t) */` on the
    semi joins): Spark estimates `batch_id > (max of this table)` over a Delta table at the
    table's whole size, so without the hint it plans a sort-merge join and shuffles and sorts
    every row of the full input (all columns) only to keep one night's keys. Broadcast, the
    full input is scanned and filtered where it lies. A night's keys are a few tens of
    thousands of short strings; Delta's merge then materializes that small result once. -#}
