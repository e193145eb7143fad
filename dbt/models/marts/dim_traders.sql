-- One row per trader (grain: trader_id, role): importers and declarants with history counts.
-- Natural persons appear only under their pseudonym.
with roles as (
    select importer_id as trader_id, 'importer' as role, importer_name as name, lrn, issue_datetime,
        importer_is_natural_person as is_natural_person
    from {{ ref('int_cms__declarations') }} where importer_id is not null
    union all
    select declarant_id, 'declarant', declarant_name, lrn, issue_datetime, false
    from {{ ref('int_cms__declarations') }} where declarant_id is not null
)
select trader_id, role, max_by(name, issue_datetime) as name,
    bool_or(coalesce(is_natural_person, false)) as is_natural_person,
    count(distinct lrn) as n_declarations, min(issue_datetime) as first_seen_at,
    max(issue_datetime) as last_seen_at
from roles group by trader_id, role
