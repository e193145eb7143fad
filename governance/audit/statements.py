"""One ``governance.audit_log`` row per statement run through ``lakehouse serve``.

Where the statements come from: HiveServer2's own listener (``HiveThriftServer2Listener``,
registered by ``HiveThriftServer2.startWithContext``) keeps every statement in Spark's status
store as an ``ExecutionInfo``: statement id, text, session, client user name, start and finish
times, state (FINISHED, FAILED, CANCELED, TIMEDOUT, CLOSED) and the error text. The store is
read with ``HiveThriftServer2AppStatusStore(sc.statusStore.store)`` (Spark 4.2's class), polled
from a thread of the serving process; each statement that has finished is written once. The
tables a statement read come from the role guard (keyed by the statement id, which is also the
job group the server sets before it analyses the statement).

The store keeps ``spark.sql.thriftServer.ui.retainedStatements`` statements (200 by default);
polling twice a second keeps up with far more than a BI tool sends.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime
from typing import Any

from governance.audit.log import AuditRecord, append, table_versions
from lakehouse.settings import Settings

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5
_REFUSAL = re.compile(r"\brole \S+ may (not read|only run queries)\b")


def _when(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def outcome_of(state: str, detail: str) -> str:
    """``ok``, ``denied`` (the role guard refused) or ``error``/``canceled``/``timedout``."""
    if state in ("FINISHED", "CLOSED") and not detail:
        return "ok"
    if _REFUSAL.search(detail):  # the role guard's words (governance/access/thrift.py)
        return "denied"
    return {"CANCELED": "canceled", "TIMEDOUT": "timedout"}.get(state, "error")


class StatementAudit(threading.Thread):
    """Polls the server's statements and appends one audit row per finished statement."""

    def __init__(self, spark: Any, settings: Settings, role: str, reads: dict[str, set[str]]):
        super().__init__(name="serve-audit", daemon=True)
        jvm = spark.sparkContext._jvm
        store = spark.sparkContext._jsc.sc().statusStore().store()
        self._store = jvm.org.apache.spark.sql.hive.thriftserver.ui.HiveThriftServer2AppStatusStore(
            store
        )
        self._settings, self._role, self._reads = settings, role, reads
        self._done: set[str] = set()
        self._halt = threading.Event()  # not _stop: Thread has its own
        self.written = 0

    def run(self) -> None:
        """Poll until stopped; a failed write is logged and retried on the next poll."""
        while not self._halt.wait(POLL_SECONDS):
            self.poll()

    def stop(self) -> None:
        """Stop polling and write what has finished since the last poll."""
        self._halt.set()
        self.join(timeout=10)
        self.poll()

    def poll(self) -> None:
        """Write a row for every statement that finished and has no row yet."""
        try:
            executions = self._store.getExecutionList()
            iterator = executions.iterator()
            while iterator.hasNext():
                info = iterator.next()
                if info.finishTimestamp() > 0 and info.execId() not in self._done:
                    append(self._settings, self.record(info))
                    self._done.add(info.execId())
                    self.written += 1
        except Exception as exc:  # the audit never stops the server; retried next poll
            log.warning("serve audit: %s", " ".join(str(exc).split())[:300])

    def record(self, info: Any) -> AuditRecord:
        """The audit row of one statement."""
        detail = info.detail() or ""
        state = info.state().toString()
        tables = sorted(self._reads.pop(info.execId(), set()))
        return AuditRecord(
            command="serve",
            arguments=f"statement {info.execId()} session {info.sessionId()}",
            user=info.userName() or "anonymous",
            role=self._role,
            started_at=_when(info.startTimestamp()),
            finished_at=_when(info.finishTimestamp()),
            sql_text=info.statement(),
            tables_read=table_versions(self._settings, tables),
            outcome=outcome_of(state, detail),
            message=" ".join(detail.split())[:1000],
        )
