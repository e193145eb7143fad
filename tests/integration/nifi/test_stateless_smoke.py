"""The CMS EDIFACT file-drop flow runs for real on NiFi Stateless (NiFi 2.3.0 NARs).

Proves the flow-definition JSON end to end: files dropped into the source directory arrive in
the landing zone under the lakehouse convention (lakehouse/landing.py) with identical bytes,
and leave the drop; failures roll back and keep the drop. Needs the NiFi cache made by
scripts/nifi_setup.sh (1-3 minutes the first time); skipped with that reason when missing.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lakehouse.landing import FEEDS, feed_of, landed_name
from nifi_flows.stateless import (
    StatelessFlowError,
    StatelessInstall,
    StatelessRunError,
    run_flow,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

FLOW = Path(__file__).resolve().parents[3] / "nifi_flows" / "flows" / "cms_edifact_filedrop.json"
NAME_RE = re.compile(r"^cms_edifact_(?P<stamp>\d{8}T\d{6})_(?P<sha12>[0-9a-f]{12})\.edi$")

# Two interchanges with what tends to break "text" handling: a UNA service string,
# CRLF segment ends, ISO-8859-1 bytes (UNOC) and a trailing byte without newline.
DROPS = {
    "CUSDEC_0001.edi": (
        b"UNA:+.? '\r\nUNB+UNOC:3+CMSHUB+LAKEHOUSE+240101:1200+REF0001'\r\n"
        b"UNH+1+CUSDEC:D:96B:UN'\r\nBGM+929+DEC0001+9'\r\nFTX+AAA+++Caf\xe9 cr\xe8me'\r\n"
        b"UNT+4+1'\r\nUNZ+1+REF0001'"
    ),
    "CUSRES_0002.edi": (
        b"UNB+UNOC:3+CMSHUB+LAKEHOUSE+240101:1201+REF0002'UNH+1+CUSRES:D:96B:UN'"
        b"BGM+962+RES0002+9'UNT+3+1'UNZ+1+REF0002'\n"
    ),
}


def test_cms_edifact_filedrop_lands_files_by_convention(
    install: StatelessInstall, tmp_path: Path
) -> None:
    source = tmp_path / "drop"
    landing = tmp_path / "lake" / "landing"
    source.mkdir()
    for name, data in DROPS.items():
        (source / name).write_bytes(data)

    before = datetime.now(UTC).replace(microsecond=0)
    result = run_flow(
        FLOW,
        {"source.directory": str(source), "landing.directory": str(landing)},
        install=install,
        work_dir=tmp_path / "run",
        timeout_s=480,
    )
    after = datetime.now(UTC)

    assert result.exit_code == 0 and result.status == "success"
    assert result.outputs.get("failure", 0) == 0, result.log_tail

    landed = sorted(p for p in landing.rglob("*") if p.is_file())
    assert len(landed) == len(DROPS), f"landed: {landed}\n{result.log_tail}"
    # FetchFile's "Delete File" ran on commit: the drop is empty.
    assert list(source.iterdir()) == []

    by_sha = {hashlib.sha256(d).hexdigest(): d for d in DROPS.values()}
    feed = FEEDS["cms/edifact"]
    for path in landed:
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        assert sha in by_sha, f"{path.name}: bytes differ from every dropped file"
        assert data == by_sha[sha]

        match = NAME_RE.match(path.name)
        assert match, f"{path.name} does not follow cms_edifact_<yyyymmddThhmmss>_<sha12>.edi"
        assert match["sha12"] == sha[:12]
        received = datetime.strptime(match["stamp"], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        assert before - timedelta(seconds=1) <= received <= after, (received, before, after)

        # The flow's name and folder are exactly what the Python convention produces.
        assert path.name == landed_name(feed, received, sha)
        assert path.parent == landing / "cms" / "edifact" / f"{received:%Y-%m-%d}"
        assert feed_of(str(path)) is feed


def test_rejects_parameters_the_flow_does_not_declare(
    install: StatelessInstall, tmp_path: Path
) -> None:
    with pytest.raises(StatelessFlowError, match=r"unknown parameters.*source\.dir"):
        run_flow(FLOW, {"source.dir": str(tmp_path)}, install=install, work_dir=tmp_path)


def test_invalid_flow_fails_with_log_tail_and_touches_nothing(
    install: StatelessInstall, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    with pytest.raises(StatelessRunError) as info:
        run_flow(
            FLOW,
            {"source.directory": str(tmp_path / "no-such-dir"), "landing.directory": str(landing)},
            install=install,
            work_dir=tmp_path / "run",
            timeout_s=300,
        )
    err = info.value
    assert err.exit_code == 2 and err.status == "invalid", str(err)
    assert "Input Directory" in str(err) and "Input Directory" in err.log_tail
    assert not landing.exists()


def test_failure_port_rolls_back_and_keeps_the_drop(
    install: StatelessInstall, tmp_path: Path
) -> None:
    source = tmp_path / "drop"
    source.mkdir()
    for name, data in DROPS.items():
        (source / name).write_bytes(data)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("PutFile cannot create directories below a regular file")

    with pytest.raises(StatelessRunError) as info:
        run_flow(
            FLOW,
            {"source.directory": str(source), "landing.directory": str(blocker / "landing")},
            install=install,
            work_dir=tmp_path / "run",
            timeout_s=300,
        )
    assert info.value.exit_code == 3 and info.value.status == "failed", str(info.value)
    # The whole invocation rolled back, so FetchFile's delete never happened.
    assert {p.name: p.read_bytes() for p in source.iterdir()} == DROPS
