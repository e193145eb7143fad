"""Data-quality job: run the pandera contracts on lake tables (``validate_job``)."""
