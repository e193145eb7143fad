"""The CMS score export: outbound files, manifest, database upsert (``export_job``)."""
