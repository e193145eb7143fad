"""Shared fixtures: one Spark session per test run, real S3Proxy and PostgreSQL on loopback."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakehouse.settings import Settings, load_settings, override_settings
from tests.services import PostgresServer, S3ProxyServer, start_postgres, start_s3proxy

_RUN_DIR = Path(tempfile.mkdtemp(prefix="lakehouse-tests-"))
# The PostgreSQL server runs as the 'postgres' user when the tests run as root: let it in.
_RUN_DIR.chmod(0o755)


@pytest.fixture(scope="session")
def run_dir() -> Path:
    """A temporary directory that lives for the whole test run."""
    return _RUN_DIR


@pytest.fixture(scope="session")
def s3proxy(run_dir: Path) -> Iterator[S3ProxyServer]:
    """A real S3-compatible server (S3Proxy, filesystem backend) with a bucket ``lake``."""
    server = start_s3proxy(run_dir / "s3proxy")
    server.client().create_bucket(Bucket="lake")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres(run_dir: Path) -> Iterator[PostgresServer]:
    """A real PostgreSQL cluster started for this run."""
    server = start_postgres(run_dir / "postgres")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def base_settings(run_dir: Path, s3proxy: S3ProxyServer) -> Settings:
    """Test settings: a file lake under the run dir, S3A pointed at the S3Proxy fixture.

    The session is built with the S3 endpoint configured up front because Spark reads Hadoop
    options when the session starts, and one session serves every test.
    """
    return load_settings(
        {
            "LAKEHOUSE_ENV": "test",
            "LAKEHOUSE_LAKE_ROOT": str(run_dir / "lake"),
            "LAKEHOUSE_S3_ENDPOINT": s3proxy.endpoint,
            "LAKEHOUSE_S3_ACCESS_KEY": s3proxy.access_key,
            "LAKEHOUSE_S3_SECRET_KEY": s3proxy.secret_key,
            "LAKEHOUSE_SHUFFLE_PARTITIONS": "2",
            "LAKEHOUSE_SPARK_DRIVER_MEMORY": "3g",
        }
    )


@pytest.fixture(scope="session")
def spark(base_settings: Settings, run_dir: Path):
    """The one Spark session of the test run (local[2], UI off, few shuffle partitions)."""
    from lakehouse.spark import get_spark

    session = get_spark(
        base_settings, app_name="lakehouse-tests", warehouse_dir=str(run_dir / "warehouse")
    )
    yield session
    session.stop()


@pytest.fixture()
def lake(base_settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """Settings whose lake root is a fresh local directory for one test."""
    with override_settings(lake_root=(tmp_path / "lake").resolve().as_uri()) as settings:
        yield settings
