"""Catalog options, local state, the pseudonym key and the SQL printer: no JVM."""

from __future__ import annotations

import hashlib
import hmac
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakehouse.catalog import catalog_conf, local_state_dir
from lakehouse.errors import SettingsError
from lakehouse.settings import load_settings
from lakehouse.transform import (
    dbt_args,
    last_tested_batch,
    make_pseudonym,
    national_currency,
    pseudonym_key,
)

pytestmark = pytest.mark.unit


def test_embedded_metastore_lives_beside_a_file_lake(tmp_path) -> None:
    settings = load_settings({"LAKEHOUSE_LAKE_ROOT": str(tmp_path / "lake")})
    conf = catalog_conf(settings, env={})
    assert conf["spark.sql.catalogImplementation"] == "hive"
    assert conf["spark.hadoop.javax.jdo.option.ConnectionURL"] == (
        f"jdbc:derby:;databaseName={tmp_path / 'lake' / '_state' / 'metastore_db'};create=true"
    )


def test_s3_lake_keeps_its_state_on_the_local_side() -> None:
    settings = load_settings({"LAKEHOUSE_LAKE_ROOT": "s3a://bucket/lake"})
    state = local_state_dir(settings, env={})
    assert str(state).startswith(str(state.home())) and "bucket-" in state.name


def test_postgres_metastore_is_one_setting() -> None:
    settings = load_settings({"LAKEHOUSE_LAKE_ROOT": "/tmp/x"})
    env = {
        "LAKEHOUSE_METASTORE_URL": "jdbc:postgresql://127.0.0.1:5432/metastore",
        "LAKEHOUSE_METASTORE_USER": "hive",
        "LAKEHOUSE_METASTORE_PASSWORD": "pw",
    }
    conf = catalog_conf(settings, env=env)
    assert conf["spark.hadoop.javax.jdo.option.ConnectionDriverName"] == "org.postgresql.Driver"
    assert conf["spark.hadoop.javax.jdo.option.ConnectionUserName"] == "hive"


def test_other_metastore_urls_are_a_clear_error() -> None:
    settings = load_settings({"LAKEHOUSE_LAKE_ROOT": "/tmp/x"})
    with pytest.raises(SettingsError, match="jdbc:postgresql"):
        catalog_conf(settings, env={"LAKEHOUSE_METASTORE_URL": "jdbc:mysql://h/db"})


def test_prod_without_pseudonym_key_or_currency_is_an_error(tmp_path) -> None:
    settings = load_settings({"LAKEHOUSE_ENV": "prod", "LAKEHOUSE_LAKE_ROOT": str(tmp_path)})
    with pytest.raises(SettingsError, match="LAKEHOUSE_PSEUDONYM_KEY"):
        pseudonym_key(settings, env={})
    with pytest.raises(SettingsError, match="LAKEHOUSE_NATIONAL_CURRENCY"):
        national_currency(settings, env={})
    assert national_currency(settings, env={"LAKEHOUSE_NATIONAL_CURRENCY": "ugx"}) == "UGX"


def test_local_key_is_generated_once_outside_the_repository(tmp_path) -> None:
    settings = load_settings({"LAKEHOUSE_LAKE_ROOT": str(tmp_path / "lake")})
    first = pseudonym_key(settings, env={})
    assert first == pseudonym_key(settings, env={})
    key_file = tmp_path / "lake" / "_state" / "pseudonym.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert pseudonym_key(settings, env={"LAKEHOUSE_PSEUDONYM_KEY": "k"}) == b"k"


@given(st.text(min_size=1), st.text(min_size=1))
def test_pseudonym_is_hmac_sha256(key: str, value: str) -> None:
    digest = make_pseudonym(key.encode())(value)
    assert digest == hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()
    assert make_pseudonym(key.encode())(None) is None


def test_dbt_args_pass_the_settings_as_vars(tmp_path) -> None:
    settings = load_settings({"LAKEHOUSE_LAKE_ROOT": str(tmp_path / "lake")})
    args = dbt_args(settings, select=["fct_declarations"], full_refresh=True)
    assert args[0] == "build" and "--full-refresh" in args
    variables = json.loads(args[args.index("--vars") + 1])
    assert variables["lake_root"] == (tmp_path / "lake").resolve().as_uri()
    assert args[args.index("--select") + 1] == "fct_declarations"
    assert "unit_test" not in args


def test_nightly_build_leaves_unit_tests_out(tmp_path) -> None:
    settings = load_settings({"LAKEHOUSE_LAKE_ROOT": str(tmp_path / "lake")})
    args = dbt_args(settings, unit_tests=False)
    assert args[args.index("--exclude-resource-type") + 1] == "unit_test"


def test_staging_tests_scope_is_passed_only_when_known(tmp_path) -> None:
    settings = load_settings({"LAKEHOUSE_LAKE_ROOT": str(tmp_path / "lake")})
    scoped = json.loads((a := dbt_args(settings, tested_through=7))[a.index("--vars") + 1])
    assert scoped["tested_through_batch"] == 7
    whole = json.loads((a := dbt_args(settings))[a.index("--vars") + 1])
    assert "tested_through_batch" not in whole


@pytest.mark.parametrize(
    ("marker", "bronze_through", "expected"),
    [(None, 9, None), ("5\n", 9, 5), ("9", 9, 9), ("12\n", 9, None), ("junk", 9, None)],
)
def test_staging_is_tested_again_unless_a_complete_run_recorded_it(
    tmp_path, marker: str | None, bronze_through: int, expected: int | None
) -> None:
    """No marker (first or failed run) or one beyond bronze (a re-created lake): test all."""
    settings = load_settings({"LAKEHOUSE_LAKE_ROOT": str(tmp_path / "lake")})
    if marker is not None:
        path = local_state_dir(settings) / "dbt" / "tested_through_batch"
        path.parent.mkdir(parents=True)
        path.write_text(marker)
    assert last_tested_batch(settings, bronze_through) == expected


def test_sql_printer_formats() -> None:
    from lakehouse.cli.sql import write

    out = io.StringIO()
    write(["a", "b"], [(1, None), (22, "x")], "table", out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["a", "b"] and lines[2].split() == ["1", "NULL"]
    out = io.StringIO()
    write(["a"], [(1,)], "json", out)
    assert json.loads(out.getvalue()) == {"a": 1}


def test_spark_errors_are_cut_before_the_plan() -> None:
    from lakehouse.cli.sql import spark_message

    exc = Exception(
        "[UNRESOLVED_COLUMN] `nope` cannot be resolved. SQLSTATE: 42703; line 1\n'Project"
    )
    assert spark_message(exc) == "[UNRESOLVED_COLUMN] `nope` cannot be resolved. SQLSTATE: 42703"
