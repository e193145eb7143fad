"""One writer per lake: a lease object with an owner and an expiry, on ``file://`` and S3.

Two ``lakehouse ingest`` runs at once would take the same batch id, and one would remove the
other's staging folder; delta-spark does not serialise writers from two JVMs on S3 (nor, in
general, on a local disk). So every command that writes bronze holds the lake's lease.

The lease is one small JSON object at ``<lake>/_lease/bronze.json``: who holds it (owner id,
host, pid, command) and until when. S3 has no locks, but it has conditional writes: the lease
is created with ``If-None-Match: *`` (only one creator wins), renewed and taken over with
``If-Match: <etag>`` (only the writer that read the current version wins), and deleted with
``If-Match``. S3Proxy 4.1 honours all three (checked against it). On a local disk the same
compare-and-swap runs under an ``fcntl`` lock of a side file, held only for the swap.

The holder renews the lease from a heartbeat thread every third of its time to live, so a
live run keeps it however long it takes; a run killed with ``kill -9`` stops renewing and
its lease expires. An expired lease (or, on the same host, one whose process is gone) is
taken over with a log line naming the previous holder. A holder that finds it has lost its
lease (it could not renew in time and another run took over) must stop before writing:
:meth:`Lease.check` raises.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from lakehouse.errors import LakehouseError
from lakehouse.settings import Settings
from lakehouse.storage import local_path, s3_client

log = logging.getLogger(__name__)

LEASE_PATH = "_lease/bronze.json"
DEFAULT_TTL_SECONDS = 120.0
_POLL_SECONDS = 2.0


class LeaseHeldError(LakehouseError):
    """Another run holds the lake's lease (the message names it and when it expires)."""


class LeaseLostError(LakehouseError):
    """This run's lease expired or was taken over: it must not write any more."""


