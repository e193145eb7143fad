-- Revenue per office and day (grain: office_code, issue_date): assessed, collected, gap.
select office_code, issue_date, count(*) as n_declarations,
    sum(assessed) as assessed, sum(collected) as collected, sum(gap) as gap,
    count_if(underpaid) as n_underpaid, count_if(overpaid) as n_overpaid
from {{ ref('int_revenue__declarations') }}
group by office_code, issue_date
