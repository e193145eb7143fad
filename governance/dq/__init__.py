"""Data quality: run the contracts (``validate``), the gate (``gate``), the run report."""

from governance.dq.results import CheckResult, Verdict, gate

__all__ = ["CheckResult", "Verdict", "gate"]
