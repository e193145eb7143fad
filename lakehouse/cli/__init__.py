"""The ``lakehouse`` command: one module per sub-command; the one place that composes jobs."""
