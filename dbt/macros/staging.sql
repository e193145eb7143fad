{#- Shared staging columns: a stable id per bronze row (file + message index + position in the
    message) and the provenance every silver row keeps. -#}
{% macro record_id(extra=none) -%}
    sha2(concat_ws('|', _ingest.file_sha256, cast(_ingest.message_index as string){% if extra %}, cast({{ extra }} as string){% endif %}), 256)
{%- endmacro %}

{% macro provenance() -%}
    _ingest.batch_id as batch_id,
    _ingest.source_uri as source_uri,
    _ingest.received_at as received_at,
    coalesce(flags, array()) as bronze_flags
{%- endmacro %}

{#- New bronze batches only, on an incremental run: bronze batch ids only grow. -#}
{% macro new_batches_only() -%}
    {% if is_incremental() %}
    where _ingest.batch_id > (select coalesce(max(batch_id), -1) from {{ this }})
    {% endif %}
{%- endmacro %}

{#- A party's id, pseudonymized when it is a natural person's (rule 5). -#}
{% macro party_id(party) -%}
    case when {{ party }}.id rlike '{{ var("natural_person_id_regex") }}'
         then {{ pseudonym(party ~ '.id') }} else {{ code(party ~ '.id') }} end
{%- endmacro %}

{% macro party_name(party) -%}
    case when {{ party }}.id rlike '{{ var("natural_person_id_regex") }}'
         then {{ pseudonym(party ~ '.name') }} else trim({{ party }}.name) end
{%- endmacro %}

{% macro first_party(parties, role) -%}
    element_at(filter({{ parties }}, p -> upper(trim(p.role)) = '{{ role }}'), 1)
{%- endmacro %}
