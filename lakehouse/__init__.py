"""The lakehouse core: settings, lake paths and table registry, Spark session, parsers, bronze.

Everything else (governance, jobs, flows, the CLI) builds on this package; it imports none of
them.
"""

__version__ = "0.1.0"
