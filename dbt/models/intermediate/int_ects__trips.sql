-- Rule 6: one row per transit trip from its deduplicated events: start, end, offices,
-- duration, distance, events, gaps, and anomalies. Approved places are the trip's departure
-- and destination (its first and last positions) and the corridor: where
-- *other* trips between the same offices drove. Thresholds are dbt vars.
--
-- One pass over the events (why: this was the build's slowest model): the corridor (a small
-- table per office pair and grid cell, below) is joined to the events by broadcast before the
-- windows, and every window shares one partitioning (the trip), so the events are shuffled
-- once; stops are runs found by a running count and timed by a window, not by a second
-- aggregate over the same events.
--
-- Incremental (a Delta merge on trip_id): a night recomputes the trips its new events touch
-- and the few older trips whose corridor they change (the `affected` CTE says which, and why
-- that set is exact); the corridor is still taken over every trip (one map-side-reduced
-- aggregate of the positions), but the per-event windows, the costly part, run over the
-- affected trips' events only. batch_id is the trip's newest event batch: the model's
-- watermark.
{{ config(materialized='incremental', incremental_strategy='merge', unique_key='trip_id') }}
{%- set inc = is_incremental() %}
with {% if inc -%}
-- The trips the night's events touch (any event of a batch above the watermark).
touched as (
    select distinct trip_id from {{ ref('int_ects__events') }}
    where batch_id > (select coalesce(max(batch_id), -1) from {{ this }})
),
{% endif -%}
e as (
    select {% if inc %}/*+ BROADCAST(t) */ {% endif -%}
        ev.trip_id, event_id, event_type, event_time, latitude, longitude, speed_kmh,
        mrn, device_id, vehicle_id, office_of_departure, office_of_destination, batch_id,
        cast(floor(latitude * 111.0 / {{ var('corridor_deviation_km') }}) as bigint) as cy,
        cast(floor(longitude * 111.0 / {{ var('corridor_deviation_km') }}) as bigint) as cx
        {%- if inc %}, t.trip_id is not null as touched{% endif %}
    from {{ ref('int_ects__events') }} ev
    {%- if inc %}
    left join touched t on t.trip_id = ev.trip_id
    {%- endif %}
    where disposition = 'kept' and latitude is not null and longitude is not null
),
-- Corridor: grid cells (about the deviation distance wide) other trips between the same
-- offices drove through; a cell is on the corridor when another trip covers it, i.e. has a
-- position in its 3 x 3 block (its own trip always does). "Another trip" needs two distinct
-- trips, not how many: the lowest and the highest trip_id covering a cell differ exactly
-- then. Min and max combine across cells (a count of distinct trips does not), so the
-- positions are first reduced to one row per office pair and cell (where the map-side
-- aggregate leaves little to shuffle), and the corridor is a small table joined to the
-- events by broadcast: the events are shuffled once, by trip, for the windows.
cells as (
    select office_of_departure, office_of_destination, cy, cx,
        min(trip_id) as first_trip, max(trip_id) as last_trip
        {%- if inc %},
        min(case when not touched then trip_id end) as first_untouched,
        max(case when not touched then trip_id end) as last_untouched,
        bool_or(touched) as any_touched
        {%- endif %}
    from e where event_type = 'position'
    group by office_of_departure, office_of_destination, cy, cx
),
coverage as (
    select office_of_departure, office_of_destination, cy + dy as cy, cx + dx as cx,
        min(first_trip) as first_trip, max(last_trip) as last_trip
        {%- if inc %},
        min(first_untouched) as first_untouched, max(last_untouched) as last_untouched,
        bool_or(any_touched) as any_touched
        {%- endif %}
    from cells
    lateral view explode(array(-1, 0, 1)) ny as dy
    lateral view explode(array(-1, 0, 1)) nx as dx
    group by office_of_departure, office_of_destination, cy + dy, cx + dx
),
-- Per office pair: whether two or more trips have positions (a corridor is known).
pairs as (
    select office_of_departure, office_of_destination,
        min(first_trip) <> max(last_trip) as corridor_known
        {%- if inc %},
        min(first_untouched) as first_untouched, max(last_untouched) as last_untouched,
        bool_or(any_touched) as any_touched
        {%- endif %}
    from cells group by office_of_departure, office_of_destination
),
{% if inc -%}
-- The trips whose row may differ from the one this table holds. New events only add cells
-- to trips (the kept copy of an event is its first), so coverage only grows, and an older
-- trip's row changes only through its corridor: (a) a cell of it that no other untouched
-- trip covers (the only untouched trip covering the cell is itself: lowest = highest) and a
-- touched trip now covers; (b) its office pair's trip count going from one to more (only if
-- at most one untouched trip has positions there). Everything else about a trip reads its
-- own events only.
affected as (
    select trip_id from touched
    union
    select v.first_untouched
    from cells c
    join coverage v
      on v.office_of_departure <=> c.office_of_departure
     and v.office_of_destination <=> c.office_of_destination
     and v.cy = c.cy and v.cx = c.cx
    where c.first_untouched is not null and v.any_touched
      and v.first_untouched = v.last_untouched
    union
    select t.trip_id from {{ this }} t
    join pairs p on p.office_of_departure <=> t.office_of_departure
        and p.office_of_destination <=> t.office_of_destination
    where p.any_touched and coalesce(p.first_untouched = p.last_untouched, true)
),
{% endif -%}
ordered as (
    select /*+ BROADCAST(v) */ e.*, v.first_trip <> v.last_trip as on_corridor,
        lag(latitude) over w as prev_lat, lag(longitude) over w as prev_lon,
        -- Silence is measured between the device's position reports only: a seal event long
        -- after arrival is not a silent device.
        case when event_type = 'position' then
            last_value(case when event_type = 'position' then event_time end, true) over (
                partition by e.trip_id order by event_time, event_id
                rows between unbounded preceding and 1 preceding) end as prev_position_time,
        first_value(latitude) over wa as start_lat, first_value(longitude) over wa as start_lon,
        last_value(latitude) over wa as end_lat, last_value(longitude) over wa as end_lon
    from {{ affected_trips_only('e') }} e
    left join coverage v
      on v.office_of_departure <=> e.office_of_departure
     and v.office_of_destination <=> e.office_of_destination
     and v.cy = e.cy and v.cx = e.cx
    window w as (partition by e.trip_id order by event_time, event_id),
           wa as (partition by e.trip_id order by event_time, event_id
                  rows between unbounded preceding and unbounded following)
),
measured as (
    select *,
        coalesce({{ haversine_km('prev_lat', 'prev_lon', 'latitude', 'longitude') }}, 0) as step_km,
        (unix_timestamp(event_time) - unix_timestamp(prev_position_time)) / 60.0 as gap_min,
        least({{ haversine_km('start_lat', 'start_lon', 'latitude', 'longitude') }},
              {{ haversine_km('end_lat', 'end_lon', 'latitude', 'longitude') }}) as km_from_approved
    from ordered
),
-- Stops: runs of slow positions away from the departure, the destination and the corridor
-- (a rest stop on the corridor is where other trips stop too). A run is numbered by the count
-- of moving positions before it; other events neither start nor end one.
runs as (
    select *, sum(case when event_type = 'position' and not slow then 1 else 0 end) over (
        partition by trip_id order by event_time, event_id) as run_id
    from (
        select *, event_type = 'position' and coalesce(speed_kmh, 0) < {{ var('stop_speed_kmh') }}
                  and km_from_approved > {{ var('approved_place_radius_km') }}
                  and not coalesce(on_corridor, false) as slow
        from measured
    )
),
steps as (
    select *,
        case when slow then (max(unix_timestamp(event_time)) over r
                             - min(unix_timestamp(event_time)) over r) / 60.0 end as stop_min,
        slow and row_number() over (partition by trip_id, slow, run_id
                                    order by event_time, event_id) = 1 as run_start,
        -- The trip's first position in each cell: its cells off the corridor are counted once.
        event_type = 'position' and not on_corridor and row_number() over (
            partition by trip_id, event_type, cy, cx order by event_time, event_id) = 1 as off_cell
    from runs
    window r as (partition by trip_id, slow, run_id)
),
trips as (
    select trip_id,
        max(mrn) as mrn, max(device_id) as device_id, max(vehicle_id) as vehicle_id,
        max(office_of_departure) as office_of_departure,
        max(office_of_destination) as office_of_destination,
        max(batch_id) as batch_id,
        min(event_time) as started_at, max(event_time) as ended_at,
        count(*) as n_events,
        cast(sum(step_km) as decimal(18,3)) as distance_km,
        coalesce(max(gap_min), 0) as max_gap_min,
        count_if(gap_min > {{ var('silent_device_minutes') }}) as n_gaps,
        count_if(event_type in ({% for t in var('seal_break_events') %}'{{ t }}'{{ ',' if not loop.last }}{% endfor %})
                 and km_from_approved > {{ var('approved_place_radius_km') }}) as n_seal_breaks_outside,
        max(km_from_approved) as max_km_from_approved,
        count_if(run_start and stop_min > {{ var('long_stop_minutes') }}) as n_long_stops,
        coalesce(max(stop_min), 0) as longest_stop_min,
        count_if(off_cell) as off_cells
    from steps group by trip_id
)
select /*+ BROADCAST(p) */ t.trip_id, t.mrn, t.device_id, t.vehicle_id, t.office_of_departure,
    t.office_of_destination, t.started_at, t.ended_at, t.n_events, t.distance_km,
    t.max_gap_min, t.n_gaps, t.n_seal_breaks_outside, t.max_km_from_approved,
    cast((unix_timestamp(t.ended_at) - unix_timestamp(t.started_at)) / 60.0 as decimal(18,1)) as duration_min,
    t.n_long_stops, t.longest_stop_min,
    p.corridor_known,
    case when p.corridor_known then t.off_cells end as off_corridor_cells,
    t.n_seal_breaks_outside > 0 as anomaly_seal_opened_outside_approved_place,
    coalesce(p.corridor_known and t.off_cells > 0, false) as anomaly_route_deviation,
    t.n_long_stops > 0 as anomaly_long_stop,
    t.max_gap_min > {{ var('silent_device_minutes') }} as anomaly_device_silent,
    t.batch_id
from trips t
left join pairs p on p.office_of_departure <=> t.office_of_departure
    and p.office_of_destination <=> t.office_of_destination
