"""The audit trail: ``governance.audit_log``, one append-only Delta row per command run."""
