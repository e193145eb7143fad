"""Access: roles mapped to zones, tables and columns (policy.yml), enforced on queries (gate)."""
