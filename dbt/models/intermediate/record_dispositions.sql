-- What became of every bronze record: kept (current), superseded, duplicate or rejected.
-- lakehouse transform reconciles bronze counts against this table after every run.
select record_id, 'cms_declarations' as source_table, disposition, rule, field, value
from {{ ref('int_cms__declaration_versions') }}
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
    case when disposition = 'duplicate' then cast({{ key }} as string) end
from {{ ref(model) }}
{% endfor %}
