"""The JVM-free reader and ``lakehouse tables|show`` on a small Delta table.

The table is written here with delta-rs (tests only: product code never writes with it) so
these tests need no JVM; the integration tests read tables Spark wrote.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from hypothesis import given, settings
from hypothesis import strategies as st

from lakehouse.cli.main import main
from lakehouse.errors import QueryError, TableNotFoundError, UnknownTableError
from lakehouse.reader import LakeReader
from lakehouse.settings import load_settings

pytestmark = pytest.mark.unit

ROWS = pa.table(
    {
        "lrn": ["A1", "B2", "C3", "Zoë-4"],
        "office_code": ["X01", "X02", "X01", None],
        "total_duty": pa.array(
            [Decimal("12.5"), Decimal("0.000000000000000001"), None, Decimal("99999999.25")],
            pa.decimal128(38, 18),
        ),
        "items": [[{"hs": "0101"}], [], None, [{"hs": "8703"}, {"hs": "8704"}]],
    }
)


@pytest.fixture()
def lake(tmp_path):
    root = tmp_path / "lake"
    write_deltalake(str(root / "bronze" / "cms_declarations"), ROWS)
    write_deltalake(str(root / "silver" / "stg_cms__declarations"), ROWS.slice(0, 2))
    return root


def _reader(root) -> LakeReader:
    return LakeReader(load_settings({"LAKEHOUSE_LAKE_ROOT": str(root)}))


def test_tables_lists_registered_and_discovered_tables(lake) -> None:
    tables = _reader(lake).tables()
    assert "bronze.cms_declarations" in tables
    assert "bronze.quarantine" in tables
    assert "silver.stg_cms__declarations" in tables
    assert tables.index("bronze.quarantine") < tables.index("silver.stg_cms__declarations")


def test_info_reads_the_log(lake) -> None:
    reader = _reader(lake)
    info = reader.info("bronze.cms_declarations")
    assert (info.exists, info.rows, info.version, info.files) == (True, 4, 0, 1)
    assert info.size_bytes and info.size_bytes > 0 and info.last_write is not None
    assert reader.info("bronze.quarantine").exists is False


def test_scan_filters_projects_and_limits(lake) -> None:
    reader = _reader(lake)
    rows = reader.scan("bronze.cms_declarations", where="office_code = 'X01'", columns=["lrn"])
    assert sorted(rows.column("lrn").to_pylist()) == ["A1", "C3"]
    assert reader.scan("bronze.cms_declarations", limit=1).num_rows == 1
    exact = reader.scan("bronze.cms_declarations", where="total_duty < 1", columns=["total_duty"])
    assert exact.column("total_duty").to_pylist() == [Decimal("0.000000000000000001")]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"where": "no_such_column = 1"}, "--where"),
        ({"where": "lrn = = 'x'"}, "--where"),
        ({"columns": ["lrn", "nope"]}, "columns are: lrn, office_code"),
    ],
)
def test_bad_predicates_and_columns_are_query_errors(lake, kwargs, match) -> None:
    with pytest.raises(QueryError, match=match):
        _reader(lake).scan("bronze.cms_declarations", **kwargs)


def test_missing_and_unknown_tables_name_the_fix(lake) -> None:
    with pytest.raises(TableNotFoundError, match="run `lakehouse ingest` first"):
        _reader(lake).open("bronze.quarantine")
    with pytest.raises(UnknownTableError, match="see `lakehouse tables`"):
        _reader(lake).open("bronze.nope")
    with pytest.raises(UnknownTableError):
        _reader(lake).open("landing.cms")


def test_show_prints_csv_json_and_a_table(lake, capsys) -> None:
    base = ["show", "bronze.cms_declarations", "--lake-root", str(lake)]
    assert main([*base, "--format", "csv", "--where", "lrn like 'Z%'"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "lrn,office_code,total_duty,items"
    assert out[1] == 'Zoë-4,,99999999.25,"[{""hs"":""8703""},{""hs"":""8704""}]"'
    assert main([*base, "--format", "json", "--where", "total_duty < 1"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["total_duty"] == "0.000000000000000001"
    assert main([*base, "--limit", "2"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "(2 rows)"


def test_show_columns_lists_the_schema(lake, capsys) -> None:
    assert main(["show", "bronze.cms_declarations", "--columns", "--lake-root", str(lake)]) == 0
    out = capsys.readouterr().out
    assert "total_duty   decimal128(38, 18)" in out


def test_tables_json(lake, capsys) -> None:
    assert main(["--json", "tables", "--lake-root", str(lake)]) == 0
    listed = {t["table"]: t for t in json.loads(capsys.readouterr().out)["tables"]}
    assert listed["bronze.cms_declarations"]["rows"] == 4
    assert listed["bronze.quarantine"]["exists"] is False


def test_errors_are_one_line_and_exit_2(lake, capsys) -> None:
    code = main(["show", "bronze.cms_declarations", "--where", "nope(", "--lake-root", str(lake)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith("lakehouse show: error: --where 'nope(' is not valid")


@settings(max_examples=25, deadline=None)
@given(st.text(max_size=30))
def test_any_where_text_either_answers_or_is_a_query_error(tmp_path_factory, text) -> None:
    root = tmp_path_factory.getbasetemp() / "hypothesis-lake"
    if not (root / "bronze" / "cms_declarations").exists():
        write_deltalake(str(root / "bronze" / "cms_declarations"), ROWS)
    try:
        rows = _reader(root).scan("bronze.cms_declarations", where=text, limit=5)
    except QueryError as exc:
        assert "\n" not in str(exc)  # one line, whatever the sender of --where typed
    else:
        assert rows.num_rows <= 5
