-- What became of every bronze record: kept (current), superseded, duplicate or rejected.
-- lakehouse transform reconciles bronze counts against this table after every run.
--
-- A merge incremental on (source_table, record_id): per source, the rows its rule model may
-- have recomputed since this table's last run, i.e. every row whose key (the rule's
-- partition) has a row from a batch above this table's highest batch_id for that source (for
-- declarations: the LRN's messages and accepting responses, the only rows its disposition
-- reads). Each rule model carries that newest batch per key (`key_batch_id`), so this is a
-- filter on one column, not a join of each whole model against its new keys. A record never
-- leaves bronze, so no row leaves this table: update + insert is exact.
{{ config(materialized='incremental', incremental_strategy='merge',
          unique_key=['source_table', 'record_id']) }}
{%- set watermarks = {} -%}
{%- if is_incremental() and execute -%}
  {%- for row in run_query('select source_table, max(batch_id) from ' ~ this ~ ' group by source_table') -%}
    {%- do watermarks.update({row[0]: row[1]}) -%}
  {%- endfor -%}
{%- endif %}
select record_id, 'cms_declarations' as source_table, disposition, rule, field, value, batch_id
from {{ ref('int_cms__declaration_versions') }}
{%- if is_incremental() %}
where key_batch_id > {{ watermarks.get('cms_declarations', -1) }}
{%- endif %}
{% for model, table, key in [
    ('int_cms__responses', 'cms_responses', 'lrn'),
    ('int_cms__cargo_reports', 'cms_cargo_reports', 'document_number'),
    ('int_cms__inspection_outcomes', 'cms_inspection_outcomes', 'inspection_id'),
    ('int_ects__events', 'ects_events', 'event_id'),
    ('int_erp__payments', 'erp_payments', 'payment_id'),
    ('int_hr__officers', 'hr_officers', 'officer_id'),
    ('int_hr__postings', 'hr_postings', 'posting_id'),
    ('int_hr__shifts', 'hr_shifts', 'shift_id')] %}
union all
select record_id, '{{ table }}', disposition, disposition_rule,
    coalesce(reject_field, case when disposition <> 'kept' then '{{ key }}' end),
    case when disposition = 'duplicate' then cast({{ key }} as string) end,
    batch_id
from {{ ref(model) }}
{%- if is_incremental() %}
where key_batch_id > {{ watermarks.get(table, -1) }}
{%- endif %}
{% endfor %}
