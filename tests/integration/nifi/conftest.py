"""Fixtures shared by the NiFi Stateless tests."""

from __future__ import annotations

import pytest

from nifi_flows.stateless import StatelessInstall, StatelessNotInstalledError, ensure_stateless


@pytest.fixture(scope="session")
def install() -> StatelessInstall:
    """The NiFi Stateless install from scripts/nifi_setup.sh (skip, naming the fix, if absent)."""
    try:
        return ensure_stateless()
    except StatelessNotInstalledError as exc:
        pytest.skip(f"NiFi Stateless cache not set up ({exc}): run scripts/nifi_setup.sh")
