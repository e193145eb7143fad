{#- Per-LRN rule models as merge incrementals (int_cms__declaration_versions, _status,
    int_cms__declarations, int_revenue__declarations). Each of their rows depends only on the
    rows of its own LRN (messages, responses, tax lines, payments), so an incremental run
    recomputes just the LRNs found in the bronze batches newer than the model's watermark,
    with every earlier row of those LRNs, and merges them: the rows a full build would give.

    The watermark is the highest batch_id the model holds. Bronze batch ids are one sequence
    for the whole lake and only grow, so every batch ingested after the model's last run is
    above it; a batch at or below it that only touched another input is recomputed once more,
    which costs time, never correctness. A row of these models never disappears (an LRN keeps
    its accepted version, a response or a payment stays), so a merge (update + insert) is
    enough: no delete is needed. A changed seed (exchange rates) needs `--full-refresh`. -#}

{#- The LRNs of the new batches of every (relation, lrn column) input, one row each. -#}
{% macro touched_lrns(inputs) -%}
{%- for relation in inputs %}
    select lrn from {{ relation }}
    where batch_id > (select coalesce(max(batch_id), -1) from {{ this }})
    {{ 'union' if not loop.last }}
{%- endfor %}
{%- endmacro %}

{#- A relation restricted to the touched LRNs on an incremental run (null-safe: rejected rows
    without an LRN are recomputed together, as the full build's windows group them), else the
    whole relation. Needs a `touched` CTE (touched_lrns) in the same query.

    The touched keys are broadcast (the note at the end of macros/dispositions.sql: why). -#}
{% macro lrn_scoped(relation, key='lrn') -%}
{%- if is_incremental() -%}
(select /*+ BROADCAST(t) */ r.* from {{ relation }} r left semi join touched t on r.{{ key }} <=> t.lrn)
{%- else -%}
{{ relation }}
{%- endif -%}
{%- endmacro %}
