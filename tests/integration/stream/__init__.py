"""Streaming tests."""
