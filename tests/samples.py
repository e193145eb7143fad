"""Sample source records shared by tests of different tiers (one copy, one truth)."""

from __future__ import annotations

from typing import Any

# One officer with a posting and a shift, as the HR feed sends them (JSON lines).
HR_RECORDS: list[dict[str, Any]] = [
    {
        "record_type": "officer",
        "officer_id": "OFF-4",
        "national_id": "12345678",
        "full_name": "A. Officer",
        "grade": "CO2",
        "email": "a.officer@kra.example",
        "date_of_birth": "1985-04-02",
        "hired_on": "2010-01-04",
        "active": True,
    },
    {
        "record_type": "posting",
        "posting_id": "P-1",
        "officer_id": "OFF-4",
        "office_code": "KE001",
        "role": "examiner",
        "start_date": "2025-01-01",
        "end_date": None,
    },
    {
        "record_type": "shift",
        "shift_id": "S-1",
        "officer_id": "OFF-4",
        "office_code": "KE001",
        "shift_start": "2026-11-25T22:00:00+03:00",
        "shift_end": "2026-11-26T06:00:00+03:00",
    },
]
