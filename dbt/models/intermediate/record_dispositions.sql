-- What became of every bronze record: kept (current), superseded, duplicate or rejected.
-- lakehouse transform reconciles bronze counts against this table after every run.
--
-- A merge incremental on (source_table, record_id): per source, the rows its rule model may
-- have recomputed since this table's last run, i.e. every row whose key (the rule's
-- partition, null-safe) has a row from a batch above this table's highest batch_id for that
-- source (for declarations: the LRNs of newer declaration and response batches, as
-- int_cms__declaration_versions recomputes them). A record never leaves bronze, so no row
-- leaves this table: update + insert is exact.
{{ config(materialized='incremental', incremental_strategy='merge',
          unique_key=['source_table', 'record_id']) }}
-- depends_on: {{ ref('stg_cms__responses') }}
{%- set watermarks = {} -%}
{%- if is_incremental() and execute -%}
  {%- for row in run_query('select source_table, max(batch_id) from ' ~ this ~ ' group by source_table') -%}
    {%- do watermarks.update({row[0]: row[1]}) -%}
  {%- endfor -%}
{%- endif %}
{%- set w = watermarks.get('cms_declarations') %}
-- The touched keys are broadcast (macros/dispositions.sql: why).
select {% if is_incremental() %}/*+ BROADCAST(t) */ {% endif -%}
    record_id, 'cms_declarations' as source_table, disposition, rule, field, value, batch_id
from {{ ref('int_cms__declaration_versions') }} m
{%- if is_incremental() %}
left semi join (
    select lrn from {{ ref('int_cms__declaration_versions') }} where batch_id > {{ -1 if w is none else w }}
    union
    select lrn from {{ ref('stg_cms__responses') }} where batch_id > {{ -1 if w is none else w }}
) t on m.lrn <=> t.lrn
{%- endif %}
{% for model, table, key, partition in [
    ('int_cms__responses', 'cms_responses', 'lrn', 'mrn, lrn, status_code, issue_datetime'),
    ('int_cms__cargo_reports', 'cms_cargo_reports', 'document_number', 'document_number, message_function, issue_datetime'),
    ('int_cms__inspection_outcomes', 'cms_inspection_outcomes', 'inspection_id', 'inspection_id'),
    ('int_ects__events', 'ects_events', 'event_id', 'event_id'),
    ('int_erp__payments', 'erp_payments', 'payment_id', 'payment_id'),
    ('int_hr__officers', 'hr_officers', 'officer_id', 'officer_id'),
    ('int_hr__postings', 'hr_postings', 'posting_id', 'posting_id'),
    ('int_hr__shifts', 'hr_shifts', 'shift_id', 'shift_id')] %}
{%- set w = watermarks.get(table) %}
union all
select {% if is_incremental() %}/*+ BROADCAST(t) */ {% endif -%}
    record_id, '{{ table }}', disposition, disposition_rule,
    coalesce(reject_field, case when disposition <> 'kept' then '{{ key }}' end),
    case when disposition = 'duplicate' then cast({{ key }} as string) end,
    batch_id
from {{ ref(model) }} m
{%- if is_incremental() %}
left semi join (
    select distinct {{ partition }} from {{ ref(model) }} where batch_id > {{ -1 if w is none else w }}
) t on {% for k in partition.split(', ') %}m.{{ k }} <=> t.{{ k }}{{ ' and ' if not loop.last }}{% endfor %}
{%- endif %}
{% endfor %}
