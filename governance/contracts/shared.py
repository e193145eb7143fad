"""Column groups that bronze and silver tables share (staging keeps a source's columns).

A table's model inherits its group and adds its own zone's columns, so a rule about, say, a
GPS position is written once for ``bronze.ects_events`` and ``silver.stg_ects__events``.
"""

# No ``from __future__ import annotations``: pandera reads the column types from annotations.

import pyspark.sql.types as T
from pandera.pyspark import DataFrameModel

from governance.contracts.base import column

S, TS, D, DBL = T.StringType(), T.TimestampType(), T.DateType(), T.DoubleType()
DEC, ARR_S = T.DecimalType(38, 18), T.ArrayType(T.StringType(), True)


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
