"""Reference data of the ECTS alert rules: corridors, approved places and thresholds.

Why files in the lake and not code: every administration has its own corridors, offices and
tolerances, and changes them without a release. The job reads three JSON documents under
``<lake_root>/reference/ects/`` once at start (``corridors.json``, ``approved_places.json``,
``thresholds.json``, see ``docs/ects_stream.md``); nothing in the rules knows a route, an
office code or a country. A missing or malformed document is a :class:`ReferenceError` naming
the file and the field, so a bad edit stops the job before it raises wrong alerts.

Distances are metres on a local equirectangular projection around the point being tested:
exact to well under a metre at the few-kilometre scale of a corridor tolerance, and cheap
enough for thousands of events a second in Python.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from lakehouse.errors import LakehouseError

EARTH_RADIUS_M = 6_371_008.8
REFERENCE_DIR = "reference/ects"
FILES = ("corridors.json", "approved_places.json", "thresholds.json")


class ReferenceError(LakehouseError, ValueError):
    """ECTS reference data is missing or malformed; the message names the file and field."""


@dataclass(frozen=True, slots=True)
class Corridor:
    """An approved route between two offices: a polyline of (lat, lon) waypoints."""

    corridor_id: str
    office_of_departure: str
    office_of_destination: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class ApprovedPlace:
    """A place where a seal may be opened (``office``) or a truck may stop (any kind)."""

    place_id: str
    kind: str  # "office" (a customs office: seals may open there) or "parking", "weighbridge"...
    latitude: float
    longitude: float
    radius_m: float
    office_code: str | None = None


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Tolerances of the rules. Every field is documented in ``docs/ects_stream.md``."""

    deviation_distance_m: float = 3_000.0
    stop_after_s: float = 7_200.0
    stop_speed_kmh: float = 3.0
    stop_radius_m: float = 300.0
    silent_after_s: float = 1_800.0
    allowed_lateness_s: float = 1_800.0
    severity: Mapping[str, str] = field(
        default_factory=lambda: {
            "seal_breach": "high",
            "route_deviation": "high",
            "wrong_destination": "high",
            "long_stop": "medium",
            "device_silent": "medium",
        }
    )


@dataclass(frozen=True, slots=True)
class Reference:
    """Everything the rules need besides the events: loaded once when the job starts."""

    corridors: tuple[Corridor, ...]
    places: tuple[ApprovedPlace, ...]
    thresholds: Thresholds

    def corridors_for(self, departure: str | None, destination: str | None) -> list[Corridor]:
        """The corridors approved between two offices (several routes may be approved)."""
        return [
            c
            for c in self.corridors
            if c.office_of_departure == departure and c.office_of_destination == destination
        ]

    def place_at(
        self, lat: float, lon: float, *, offices_only: bool = False
    ) -> ApprovedPlace | None:
        """The approved place whose radius holds the point, or None."""
        for place in self.places:
            if offices_only and place.kind != "office":
                continue
            if distance_m(lat, lon, place.latitude, place.longitude) <= place.radius_m:
                return place
        return None

    def to_documents(self) -> dict[str, Any]:
        """The three JSON documents, keyed by file name (the inverse of :func:`parse_reference`)."""
        return {
            "corridors.json": {"corridors": [_corridor_doc(c) for c in self.corridors]},
            "approved_places.json": {"places": [asdict(p) for p in self.places]},
            "thresholds.json": {
                f.name: (
                    dict(v) if isinstance(v := getattr(self.thresholds, f.name), Mapping) else v
                )
                for f in fields(Thresholds)
            },
        }


def _corridor_doc(c: Corridor) -> dict[str, Any]:
    return {
        "corridor_id": c.corridor_id,
        "office_of_departure": c.office_of_departure,
        "office_of_destination": c.office_of_destination,
        "points": [[lat, lon] for lat, lon in c.points],
    }


# -- geometry -------------------------------------------------------------------------------


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distance_to_polyline_m(lat: float, lon: float, points: Iterable[tuple[float, float]]) -> float:
    """Shortest distance in metres from a point to a polyline (projected around the point)."""
    kx = math.cos(math.radians(lat)) * math.radians(1.0) * EARTH_RADIUS_M
    ky = math.radians(1.0) * EARTH_RADIUS_M
    best = math.inf
    prev: tuple[float, float] | None = None
    for plat, plon in points:
        x, y = (plon - lon) * kx, (plat - lat) * ky
        # A lone point is its own "segment"; otherwise the nearest segment so far wins.
        seg = math.hypot(x, y) if prev is None else _segment_distance(prev, (x, y))
        best = min(best, seg)
        prev = (x, y)
    return best


