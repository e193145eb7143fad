-- One row per HS 2022 tariff line seen (grain: hs_code): duty rate and unit.
select hs_code, hs6, chapter, tariff_unit, duty_rate, n_items_declared
from {{ ref('int_tariff_lines') }}
