"""Settings: one typed object from the environment, local by default, errors that name the fix."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from lakehouse.errors import SettingsError, SetupError
from lakehouse.settings import get_settings, load_settings, normalize_lake_root, override_settings
from lakehouse.spark import s3a_conf, s3a_secrets, session_conf

pytestmark = pytest.mark.unit


def test_defaults_are_local_with_a_file_lake_under_the_working_directory(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.env == "local"
    assert settings.lake_root == (tmp_path / "lake").resolve().as_uri()
    assert settings.table_uri("bronze", "erp_payments").endswith("/lake/bronze/erp_payments")
    assert not settings.is_s3


def test_s3_settings_come_from_the_environment_and_secrets_are_not_printed() -> None:
    settings = load_settings(
        {
            "LAKEHOUSE_ENV": "prod",
            "LAKEHOUSE_LAKE_ROOT": "s3://customs-lake/prod/",
            "LAKEHOUSE_S3_ENDPOINT": "http://127.0.0.1:9000",
            "LAKEHOUSE_S3_ACCESS_KEY": "AKIAEXAMPLE",
            "LAKEHOUSE_S3_SECRET_KEY": "very-secret",
        }
    )
    assert settings.lake_root == "s3a://customs-lake/prod"
    assert settings.is_s3
    assert settings.s3.ssl is False  # http endpoint
    assert "very-secret" not in repr(settings)
    conf = s3a_conf(settings)
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert "spark.hadoop.fs.s3a.secret.key" not in conf
    assert s3a_secrets(settings) == {
        "fs.s3a.access.key": "AKIAEXAMPLE",
        "fs.s3a.secret.key": "very-secret",
    }


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LAKEHOUSE_ENV": "staging"}, "LAKEHOUSE_ENV='staging' is not one of local, test, prod"),
        ({"LAKEHOUSE_ENV": "prod"}, "set LAKEHOUSE_LAKE_ROOT"),
        ({"LAKEHOUSE_LAKE_ROOT": "hdfs://nn/lake"}, "unsupported scheme 'hdfs'"),
        ({"LAKEHOUSE_LAKE_ROOT": "s3a://"}, "has no bucket"),
        ({"LAKEHOUSE_S3_PATH_STYLE": "maybe"}, "LAKEHOUSE_S3_PATH_STYLE='maybe' is not a boolean"),
        ({"LAKEHOUSE_SHUFFLE_PARTITIONS": "many"}, "LAKEHOUSE_SHUFFLE_PARTITIONS='many'"),
    ],
)
def test_bad_settings_are_rejected_with_the_variable_to_fix(env: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(env)


def test_override_settings_is_scoped() -> None:
    before = get_settings()
    with override_settings(lake_root="file:///tmp/other") as inside:
        assert get_settings() is inside and inside.lake_root == "file:///tmp/other"
    assert get_settings() is before


def test_paths_become_file_uris() -> None:
    assert normalize_lake_root("/srv/lake/") == Path("/srv/lake").as_uri()


def test_session_conf_names_the_fix_when_jars_are_missing(tmp_path) -> None:
    settings = load_settings({"LAKEHOUSE_CACHE_DIR": str(tmp_path)})
    with pytest.raises(SetupError, match=r"run scripts/bootstrap\.sh"):
        session_conf(settings, app_name="x")


def _fake_jars(cache_dir: Path) -> None:
    jars = cache_dir / "jars" / "spark"
    jars.mkdir(parents=True)
    for name in (
        "delta-spark_4.2_2.13-4.4.0.jar",
        "delta-storage-4.4.0.jar",
        "hadoop-aws-3.5.0.jar",
        "bundle-2.35.4.jar",
    ):
        (jars / name).write_bytes(b"")


def test_session_conf_enables_delta_and_uses_the_cached_jars(tmp_path) -> None:
    _fake_jars(tmp_path)
    conf = session_conf(load_settings({"LAKEHOUSE_CACHE_DIR": str(tmp_path)}), app_name="x")
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert conf["spark.jars"].count(".jar") == 4
    assert conf["spark.sql.session.timeZone"] == "UTC"


def test_a_job_adds_its_own_java_options_after_the_ones_every_session_needs(tmp_path) -> None:
    _fake_jars(tmp_path)
    settings = load_settings({"LAKEHOUSE_CACHE_DIR": str(tmp_path)})
    plain = session_conf(settings, app_name="x")["spark.driver.extraJavaOptions"]
    tuned = session_conf(settings, app_name="x", java_options="-XX:+UseParallelGC")
    assert tuned["spark.driver.extraJavaOptions"] == f"{plain} -XX:+UseParallelGC"
    assert not plain.endswith(" ")


_SECRETS = st.text(
    alphabet=st.characters(categories=("L", "N", "P", "S"), exclude_characters="\x00"),
    min_size=12,
    max_size=64,
)


@hypothesis_settings(max_examples=60, deadline=None)
@given(access=_SECRETS, secret=_SECRETS)
def test_no_s3_secret_reaches_the_spark_submit_options(access: str, secret: str) -> None:
    # Every session_conf value becomes `spark-submit --conf k=v`, readable in /proc/*/cmdline:
    # with keys, the options are exactly those without keys plus the provider class, so no
    # option can carry (any part of) a key.
    provider = "spark.hadoop.fs.s3a.aws.credentials.provider"
    with tempfile.TemporaryDirectory() as tmp:
        _fake_jars(Path(tmp))
        env = {"LAKEHOUSE_CACHE_DIR": tmp, "LAKEHOUSE_S3_ENDPOINT": "https://s3.example"}
        keyed = {**env, "LAKEHOUSE_S3_ACCESS_KEY": access, "LAKEHOUSE_S3_SECRET_KEY": secret}
        with_keys = session_conf(load_settings(keyed), app_name="x")
        without_keys = session_conf(load_settings(env), app_name="x")
    assert with_keys.pop(provider).endswith("SimpleAWSCredentialsProvider")
    assert with_keys == without_keys
    assert s3a_secrets(load_settings(keyed)) == {
        "fs.s3a.access.key": access,
        "fs.s3a.secret.key": secret,
    }


def test_without_keys_the_default_aws_chain_is_left_alone() -> None:
    settings = load_settings({"LAKEHOUSE_S3_ENDPOINT": "https://s3.example"})
    assert s3a_secrets(settings) == {}
    assert "spark.hadoop.fs.s3a.aws.credentials.provider" not in s3a_conf(settings)


PROD = {"LAKEHOUSE_ENV": "prod", "LAKEHOUSE_LAKE_ROOT": "s3a://lake/prod"}


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://cms:pw@cms-db/scores?sslmode=verify-full&sslrootcert=/etc/ca.crt",
        "host=cms-db dbname=scores user=cms password=pw sslmode=require",
        "postgresql://cms@cms-db/scores?sslmode=verify-ca",
    ],
)
def test_prod_pg_dsn_with_tls_is_accepted(dsn: str) -> None:
    assert load_settings({**PROD, "LAKEHOUSE_PG_DSN": dsn}).pg_dsn == dsn


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://cms:hunter2@cms-db/scores", "sslmode=(unset)"),
        ("host=cms-db password=hunter2 sslmode=prefer", "sslmode=prefer"),
        ("postgresql://cms:hunter2@cms-db/scores?sslmode=disable", "sslmode=disable"),
    ],
)
def test_prod_pg_dsn_without_tls_is_refused_without_echoing_it(dsn: str, shown: str) -> None:
    with pytest.raises(SettingsError, match="add sslmode=verify-full") as err:
        load_settings({**PROD, "LAKEHOUSE_PG_DSN": dsn})
    assert shown in str(err.value)
    assert "hunter2" not in str(err.value)
    # local and test keep whatever the developer's database offers
    assert load_settings({"LAKEHOUSE_PG_DSN": dsn}).pg_dsn == dsn


def test_malformed_prod_pg_dsn_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError, match="not a valid PostgreSQL DSN") as err:
        load_settings({**PROD, "LAKEHOUSE_PG_DSN": "host=cms-db password=hunter2 oops"})
    assert "hunter2" not in str(err.value)
