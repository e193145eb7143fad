"""``governance.audit_log``: who ran what, when, on which table versions, and how it ended.

One row per run of an audited command (queries through ``lakehouse sql``, job runs, lineage
publishes, exports), written when the run ends, whatever its outcome (ok, denied, error). The
table is append-only twice over: this module only ever appends, and the table carries
``delta.appendOnly=true``, so Delta itself refuses an UPDATE or DELETE from any engine.

Written with delta-rs (no JVM): a failing or JVM-free command is audited too. Secrets never
reach it: the record holds the command's arguments (which carry no secret: secrets come from
the environment only), never the environment.

Commands add what they know while they run (:func:`note`: tables read with their Delta
versions, tables written, row counts, the SQL text); :func:`audited` writes the row.
"""

from __future__ import annotations

import contextvars
import getpass
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lakehouse.settings import Settings

log = logging.getLogger(__name__)
TABLE = ("governance", "audit_log")
AUDITED = frozenset(
    {
        "sql",
        "serve",
        "lineage",
        "transform",
        "nightly",
        "ingest",
        "validate",
        "quarantine",
        "train",
        "score",
        "export",
        "demo",
    }
)
_current: contextvars.ContextVar[AuditRecord | None] = contextvars.ContextVar("audit", default=None)


@dataclass(slots=True)
class AuditRecord:
    """One run: who (user, role), what (command, arguments, SQL, tables), when, outcome."""

    command: str
    arguments: str
    user: str
    role: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    sql_text: str = ""
    tables_read: list[str] = field(default_factory=list)
    tables_written: list[str] = field(default_factory=list)
    rows: int | None = None
    outcome: str = "ok"
    message: str = ""


def note(**values: Any) -> None:
    """Add to the running command's record (no-op when the command is not audited)."""
    record = _current.get()
    if record is None:
        return
    for key, value in values.items():
        if key in ("tables_read", "tables_written"):
            getattr(record, key).extend(value)
        else:
            setattr(record, key, value)


def who(role: str | None = None) -> tuple[str, str]:
    """(user, role): ``LAKEHOUSE_USER`` or the OS user; the role, or ``pipeline`` for none."""
    user = os.environ.get("LAKEHOUSE_USER") or getpass.getuser()
    return user, role or os.environ.get("LAKEHOUSE_ROLE") or "pipeline"


@contextmanager
def audited(
    settings: Settings, command: str, argv: list[str], role: str | None
) -> Iterator[AuditRecord]:
    """Record the run of ``command``; the row is appended when the block ends, any way it ends."""
    user, role_name = who(role)
    record = AuditRecord(command, " ".join(argv), user, role_name)
    token = _current.set(record)
    try:
        yield record
    except BaseException as exc:
        from governance.access.policy import AccessDeniedError

        record.outcome = "denied" if isinstance(exc, AccessDeniedError) else "error"
        record.message = " ".join(str(exc).split())[:1000] or type(exc).__name__
        _write(settings, record, quiet=True)
        raise
    finally:
        _current.reset(token)
    _write(settings, record, quiet=False)


def _write(settings: Settings, record: AuditRecord, *, quiet: bool) -> None:
    """Append the row; a failure is reported (or, after a failed command, logged only)."""
    from lakehouse.storage import LakeFiles

    record.finished_at = datetime.now(UTC)
    try:
        if not LakeFiles(settings).exists(settings.lake_root.rstrip("/") + "/"):
            # No lake here (a typo, or before `lakehouse init`): writing would create one.
            log.debug("audit record not written: no lake at %s", settings.lake_root)
            return
        append(settings, record)
    except Exception as exc:  # the audit must never hide the command's own outcome
        (log.debug if quiet else log.warning)("audit record not written: %s", exc)


def table_uri(settings: Settings) -> str:
    """Where the audit table lives."""
    return settings.table_uri(*TABLE)


def _schema() -> Any:
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            ("run_id", pa.string()),
            ("started_at", ts),
            ("finished_at", ts),
            ("user", pa.string()),
            ("role", pa.string()),
            ("command", pa.string()),
            ("arguments", pa.string()),
            ("sql_text", pa.string()),
            ("tables_read", pa.list_(pa.string())),
            ("tables_written", pa.list_(pa.string())),
            ("rows", pa.int64()),
            ("outcome", pa.string()),
            ("message", pa.string()),
        ]
    )


def _delta_uri(uri: str) -> str:
    """delta-rs spells ``s3a://`` as ``s3://``; ``file://`` as is."""
    return "s3://" + uri[len("s3a://") :] if uri.startswith("s3a://") else uri


def append(settings: Settings, record: AuditRecord) -> None:
    """Append one row to ``governance.audit_log`` (created append-only on first use)."""
    import pyarrow as pa
    from deltalake import write_deltalake

    from lakehouse.reader import LakeReader

    row = {name: [getattr(record, name)] for name in _schema().names}
    write_deltalake(
        _delta_uri(table_uri(settings)),
        pa.Table.from_pydict(row, schema=_schema()),
        mode="append",
        configuration={"delta.appendOnly": "true"},
        storage_options=LakeReader(settings).storage_options() or None,
    )


def table_versions(settings: Settings, tables: list[str]) -> list[str]:
    """``zone.table@vN`` for each table read (its Delta version now), JVM-free."""
    from deltalake import DeltaTable

    from lakehouse.reader import LakeReader

    options = LakeReader(settings).storage_options() or None
    out = []
    for name in tables:
        zone, _, table = name.partition(".")
        try:
            version = DeltaTable(
                _delta_uri(settings.table_uri(zone, table)), storage_options=options
            ).version()
            out.append(f"{name}@v{version}")
        except Exception:  # not a Delta table at the lake's path: the name alone
            out.append(name)
    return out
