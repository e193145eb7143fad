"""The simulator's promise: same seed and parameters, same bytes; another seed, other data."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from lakehouse.simulator import generate

pytestmark = pytest.mark.unit


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for label, seed in (("a", 7), ("b", 7), ("c", 8)):
        root = tmp_path_factory.mktemp(f"lake-{label}")
        generate(
            str(root), declarations=200, seed=seed, malformed_rate=0.05, messages_per_interchange=50
        )
        out[label] = root
    return out


def test_same_seed_gives_byte_identical_files(runs: dict[str, Path]) -> None:
    a, b = _tree(runs["a"]), _tree(runs["b"])
    assert a == b
    assert any(k.startswith("landing/cms/edifact/") for k in a)
    assert "simulator/ground_truth/2026-11-24/declarations.parquet" in a


def test_different_seed_gives_different_files(runs: dict[str, Path]) -> None:
    a, c = _tree(runs["a"]), _tree(runs["c"])
    assert not set(a.values()) & set(c.values())


def test_day_drives_paths_and_timestamps(tmp_path: Path) -> None:
    summary = generate(str(tmp_path), declarations=20, day=date(2027, 1, 5))
    landed = [p for p in tmp_path.rglob("*") if p.is_file() and "landing" in p.parts]
    assert landed
    assert all("2027-01-0" in str(p) for p in landed)
    assert summary.ground_truth_path.endswith("ground_truth/2027-01-05/declarations.parquet")


def test_file_uri_root_and_no_temp_files_left(tmp_path: Path) -> None:
    generate(f"file://{tmp_path}", declarations=30)
    names = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert names
    assert not [n for n in names if n.startswith(".") or n.endswith(".tmp")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"declarations": -1}, "declarations must be"),
        ({"declarations": 5, "malformed_rate": 1.5}, "malformed_rate must be"),
        ({"declarations": 5, "messages_per_interchange": 0}, "messages_per_interchange"),
    ],
)
def test_rejects_bad_parameters(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(str(tmp_path), **kwargs)


def test_rejects_remote_root_without_writer() -> None:
    with pytest.raises(ValueError, match="pass a writer"):
        generate("s3a://lake/raw", declarations=1)


def test_custom_writer_receives_relative_paths() -> None:
    written: dict[str, bytes] = {}

    class Memory:
        def write(self, relative_path: str, data: bytes) -> None:
            written[relative_path] = data

    generate("s3a://bucket/lake", declarations=25, writer=Memory())
    assert written
    assert all(not p.startswith("/") for p in written)
    assert any(p.startswith("landing/cms/") for p in written)
