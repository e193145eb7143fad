"""Electronic Cargo Tracking System (ECTS): GPS positions and e-seal events of transit trips.

A truck leaves the departure office after release, the e-seal is armed (``sealed``), the
device reports a position every ~5 minutes while it drives the corridor at 35-75 km/h, with
rest stops, the odd GPS gap and ``low_battery`` warnings, and the seal is ``opened`` at the
destination border office. Planted fraud: the truck leaves the corridor for a few km, stops
for 40-150 minutes and (seal tampering) the seal reports ``opened`` or ``tamper`` mid-route;
or (route deviation) only the detour and the long stop. A few clean trips take a short
benign detour so a deviation alone is not a perfect label.

Lines are written with a format string rather than ``json.dumps``: trips are the largest
feed by volume and this is the simulator's hot loop.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right

from lakehouse.simulator.model import Clock, Declaration
from lakehouse.simulator.reference import Route

POSITION_INTERVAL_S = 300
_BEARINGS: dict[str, tuple[float, ...]] = {}


def _bearings(route: Route) -> tuple[float, ...]:
    cached = _BEARINGS.get(route.id)
    if cached is None:
        out = []
        for (la1, lo1), (la2, lo2) in zip(route.points, route.points[1:], strict=False):
            y = math.sin(math.radians(lo2 - lo1)) * math.cos(math.radians(la2))
            x = math.cos(math.radians(la1)) * math.sin(math.radians(la2)) - math.sin(
                math.radians(la1)
            ) * math.cos(math.radians(la2)) * math.cos(math.radians(lo2 - lo1))
            out.append((math.degrees(math.atan2(y, x)) + 360.0) % 360.0)
        cached = tuple(out)
        _BEARINGS[route.id] = cached
    return cached


def trip_events(
    d: Declaration, clock: Clock, rnd: random.Random, start: int, device_id: str, seal_id: str
) -> list[tuple[int, str]]:
    """The events of ``d``'s transit trip as ``(event_time, json_line)``, in time order.

    ``d.fraud_types`` decides the planted anomaly (``seal_tampering`` / ``route_deviation``).
    """
    route = d.route
    assert route is not None
    pts, cum = route.points, route.cum_km
    total = cum[-1]
    bearings = _bearings(route)
    trip_id = f"TRP{d.mrn}"
    vehicle = f'"{d.transport_id}"' if d.transport_id else "null"
    head = (
        f'"trip_id":"{trip_id}","device_id":"{device_id}","vehicle_id":{vehicle},'
        f'"seal_id":"{seal_id}","event_type":"'
    )
    tail = (
        f'"mrn":"{d.mrn}","office_of_departure":"{route.departure}",'
        f'"office_of_destination":"{route.destination}"}}'
    )
    iso = clock.iso
    out: list[tuple[int, str]] = []
    seq = 0
    battery = rnd.uniform(30.0, 100.0)
    drain = rnd.uniform(0.8, 2.2)
    low_sent = False

    def emit(kind: str, t: int, lat: float, lon: float, speed: float, heading: float) -> None:
        nonlocal seq
        seq += 1
        out.append(
            (
                t,
                f'{{"event_id":"{trip_id}-{seq:04d}",{head}{kind}","event_time":'
                f'"{iso(t)}","latitude":{lat:.6f},"longitude":{lon:.6f},'
                f'"speed_kmh":{speed:.1f},"heading":{heading:.1f},'
                f'"battery_pct":{battery:.1f},{tail}',
            )
        )

    def locate(km: float) -> tuple[float, float, int]:
        k = min(len(cum) - 2, max(0, bisect_right(cum, km) - 1))
        seg = cum[k + 1] - cum[k]
        f = (km - cum[k]) / seg if seg else 0.0
        (la1, lo1), (la2, lo2) = pts[k], pts[k + 1]
        return la1 + (la2 - la1) * f, lo1 + (lo2 - lo1) * f, k

    # Planned stops on the corridor (rest, fuel, weighbridges): (km, minutes).
    stops = sorted(
        (rnd.uniform(0.1, 0.9) * total, rnd.randrange(20, 80)) for _ in range(1 + int(total // 350))
    )
    detour: tuple[float, float, int, str | None] | None = None  # km, offset km, minutes, seal
    if "seal_tampering" in d.fraud_types:
        detour = (
            rnd.uniform(0.3, 0.8) * total,
            rnd.uniform(3.0, 15.0),
            rnd.randrange(40, 150),
            "opened" if rnd.random() < 0.6 else "tamper",
        )
    elif "route_deviation" in d.fraud_types:
        detour = (
            rnd.uniform(0.3, 0.8) * total,
            rnd.uniform(3.0, 15.0),
            rnd.randrange(40, 150),
            None,
        )
    elif rnd.random() < 0.03:
        detour = (rnd.uniform(0.2, 0.8) * total, rnd.uniform(0.8, 3.0), rnd.randrange(10, 35), None)
    gap = (rnd.uniform(0.1, 0.9) * total, rnd.uniform(20.0, 70.0)) if rnd.random() < 0.04 else None
    cruise = rnd.uniform(45.0, 65.0)

    t = start
    km = 0.0
    lat, lon = pts[0]
    emit("sealed", t, lat, lon, 0.0, bearings[0])
    jitter = rnd.uniform
    r = rnd.random
    while km < total:
        dt = POSITION_INTERVAL_S - 15 + int(r() * 31)
        speed = cruise * (0.7 + 0.45 * r())
        nxt = km + speed * dt / 3600.0
        t += dt
        battery = max(1.0, battery - drain * dt / 3600.0)
        if stops and stops[0][0] <= nxt:
            stop_km, minutes = stops.pop(0)
            km = stop_km
            lat, lon, k = locate(km)
            for _ in range(max(1, minutes * 60 // POSITION_INTERVAL_S)):
                emit(
                    "position",
                    t,
                    lat + jitter(-2e-4, 2e-4),
                    lon + jitter(-2e-4, 2e-4),
                    0.0,
                    bearings[k],
                )
                t += POSITION_INTERVAL_S
            continue
        if detour is not None and detour[0] <= nxt:
            d_km, offset, minutes, seal_event = detour
            detour = None
            km = d_km
            lat, lon, k = locate(km)
            b = math.radians(bearings[k] + 90.0)
            dlat, dlon = math.cos(b) * offset / 111.0, math.sin(b) * offset / 111.0
            legs = max(2, int(offset // 3) + 1)
            for j in range(1, legs + 1):  # leave the corridor
                emit(
                    "position",
                    t,
                    lat + dlat * j / legs,
                    lon + dlon * j / legs,
                    jitter(20.0, 35.0),
                    (bearings[k] + 90.0) % 360.0,
                )
                t += POSITION_INTERVAL_S
            n_stop = max(1, minutes * 60 // POSITION_INTERVAL_S)
            for j in range(n_stop):
                emit("position", t, lat + dlat, lon + dlon, 0.0, (bearings[k] + 90.0) % 360.0)
                if seal_event is not None and j == n_stop // 2:
                    emit(
                        seal_event,
                        t + 40,
                        lat + dlat,
                        lon + dlon,
                        0.0,
                        (bearings[k] + 90.0) % 360.0,
                    )
                t += POSITION_INTERVAL_S
            for j in range(legs - 1, -1, -1):  # back to the corridor
                emit(
                    "position",
                    t,
                    lat + dlat * j / legs,
                    lon + dlon * j / legs,
                    jitter(20.0, 35.0),
                    (bearings[k] + 270.0) % 360.0,
                )
                t += POSITION_INTERVAL_S
            continue
        km = min(nxt, total)
        if gap is not None and gap[0] <= km <= gap[0] + gap[1]:
            continue  # no GPS fix: nothing reported
        lat, lon, k = locate(km)
        emit("position", t, lat + (r() - 0.5) * 6e-4, lon + (r() - 0.5) * 6e-4, speed, bearings[k])
        if battery < 15.0 and not low_sent:
            emit("low_battery", t + 5, lat, lon, speed, bearings[k])
            low_sent = True
    lat, lon = pts[-1]
    emit("opened", t + rnd.randrange(600, 3600), lat, lon, 0.0, bearings[-1])
    return out
