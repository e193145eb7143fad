"""A bronze ingestion (or replay) SIGKILLed at one chosen step: the child process of S3 tests.

Run as ``python -m tests.integration.killed_ingest <settings.pickle> <step>``. The function
that performs the step is wrapped so that the process kills itself with SIGKILL right there,
as an OOM kill or a lost node would: no ``finally``, no ``atexit``, no lease release, the
heartbeat thread gone, uploaded files left where they are. (``fail_at`` in the product stops
with an exception, which cleans up after itself; a real kill does not.)

Every step runs the new path only: the JVM-free parse in this process, delta-rs commits.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

# step -> what the lake holds when the process dies
STEPS = {
    "mid_upload": "one data file uploaded, the others not, nothing logged",
    "before_plan": "every data file uploaded, the plan not logged",
    "before_tables": "the plan logged, no table committed",
    "mid_tables": "one table committed, the others not",
    "before_log_commit": "every table committed, the file log's commit rows not",
    "after_log_commit": "the batch complete, the lease not released",
}
# A quarantine replay (of the control-count rejections) killed after its tables' commits,
# before it logs its batch and marks the quarantine rows.
REPLAY_STEPS = {"replay_before_log": "the replayed records committed, nothing logged or marked"}


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_on_call(real: Callable[..., Any], call: int, *, after: bool = False) -> Callable:
    """``real`` wrapped: the process dies at its ``call``-th call (before it, or right after).

    Calls are serialised, so "after the first table's commit" is exactly one table even
    though the ingestion commits tables from a thread pool.
    """
    lock = threading.Lock()
    calls = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with lock:
            calls[0] += 1
            if calls[0] == call and not after:
                _die()
            result = real(*args, **kwargs)
            if calls[0] == call and after:
                _die()
            return result

    return wrapper


def _kill_on_log(real: Callable[..., Any], status: str, *, after: bool = False) -> Callable:
    """``_append_log`` wrapped: the process dies when the log gets rows of ``status``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("status") == status and not after:
            _die()
        result = real(*args, **kwargs)
        if kwargs.get("status") == status and after:
            _die()
        return result

    return wrapper


def arm(step: str) -> None:
    """Install the kill for ``step`` (one of :data:`STEPS`)."""
    from lakehouse.ingest import bronze
    from lakehouse.storage import LakeFiles

    if step == "mid_upload":
        LakeFiles.write = _kill_on_call(LakeFiles.write, 2)  # type: ignore[method-assign]
    elif step == "before_plan":
        bronze._append_log = _kill_on_log(bronze._append_log, "planned")
    elif step == "before_tables":
        bronze.commit_parts = _kill_on_call(bronze.commit_parts, 1)
    elif step == "mid_tables":
        bronze.commit_parts = _kill_on_call(bronze.commit_parts, 1, after=True)
    elif step == "before_log_commit":
        bronze._append_log = _kill_on_log(bronze._append_log, "committed")
    elif step == "after_log_commit":
        bronze._append_log = _kill_on_log(bronze._append_log, "committed", after=True)
    elif step == "replay_before_log":
        bronze._append_log = _kill_on_log(bronze._append_log, "replayed")
    else:
        raise SystemExit(f"unknown step {step!r}; steps: {', '.join([*STEPS, *REPLAY_STEPS])}")


def main(argv: list[str]) -> int:
    """Ingest the lake of the pickled settings with the kill armed; returns only if not hit."""
    from lakehouse.ingest.bronze import ingest_landing
    from lakehouse.ingest.lease import hold_lease
    from lakehouse.ingest.replay import ReplayFilter, replay_quarantine

    settings = pickle.loads(Path(argv[0]).read_bytes())
    arm(argv[1])
    if argv[1] in REPLAY_STEPS:
        with hold_lease(settings, "lakehouse quarantine replay") as lease:
            replay_quarantine(None, settings, lease, ReplayFilter(code="CONTROL_COUNT"))
    else:
        ingest_landing(None, settings, engine="local")
    print(f"step {argv[1]} was never reached", file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
