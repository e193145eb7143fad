"""Shared options, pre-flight checks of local lakes, progress (no JVM, no network)."""

from __future__ import annotations

import io
import socket
import sys

import pytest

from lakehouse.cli.common import Reporter, check_bucket, check_local_lake, option
from lakehouse.cli.main import build_parser
from lakehouse.errors import LakeRootIsFileError, S3UnreachableError
from lakehouse.settings import load_settings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "tables", "--lake-root", "/tmp/x"],
        ["tables", "--json", "--lake-root", "/tmp/x"],
        ["--lake-root", "/tmp/x", "--json", "tables"],
    ],
)
def test_shared_options_work_before_and_after_the_command(argv) -> None:
    args = build_parser().parse_args(argv)
    assert option(args, "json") is True
    assert args.lake_root == "/tmp/x"
    assert option(args, "quiet") is False


def test_shared_options_fall_back_to_their_environment_variable(monkeypatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_QUIET", "true")
    monkeypatch.setenv("LAKEHOUSE_LAKE_ROOT", "/srv/lake")
    args = build_parser().parse_args(["tables"])
    assert option(args, "quiet") is True
    assert option(args, "lake_root") == "/srv/lake"


def test_job_options_keep_working_with_the_shared_lake_root() -> None:
    args = build_parser().parse_args(["--lake-root", "/a", "simulate", "--declarations", "5"])
    assert args.lake_root == "/a"
    assert args.declarations == 5
    args = build_parser().parse_args(["ingest", "--max-files", "3"])
    assert "lake_root" not in vars(args)
    assert args.max_files == 3


def _local(path) -> object:
    return load_settings({"LAKEHOUSE_LAKE_ROOT": str(path)})


def test_a_lake_root_that_is_a_file_is_refused(tmp_path) -> None:
    (tmp_path / "lake").write_text("not a folder")
    with pytest.raises(LakeRootIsFileError, match="is \\(or lies under\\) a file"):
        check_local_lake(_local(tmp_path / "lake"), write=False)
    with pytest.raises(LakeRootIsFileError):
        check_local_lake(_local(tmp_path / "lake" / "deeper"), write=True)


def test_a_missing_lake_under_a_writable_folder_passes(tmp_path) -> None:
    check_local_lake(_local(tmp_path / "new" / "lake"), write=True)
    assert not (tmp_path / "new").exists()
    assert list(tmp_path.iterdir()) == []  # the write probe leaves nothing behind


def test_an_s3_endpoint_nobody_listens_on_fails_in_seconds() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = load_settings(
        {
            "LAKEHOUSE_LAKE_ROOT": "s3a://lake/x",
            "LAKEHOUSE_S3_ENDPOINT": f"http://127.0.0.1:{port}",
            "LAKEHOUSE_S3_ACCESS_KEY": "a",
            "LAKEHOUSE_S3_SECRET_KEY": "b",
        }
    )
    with pytest.raises(S3UnreachableError, match=f"127.0.0.1:{port} is unreachable"):
        check_bucket(settings)


def test_progress_lines_count_and_estimate_when_not_a_terminal(monkeypatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with Reporter("simulate").counting("declarations", 20) as count:
        for done in range(1, 21):
            count(done)
    lines = err.getvalue().splitlines()
    assert len(lines) == 10
    assert "declarations: 2/20 (10%), ETA" in lines[0]
    assert "20/20 (100%)" in lines[-1]


def test_quiet_progress_prints_nothing(monkeypatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    quiet = Reporter("ingest", quiet=True)
    quiet.say("hello")
    with quiet.counting("files", 5) as count:
        count(5)
    assert err.getvalue() == ""


def test_commands_made_without_add_command_still_get_the_lake_root_and_global_flags() -> None:
    import argparse

    from lakehouse.cli.common import add_common_options, add_lake_root

    top = argparse.ArgumentParser()
    add_common_options(top)
    sub = top.add_subparsers(dest="command")
    legacy = sub.add_parser("legacy")
    add_lake_root(legacy)
    legacy.add_argument("--format", choices=("table", "json"))
    args = top.parse_args(["--json", "legacy", "--lake-root", "/x", "--format", "json"])
    assert (args.lake_root, option(args, "json"), args.format) == ("/x", True, "json")


def test_counts_in_progress_lines_get_an_eta(monkeypatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    clock = iter([0.0, 10.0, 20.0, 30.0])  # created at 0; 2 of 8 tasks in 10 s: 30 s left
    monkeypatch.setattr("lakehouse.cli.common.time.monotonic", lambda: next(clock))
    say = Reporter("ingest").say
    say("batch 1: parsing, 0/8 tasks done")
    say("batch 1: parsing, 2/8 tasks done")
    say("batch 1: parsing, 8/8 tasks done")
    lines = err.getvalue().splitlines()
    assert lines[0].endswith("0/8 tasks done")
    assert lines[1].endswith("2/8 tasks done, ETA 30s")
    assert lines[2].endswith("8/8 tasks done")


def test_running_one_command_registers_only_that_one_in_full() -> None:
    from lakehouse.cli.main import _chosen_command

    assert _chosen_command(["--json", "show", "bronze.x"]) == "show"
    assert _chosen_command(["--lake-root", "show", "tables"]) == "tables"
    assert _chosen_command(["--version"]) is None
    parser = build_parser(only="show")
    args = parser.parse_args(["show", "bronze.quarantine", "--limit", "3"])
    assert (args.table, args.limit) == ("bronze.quarantine", 3)
    help_text = parser.format_help()
    assert "generate a day of CMS" in help_text and "ingest new landed files" in help_text
