"""Entry point: build silver and gold with dbt in this Spark process (``spark-submit`` or
``python -m``). Thin on purpose: the same code path as ``lakehouse transform`` (the session is
built first so dbt's session method finds it with Delta, s3a and the catalog configured;
errors are one line and exit 2; exit 1 when bronze and silver do not reconcile).

    spark-submit spark_jobs/transform/dbt_job.py --lake-root s3a://bucket/lake [--full-refresh]
"""

from __future__ import annotations

import sys

from lakehouse.cli.main import main as lakehouse_main


def main(argv: list[str] | None = None) -> int:
    """``lakehouse transform`` with these arguments."""
    return lakehouse_main(["transform", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
