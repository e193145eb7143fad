"""Check that two validations of the same lake found the same: results and failing rows.

Why: a faster validator must not count differently. Validate two copies of one lake (e.g.
hard-linked with ``cp -al``), one with the baseline revision and one with the tree under test,
then compare their ``governance.dq_results`` (per run, table and check: rows checked, rows
failed, status, examples) and ``governance.dq_failed_rows`` (every copied row, with its check).
Reads the Delta tables with delta-rs (no JVM). Exit code 1 when anything differs.

    python benchmarks/compare_validate.py /work/bench/a/lake /work/bench/b/lake
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

RESULT_FIELDS = ("delta_version", "scope", "rows_checked", "rows_failed", "status", "examples")


def _rows(lake: Path, table: str) -> list[dict]:
    from deltalake import DeltaTable

    return DeltaTable(str(lake / "governance" / table)).to_pyarrow_table().to_pylist()


def results(lake: Path, prefix: str = "") -> dict[tuple[str, str, str], tuple]:
    """(run id, table, check) -> what the run found for it (tables starting with ``prefix``)."""
    return {
        (r["run_id"], r["table"], r["check"]): tuple(
            tuple(r[f]) if f == "examples" else r[f] for f in RESULT_FIELDS
        )
        for r in _rows(lake, "dq_results")
        if r["table"].startswith(prefix)
    }


def failed_rows(lake: Path, prefix: str = "") -> Counter:
    """Every copied failing row (run id, table, check, record), with its multiplicity."""
    return Counter(
        (r["run_id"], r["table"], r["check"], r["record"])
        for r in _rows(lake, "dq_failed_rows")
        if r["table"].startswith(prefix)
    )


def main() -> int:
    """Compare the two lakes' quality tables; print a summary as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", type=Path, help="lake validated by the baseline revision")
    parser.add_argument("current", type=Path, help="lake validated by the tree under test")
    parser.add_argument("--zone", default="", help="compare only this zone's tables")
    args = parser.parse_args()
    prefix = f"{args.zone}." if args.zone else ""
    base, now = results(args.baseline, prefix), results(args.current, prefix)
    differing = sorted(k for k in base.keys() & now.keys() if base[k] != now[k])
    rows_base, rows_now = failed_rows(args.baseline, prefix), failed_rows(args.current, prefix)
    report = {
        "checks_compared": len(base.keys() & now.keys()),
        "only_baseline": sorted(map(list, base.keys() - now.keys()))[:10],
        "only_current": sorted(map(list, now.keys() - base.keys()))[:10],
        "differing": [[*k, base[k], now[k]] for k in differing[:10]],
        "failed_rows_compared": sum(rows_base.values()),
        "failed_rows_equal": rows_base == rows_now,
    }
    print(json.dumps(report, indent=2, default=str))
    same = not (report["only_baseline"] or report["only_current"] or differing)
    return 0 if same and report["failed_rows_equal"] and report["checks_compared"] else 1


if __name__ == "__main__":
    sys.exit(main())
