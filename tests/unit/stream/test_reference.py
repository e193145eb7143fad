"""ECTS reference data: geometry, parsing with errors that name the file and field, round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakehouse.settings import Settings, load_settings
from lakehouse.storage import LakeFiles
from lakehouse.stream.reference import (
    ReferenceError,
    Thresholds,
    distance_m,
    distance_to_polyline_m,
    load_reference,
    parse_reference,
    save_reference,
)
from lakehouse.stream.replay import simulator_reference


def docs(**overrides: object) -> dict:
    base = {
        "corridors.json": {
            "corridors": [
                {
                    "corridor_id": "C1",
                    "office_of_departure": "A",
                    "office_of_destination": "B",
                    "points": [[0.0, 10.0], [0.0, 11.0]],
                }
            ]
        },
        "approved_places.json": {
            "places": [
                {
                    "place_id": "p",
                    "kind": "office",
                    "latitude": 0.0,
                    "longitude": 10.0,
                    "radius_m": 500,
                    "office_code": "A",
                }
            ]
        },
        "thresholds.json": {"deviation_distance_m": 2500},
    }
    base.update(overrides)  # type: ignore[arg-type]
    return base


def test_distances_in_metres() -> None:
    assert distance_m(0, 0, 0.01, 0) == pytest.approx(1_112, abs=2)
    line = ((0.0, 10.0), (0.0, 11.0))
    assert distance_to_polyline_m(0.05, 10.5, line) == pytest.approx(5_560, abs=10)
    assert distance_to_polyline_m(0.0, 9.99, line) == pytest.approx(1_112, abs=2)  # past the end


@given(st.floats(-60, 60), st.floats(-170, 170), st.floats(-0.05, 0.05), st.floats(-0.05, 0.05))
def test_polyline_distance_agrees_with_haversine_to_a_vertex(
    lat: float, lon: float, dlat: float, dlon: float
) -> None:
    """A one-point 'polyline' is a point: the projection must agree with the great circle."""
    direct = distance_m(lat, lon, lat + dlat, lon + dlon)
    assert distance_to_polyline_m(lat, lon, [(lat + dlat, lon + dlon)]) == pytest.approx(
        direct, rel=2e-3, abs=1
    )


def test_parse_keeps_defaults_for_thresholds_not_given() -> None:
    ref = parse_reference(docs())
    assert ref.thresholds.deviation_distance_m == 2500
    assert ref.thresholds.stop_after_s == Thresholds().stop_after_s
    assert ref.corridors_for("A", "B")[0].corridor_id == "C1"
    assert ref.place_at(0.0, 10.001, offices_only=True).office_code == "A"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"thresholds.json": {"deviation_km": 3}}, r"unknown keys \['deviation_km'\]"),
        ({"thresholds.json": {"stop_after_s": "2h"}}, r"stop_after_s='2h' is not a finite number"),
        ({"thresholds.json": {"silent_after_s": -1}}, "must not be negative"),
        (
            {
                "corridors.json": {
                    "corridors": [
                        {
                            "corridor_id": "C",
                            "office_of_departure": "A",
                            "office_of_destination": "B",
                            "points": [[0, 1]],
                        }
                    ]
                }
            },
            r"corridors.json\[0\]: points must list at least two",
        ),
        (
            {
                "approved_places.json": {
                    "places": [
                        {
                            "place_id": "p",
                            "kind": "office",
                            "latitude": 0,
                            "longitude": 0,
                            "radius_m": 0,
                        }
                    ]
                }
            },
            r"approved_places.json\[0\]: radius_m=0.0 must be positive",
        ),
    ],
)
def test_bad_reference_names_file_and_field(override: dict, message: str) -> None:
    with pytest.raises(ReferenceError, match=message):
        parse_reference(docs(**override))


@pytest.fixture()
def lake(tmp_path: Path) -> Settings:
    """A local lake without any server (the shared ``lake`` fixture starts S3Proxy)."""
    return load_settings({"LAKEHOUSE_LAKE_ROOT": str(tmp_path / "lake")})


def test_save_then_load_round_trips(lake: Settings) -> None:
    ref = simulator_reference(7)
    files = LakeFiles(lake)
    save_reference(files, lake.lake_root, ref)
    assert load_reference(files, lake.lake_root) == ref


def test_missing_reference_says_how_to_fix(lake: Settings) -> None:
    with pytest.raises(ReferenceError, match="not found: write it"):
        load_reference(LakeFiles(lake), lake.lake_root)


def test_documents_are_plain_json() -> None:
    text = json.dumps(simulator_reference(7).to_documents())
    assert "corridor_id" in text and "radius_m" in text
