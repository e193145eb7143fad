"""Column groups that tables of two zones share (staging keeps a source's columns, a mart
passes an intermediate model's columns on).

A table's model inherits its group (and the group's key) and adds its own zone's columns, so
a rule about, say, a GPS position is written once for ``bronze.ects_events`` and
``silver.stg_ects__events``, and a tariff line's for ``silver.int_tariff_lines`` and
``gold.dim_tariff_lines``.
"""

# No ``from __future__ import annotations``: pandera reads the column types from annotations.

import pyspark.sql.types as T
from pandera.pyspark import DataFrameModel

from governance.contracts.base import column

S, TS, D, DBL = T.StringType(), T.TimestampType(), T.DateType(), T.DoubleType()
DEC, ARR_S = T.DecimalType(38, 18), T.ArrayType(T.StringType(), True)
BIG, BOOL = T.LongType(), T.BooleanType()
# Minutes computed as (bigint seconds) / 60.0, and the trip model's fixed-scale casts.
MINUTES, KM, DURATION = T.DecimalType(27, 6), T.DecimalType(18, 3), T.DecimalType(18, 1)
HS_CODE = r"^([0-9]{6}|[0-9]{8}|[0-9]{10})$"


class EctsEventColumns(DataFrameModel):
    """A tracking event: ids, time and a plausible GPS position, speed and battery."""

    event_id: S = column(nullable=False)
    trip_id: S = column(nullable=False)
    device_id: S = column()
    vehicle_id: S = column()
    seal_id: S = column()
    event_type: S = column(nullable=False)
    event_time: TS = column(nullable=False)
    latitude: DBL = column(in_range={"min_value": -90, "max_value": 90})
    longitude: DBL = column(in_range={"min_value": -180, "max_value": 180})
    speed_kmh: DBL = column(ge=0)
    battery_pct: DBL = column(in_range={"min_value": 0, "max_value": 100})
    mrn: S = column()
    office_of_departure: S = column()
    office_of_destination: S = column()


class HrPostingColumns(DataFrameModel):
    """An officer's posting to an office (officer ids are staff numbers: pseudonymous)."""

    posting_id: S = column(nullable=False)
    officer_id: S = column("pseudonymized", nullable=False)
    office_code: S = column(nullable=False)
    role: S = column()
    start_date: D = column(nullable=False)
    end_date: D = column()


class HrShiftColumns(DataFrameModel):
    """A scheduled shift of an officer at an office."""

    shift_id: S = column(nullable=False)
    officer_id: S = column("pseudonymized", nullable=False)
    office_code: S = column()
    shift_start: TS = column(nullable=False)
    shift_end: TS = column(nullable=False)


class InspectionOutcomeColumns(DataFrameModel):
    """An officer's inspection outcome (the risk models' label)."""

    inspection_id: S = column(nullable=False)
    lrn: S = column(nullable=False)
    office_code: S = column()
    # A staff number: it names an officer only through HR, whose personal columns are
    # pseudonymized before silver; kept as the join key to HR.
    officer_id: S = column("pseudonymized")
    inspected_at: TS = column(nullable=False)
    channel: S = column()
    result: S = column(nullable=False)
    findings: ARR_S = column()
    additional_duty: DEC = column(ge=0)


class HsClassification(DataFrameModel):
    """Rule 2's result: an HS 2022 code (6, 8 or 10 digits), its subheading, the version."""

    hs_code: S = column(str_matches=HS_CODE)
    hs6: S = column(str_matches=r"^[0-9]{6}$")
    hs_version_declared: S = column(isin=["HS2017", "HS2022"])


class TariffLineColumns(DataFrameModel):
    """A tariff line seen in declarations: its most declared unit and most applied duty rate."""

    hs_code: S = column(nullable=False, str_matches=HS_CODE)
    hs6: S = column(nullable=False, str_matches=r"^[0-9]{6}$")
    chapter: S = column(nullable=False, str_matches=r"^[0-9]{2}$")
    tariff_unit: S = column()
    duty_rate: DEC = column(ge=0)
    n_items_declared: BIG = column(nullable=False, ge=1)

    class Config:
        unique = ["hs_code"]  # noqa: RUF012 (pandera reads a plain class attribute)


class TransitTripColumns(DataFrameModel):
    """A transit trip from its tracking events (rule 6): extent, gaps, stops and anomalies."""

    trip_id: S = column(nullable=False)
    mrn: S = column()
    device_id: S = column()
    vehicle_id: S = column()
    office_of_departure: S = column()
    office_of_destination: S = column()
    started_at: TS = column(nullable=False)
    ended_at: TS = column(nullable=False)
    n_events: BIG = column(nullable=False, ge=1)
    distance_km: KM = column(nullable=False, ge=0)
    max_gap_min: MINUTES = column(nullable=False, ge=0)
    n_gaps: BIG = column(nullable=False, ge=0)
    n_seal_breaks_outside: BIG = column(nullable=False, ge=0)
    max_km_from_approved: DBL = column(ge=0)
    duration_min: DURATION = column(nullable=False, ge=0)
    n_long_stops: BIG = column(nullable=False, ge=0)
    longest_stop_min: MINUTES = column(nullable=False, ge=0)
    corridor_known: BOOL = column()
    off_corridor_cells: BIG = column(ge=0)
    anomaly_seal_opened_outside_approved_place: BOOL = column(nullable=False)
    anomaly_route_deviation: BOOL = column(nullable=False)
    anomaly_long_stop: BOOL = column(nullable=False)
    anomaly_device_silent: BOOL = column(nullable=False)

    class Config:
        unique = ["trip_id"]  # noqa: RUF012 (pandera reads a plain class attribute)
