"""Bronze ingestion: landed files into Delta bronze tables (see :mod:`lakehouse.ingest.bronze`)."""
