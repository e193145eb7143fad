"""Thin Spark job entry points (ingest, transform, train, score, export) over pure transforms."""
