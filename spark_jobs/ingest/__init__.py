"""Ingest jobs: landing zone to bronze."""
