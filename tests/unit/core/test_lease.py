"""The lake lease on a local disk: one holder, named when refused, stale leases taken over."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakehouse.errors import LakehouseError
from lakehouse.ingest.lease import (
    Holder,
    Lease,
    LeaseHeldError,
    LeaseLostError,
    LocalLeaseStore,
    hold_lease,
)
from lakehouse.settings import load_settings

pytestmark = pytest.mark.unit


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def lease(path: Path, command: str, clock: Clock, ttl: float = 60.0, said=None) -> Lease:
    return Lease(LocalLeaseStore(path), command, ttl=ttl, clock=clock, say=said)


def test_a_second_run_is_refused_with_one_line_naming_the_holder(tmp_path: Path) -> None:
    clock = Clock()
    first = lease(tmp_path / "l.json", "lakehouse ingest", clock)
    first.acquire()
    try:
        with pytest.raises(
            LeaseHeldError, match=r"'lakehouse ingest' \(pid \d+ on .*expires in 60 s"
        ):
            lease(tmp_path / "l.json", "lakehouse quarantine replay", clock).acquire()
        assert isinstance(LeaseHeldError("x"), LakehouseError)  # the CLI turns it into exit 2
    finally:
        first.release()
    assert not (tmp_path / "l.json").exists()
    lease(tmp_path / "l.json", "again", clock).acquire()  # free once released


def test_an_expired_lease_is_taken_over_with_a_log_line_and_its_owner_stops(
    tmp_path: Path,
) -> None:
    clock, said = Clock(), []
    old = lease(tmp_path / "l.json", "lakehouse ingest", clock, ttl=30)
    assert old.try_acquire() is None  # no heartbeat: as if the process hung
    clock.now += 31
    new = lease(tmp_path / "l.json", "lakehouse ingest", clock, said=said.append)
    assert new.try_acquire() is None
    assert said and "took over the lake's lease" in said[0] and "expired 1 s ago" in said[0]
    assert old.renew() is False
    with pytest.raises(LeaseLostError, match="taken over"):
        old.check()
    new.check()


def test_a_lease_whose_process_is_gone_is_taken_over_at_once(tmp_path: Path) -> None:
    clock, said = Clock(), []
    proc = subprocess.Popen(["true"])  # a pid that existed and has exited
    proc.wait()
    holder = Holder("abc", os.uname().nodename, proc.pid, "lakehouse ingest", clock.now + 999)
    (tmp_path / "l.json").write_bytes(holder.to_bytes())
    taker = lease(tmp_path / "l.json", "lakehouse ingest", clock, said=said.append)
    assert taker.try_acquire() is None
    assert f"process {proc.pid} on this host is gone" in said[0]


def test_unreadable_lease_content_is_stale(tmp_path: Path) -> None:
    (tmp_path / "l.json").write_bytes(b"\x00garbage")
    said: list[str] = []
    assert lease(tmp_path / "l.json", "x", Clock(), said=said.append).try_acquire() is None
    assert "unreadable lease content" in said[0]


def test_a_waiting_run_gets_the_lease_when_the_holder_releases(tmp_path: Path) -> None:
    holder = Lease(LocalLeaseStore(tmp_path / "l.json"), "first", ttl=60)
    holder.acquire()
    timer = threading.Timer(0.5, holder.release)
    timer.start()
    waiter = Lease(LocalLeaseStore(tmp_path / "l.json"), "second", ttl=60)
    waiter.acquire(wait=20)
    waiter.check()
    waiter.release()
    timer.join()


def test_waiting_is_bounded(tmp_path: Path) -> None:
    holder = Lease(LocalLeaseStore(tmp_path / "l.json"), "first", ttl=60)
    holder.acquire()
    try:
        with pytest.raises(LeaseHeldError, match=r"after waiting 0\.3 s"):
            Lease(LocalLeaseStore(tmp_path / "l.json"), "second").acquire(wait=0.3)
    finally:
        holder.release()


def test_the_heartbeat_keeps_a_long_run_s_lease(tmp_path: Path) -> None:
    settings = load_settings({"LAKEHOUSE_LAKE_ROOT": str(tmp_path)})
    with hold_lease(settings, "long run", ttl=0.6) as held:
        threading.Event().wait(1.5)  # more than twice the time to live
        held.check()
        with pytest.raises(LeaseHeldError):
            Lease(LocalLeaseStore(tmp_path / "_lease" / "bronze.json"), "other").acquire()
    assert not (tmp_path / "_lease" / "bronze.json").exists()


def test_only_one_of_many_simultaneous_takers_wins(tmp_path: Path) -> None:
    clock = Clock()
    (tmp_path / "l.json").write_bytes(Holder("x", "h", 1, "c", clock.now - 1).to_bytes())
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def take() -> None:
        barrier.wait()
        results.append(lease(tmp_path / "l.json", "t", clock).try_acquire() is None)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


@given(
    owner=st.text(min_size=1),
    host=st.text(),
    pid=st.integers(min_value=1, max_value=2**31),
    command=st.text(),
    expires=st.floats(allow_nan=False, allow_infinity=False),
)
def test_holder_round_trips(owner: str, host: str, pid: int, command: str, expires: float) -> None:
    holder = Holder(owner, host, pid, command, expires)
    assert Holder.from_bytes(holder.to_bytes()) == holder
