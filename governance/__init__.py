"""Governance: pandera contracts, lineage (Atlas and local), privacy, access policies, audit."""
