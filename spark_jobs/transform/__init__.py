"""Entry points for the transformation half (bronze -> silver -> gold)."""
