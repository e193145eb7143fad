-- The tariff lines seen in declarations (HS 2022 code): the unit most declared for the line,
-- and the customs duty rate most applied. With a national tariff reference table this model
-- would read it instead; without one, the declarations are the best evidence.
with items as (
    select * from {{ ref('int_cms__items_classified') }} where hs_code is not null
),
units as (
    select hs_code, quantity_unit, row_number() over (
        partition by hs_code order by count(*) desc, quantity_unit) as pick
    from items where quantity_unit is not null group by hs_code, quantity_unit
),
duty as (
    select i.hs_code, t.rate, row_number() over (
        partition by i.hs_code order by count(*) desc, t.rate desc) as pick
    from items i join {{ ref('stg_cms__declaration_tax_lines') }} t
      on t.record_id = i.record_id and t.item_no = i.item_no and t.tax_type = 'CUD'
    group by i.hs_code, t.rate
)
select i.hs_code, max(i.hs6) as hs6, substr(i.hs_code, 1, 2) as chapter,
    max(u.quantity_unit) as tariff_unit, max(d.rate) as duty_rate,
    count(*) as n_items_declared
from items i
left join units u on u.hs_code = i.hs_code and u.pick = 1
left join duty d on d.hs_code = i.hs_code and d.pick = 1
group by i.hs_code
