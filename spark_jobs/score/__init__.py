"""Nightly batch scoring into ``gold.risk_scores`` (``score_job``)."""