@dataclass(frozen=True)
class Holder:
    """Who holds a lease and until when (seconds since the epoch, wall clock)."""

    owner: str
    host: str
    pid: int
    command: str
    expires_at: float

    def to_bytes(self) -> bytes:
        """The lease object's content."""
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Holder | None:
        """The holder in a lease object; None for content no run wrote (treated as stale)."""
        try:
            fields = json.loads(data)
            return cls(
                str(fields["owner"]),
                str(fields["host"]),
                int(fields["pid"]),
                str(fields["command"]),
                float(fields["expires_at"]),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def describe(self, now: float) -> str:
        """One phrase for messages: command, process, host and time left."""
        left = self.expires_at - now
        when = f"expires in {left:.0f} s" if left > 0 else f"expired {-left:.0f} s ago"
        return f"{self.command!r} (pid {self.pid} on {self.host}, lease {self.owner}, {when})"

    def stale_because(self, now: float) -> str | None:
        """Why this lease may be taken over (expired, or its process is gone), else None."""
        if self.expires_at <= now:
            return f"expired {now - self.expires_at:.0f} s ago"
        if self.host == socket.gethostname() and not _process_alive(self.pid):
            return f"process {self.pid} on this host is gone"
        return None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LeaseStore(Protocol):
    """Compare-and-swap on one small object. Tokens identify a version of the object."""

    def create(self, body: bytes) -> str | None:
        """Create the object if absent; its token, or None when it exists."""
        ...

    def read(self) -> tuple[bytes, str] | None:
        """The object's content and token, or None when absent."""
        ...

    def replace(self, body: bytes, token: str) -> str | None:
        """Overwrite the object if it still has ``token``; the new token, or None."""
        ...

    def delete(self, token: str) -> bool:
        """Delete the object if it still has ``token``; True when deleted."""
        ...


class LocalLeaseStore:
    """The lease as a local file; each swap runs under an ``fcntl`` lock of ``<file>.lock``.

    The token is the content's SHA-256: every write carries a fresh expiry and owner, so two
    versions never share content.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(path.name + ".lock")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _current(self) -> tuple[bytes, str] | None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return data, hashlib.sha256(data).hexdigest()

    def _write(self, body: bytes) -> str:
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(body)
        os.replace(tmp, self.path)
        return hashlib.sha256(body).hexdigest()

    def create(self, body: bytes) -> str | None:
        with self._locked():
            return None if self.path.exists() else self._write(body)

    def read(self) -> tuple[bytes, str] | None:
        with self._locked():
            return self._current()

    def replace(self, body: bytes, token: str) -> str | None:
        with self._locked():
            current = self._current()
            return self._write(body) if current and current[1] == token else None

    def delete(self, token: str) -> bool:
        with self._locked():
            current = self._current()
            if current is None or current[1] != token:
                return False
            self.path.unlink()
            return True


class S3LeaseStore:
    """The lease as an S3 object, swapped with conditional requests (token = ETag)."""

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self.client = client
        self.bucket = bucket
        self.key = key

    def _refused(self, exc: Exception) -> bool:
        """True for a failed precondition or a missing object (someone else moved first)."""
        response = getattr(exc, "response", None) or {}
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status in (404, 409, 412)

    def create(self, body: bytes) -> str | None:
        try:
            reply = self.client.put_object(
                Bucket=self.bucket, Key=self.key, Body=body, IfNoneMatch="*"
            )
        except Exception as exc:
            if self._refused(exc):
                return None
            raise
        return str(reply["ETag"])

    def read(self) -> tuple[bytes, str] | None:
        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=self.key)
        except Exception as exc:
            if self._refused(exc):
                return None
            raise
        return reply["Body"].read(), str(reply["ETag"])

    def replace(self, body: bytes, token: str) -> str | None:
        try:
            reply = self.client.put_object(
                Bucket=self.bucket, Key=self.key, Body=body, IfMatch=token
            )
        except Exception as exc:
            if self._refused(exc):
                return None
            raise
        return str(reply["ETag"])

    def delete(self, token: str) -> bool:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key, IfMatch=token)
        except Exception as exc:
            if self._refused(exc):
                return False
            raise
        return True


def lease_store(settings: Settings) -> LeaseStore:
    """The lease store of the configured lake (S3 for ``s3a://`` roots, else a local file)."""
    uri = f"{settings.lake_root.rstrip('/')}/{LEASE_PATH}"
    if settings.is_s3:
        bucket, _, key = uri.split("://", 1)[1].partition("/")
        return S3LeaseStore(s3_client(settings), bucket, key)
    return LocalLeaseStore(Path(local_path(uri)))


class Lease:
    """The lake's lease for one run: acquire, keep alive in the background, release."""

    def __init__(
        self,
        store: LeaseStore,
        command: str,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        say: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.command = command
        self.ttl = ttl
        self.say = say or log.info
        self.clock = clock
        self.owner = uuid.uuid4().hex[:12]
        self._token: str | None = None
        self._lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _body(self) -> bytes:
        holder = Holder(
            self.owner, socket.gethostname(), os.getpid(), self.command, self.clock() + self.ttl
        )
        return holder.to_bytes()

    def try_acquire(self) -> Holder | None:
        """Take the lease if it is free or stale; None when taken, else the live holder."""
        token = self.store.create(self._body())
        if token is not None:
            self._token = token
            return None
        current = self.store.read()
        if current is None:  # released between our two requests: try again
            return self.try_acquire()
        data, token = current
        holder = Holder.from_bytes(data)
        now = self.clock()
        why = "unreadable lease content" if holder is None else holder.stale_because(now)
        if why is None:
            return holder
        new = self.store.replace(self._body(), token)
        if new is None:  # another run took it over first
            return self.try_acquire()
        previous = holder.describe(now) if holder else repr(data[:80])
        self.say(f"took over the lake's lease from {previous}: {why}")
        self._token = new
        return None

    def acquire(self, wait: float = 0.0) -> None:
        """Take the lease, waiting up to ``wait`` seconds; raise naming the holder if not."""
        deadline = self.clock() + wait
        told = False
        while True:
            holder = self.try_acquire()
            if holder is None:
                break
            now = self.clock()
            if now >= deadline:
                waited = f" after waiting {wait:g} s" if wait > 0 else ""
                raise LeaseHeldError(
                    f"another run holds the lake's lease{waited}: {holder.describe(now)}; "
                    "wait for it (--wait SECONDS) or, if that run is dead, for its lease to expire"
                )
            if not told:
                self.say(f"waiting for the lake's lease held by {holder.describe(now)}")
                told = True
            time.sleep(min(_POLL_SECONDS, max(deadline - now, 0.01)))
        self._start_heartbeat()

    def _start_heartbeat(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, name="lake-lease", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            if not self.renew():
                return

    def renew(self) -> bool:
        """Push the expiry forward; False (and the lease marked lost) if it was taken over."""
        if self._token is None or self._lost:
            return False
        try:
            token = self.store.replace(self._body(), self._token)
        except Exception as exc:  # storage unreachable: keep trying until the lease expires
            self.say(f"could not renew the lake's lease ({exc}); retrying")
            return True
        if token is None:
            self._lost = "the lake's lease was taken over by another run (not renewed in time)"
            self.say(self._lost)
            return False
        self._token = token
        return True

    def check(self) -> None:
        """Raise if this run no longer holds the lease (call before each write)."""
        if self._token is None:
            raise LeaseLostError("this run does not hold the lake's lease")
        if self._lost:
            raise LeaseLostError(self._lost + "; stopped before writing more")

    def release(self) -> None:
        """Stop the heartbeat and delete the lease if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._token is not None and not self._lost:
            self.store.delete(self._token)
        self._token = None


def add_wait_argument(parser: argparse.ArgumentParser) -> None:
    """``--wait SECONDS`` for every command that takes the lake's lease: one wording, one
    default (0: a held lease fails at once, naming its holder, so a scheduler sees it)."""
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="when another run holds the lake's lease, wait up to this long for it "
        "(default 0: exit 2 at once, naming the holder)",
    )


@contextlib.contextmanager
def hold_lease(
    settings: Settings,
    command: str | None = None,
    *,
    wait: float = 0.0,
    ttl: float = DEFAULT_TTL_SECONDS,
    say: Callable[[str], None] | None = None,
) -> Iterator[Lease]:
    """Hold the lake's lease for the body (see the module docstring)."""
    lease = Lease(lease_store(settings), command or " ".join(sys.argv[:2]), ttl=ttl, say=say)
    lease.acquire(wait)
    try:
        yield lease
    finally:
        lease.release()