def _segment_distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance from the origin to segment ab (planar)."""
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
    return math.hypot(ax + t * dx, ay + t * dy)


# -- parsing --------------------------------------------------------------------------------


def _number(doc: Mapping[str, Any], key: str, where: str) -> float:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ReferenceError(f"{where}: {key}={value!r} is not a finite number")
    return float(value)


def _text(doc: Mapping[str, Any], key: str, where: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value:
        raise ReferenceError(f"{where}: {key}={value!r} is not a non-empty string")
    return value


def _corridor(doc: Mapping[str, Any], where: str) -> Corridor:
    raw_points = doc.get("points")
    if not isinstance(raw_points, list) or len(raw_points) < 2:
        raise ReferenceError(f"{where}: points must list at least two [lat, lon] pairs")
    points = []
    for i, pair in enumerate(raw_points):
        if not isinstance(pair, list) or len(pair) != 2:
            raise ReferenceError(f"{where}: points[{i}]={pair!r} is not a [lat, lon] pair")
        point = {"lat": pair[0], "lon": pair[1]}
        points.append((_number(point, "lat", f"{where}.points[{i}]"), _number(point, "lon", where)))
    return Corridor(
        _text(doc, "corridor_id", where),
        _text(doc, "office_of_departure", where),
        _text(doc, "office_of_destination", where),
        tuple(points),
    )


def _place(doc: Mapping[str, Any], where: str) -> ApprovedPlace:
    office = doc.get("office_code")
    if office is not None and not isinstance(office, str):
        raise ReferenceError(f"{where}: office_code={office!r} is not a string or null")
    radius = _number(doc, "radius_m", where)
    if radius <= 0:
        raise ReferenceError(f"{where}: radius_m={radius!r} must be positive")
    return ApprovedPlace(
        _text(doc, "place_id", where),
        _text(doc, "kind", where),
        _number(doc, "latitude", where),
        _number(doc, "longitude", where),
        radius,
        office,
    )


def _thresholds(doc: Mapping[str, Any]) -> Thresholds:
    known = {f.name for f in fields(Thresholds)}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ReferenceError(f"thresholds.json: unknown keys {unknown}; known: {sorted(known)}")
    values: dict[str, Any] = {}
    for name in known - {"severity"}:
        if name in doc:
            values[name] = _number(doc, name, "thresholds.json")
            if values[name] < 0:
                raise ReferenceError(f"thresholds.json: {name}={doc[name]!r} must not be negative")
    if "severity" in doc:
        severity = doc["severity"]
        if not isinstance(severity, dict) or not all(isinstance(v, str) for v in severity.values()):
            raise ReferenceError("thresholds.json: severity must map alert kinds to strings")
        values["severity"] = {**Thresholds().severity, **severity}
    return Thresholds(**values)


def parse_reference(documents: Mapping[str, Any]) -> Reference:
    """Build the reference from the three parsed JSON documents, checking every field."""
    missing = [name for name in FILES if name not in documents]
    if missing:
        raise ReferenceError(f"ECTS reference data missing: {', '.join(missing)}")
    corridors = documents["corridors.json"].get("corridors")
    places = documents["approved_places.json"].get("places")
    if not isinstance(corridors, list) or not isinstance(places, list):
        raise ReferenceError(
            "corridors.json needs a 'corridors' list, approved_places.json a 'places' list"
        )
    return Reference(
        tuple(_corridor(c, f"corridors.json[{i}]") for i, c in enumerate(corridors)),
        tuple(_place(p, f"approved_places.json[{i}]") for i, p in enumerate(places)),
        _thresholds(documents["thresholds.json"]),
    )


def reference_uri(lake_root: str) -> str:
    """Folder of the ECTS reference documents in a lake."""
    return f"{lake_root.rstrip('/')}/{REFERENCE_DIR}"


def load_reference(files: Any, lake_root: str) -> Reference:
    """Read and check the documents from the lake (``files``: a :class:`LakeFiles`)."""
    documents = {}
    for name in FILES:
        uri = f"{reference_uri(lake_root)}/{name}"
        try:
            documents[name] = json.loads(files.read(uri))
        except FileNotFoundError as exc:
            raise ReferenceError(
                f"ECTS reference {uri} not found: write it (docs/ects_stream.md) or run "
                "`lakehouse stream-demo` once"
            ) from exc
        except ValueError as exc:
            raise ReferenceError(f"ECTS reference {uri} is not valid JSON: {exc}") from exc
    return parse_reference(documents)


def save_reference(files: Any, lake_root: str, reference: Reference) -> None:
    """Write the documents to the lake, each atomically."""
    for name, doc in reference.to_documents().items():
        data = json.dumps(doc, indent=2, sort_keys=True).encode()
        files.write(f"{reference_uri(lake_root)}/{name}", data)
