"""The lakehouse's named errors: one hierarchy so callers can catch what they can act on."""

from __future__ import annotations


class LakehouseError(Exception):
    """Base class of every error this project raises on purpose."""


class SettingsError(LakehouseError, ValueError):
    """A setting is missing or invalid; the message names the environment variable to fix."""


class SetupError(LakehouseError, RuntimeError):
    """A required local install (jars, servers) is missing; the message names the command to run."""


class IngestError(LakehouseError, RuntimeError):
    """Bronze ingestion could not complete a batch (storage or commit failure, not bad input)."""


class ExportError(LakehouseError, RuntimeError):
    """The CMS score export could not be produced or delivered."""


class LakeNotFoundError(LakehouseError, FileNotFoundError):
    """The lake root holds no lake (no tables): the message names the path and the init command."""
