"""nifi_flows/stateless.py writes the files that carry parameters for the owner's eyes only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from nifi_flows.stateless import _write_properties

pytestmark = pytest.mark.unit


def test_properties_file_is_owner_only_even_when_it_existed_wider(tmp_path: Path) -> None:
    path = tmp_path / "flow.properties"
    path.write_text("old\n")
    path.chmod(0o644)
    _write_properties(path, {"nifi.stateless.parameters.lakehouse.db.password": "pä ss=#1"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="ascii")
    assert "old" not in text
    # java.util.Properties escaping: the value is kept exactly (non-ASCII as \\u escapes)
    assert "nifi.stateless.parameters.lakehouse.db.password=p\\u00e4 ss=#1" in text
