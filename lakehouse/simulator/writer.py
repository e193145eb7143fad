"""Where simulated files go: a two-method interface so the lake's storage can be swapped.

The simulator only ever calls ``write(relative_path, data)`` with a path relative to the lake
root (``landing/cms/edifact/2026-11-24/<name>``). A local directory writer ships here; an
S3 writer (another team's) implements the same protocol and plugs into
:func:`lakehouse.simulator.generate` through its ``writer=`` argument.

Local writes are atomic: bytes go to a hidden temporary file in the target directory, then
``os.replace`` moves it into place, so a NiFi ListFile or the bronze ingestion (both skip
dot-files) never sees a half-written file.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse


class Writer(Protocol):
    """Stores one immutable file under the lake root."""

    def write(self, relative_path: str, data: bytes) -> None:
        """Store ``data`` at ``relative_path`` (relative to the lake root, '/'-separated)."""
        ...


def local_root(lake_root: str) -> Path:
    """The directory of a local lake root given as a path or a ``file://`` URI.

    Other schemes (``s3a://``...) are rejected by name: they need a writer of their own.
    """
    parsed = urlparse(lake_root)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:  # a one-letter scheme is a Windows drive
        raise ValueError(
            f"lake root {lake_root!r} is not a local path or file:// URI; pass a writer for "
            f"the {parsed.scheme!r} scheme (generate(..., writer=...))"
        )
    return Path(lake_root)


class LocalWriter:
    """Writes files under a local directory, atomically (temp file + rename).

    File creation costs about a millisecond on ext4, which would dominate a run with tens of
    thousands of XML files, so by default writes happen on ``threads`` background threads
    (the syscalls release the GIL) with at most ``max_pending_bytes`` queued. Call
    :meth:`close` to wait for them; it re-raises the first write error.
    """

    def __init__(
        self, lake_root: str, *, threads: int = 2, max_pending_bytes: int = 64 * 2**20
    ) -> None:
        self.root = local_root(lake_root)
        self._made: set[str] = set()
        self._pool = ThreadPoolExecutor(threads, "lake-writer") if threads > 0 else None
        self._pending: deque[tuple[Future[None], int]] = deque()
        self._pending_bytes = 0
        self._max_pending = max_pending_bytes

    def write(self, relative_path: str, data: bytes) -> None:
        """Write ``data`` to ``<root>/<relative_path>``; never leaves a partial file visible."""
        if self._pool is None:
            self._write_now(relative_path, data)
            return
        self._pending.append((self._pool.submit(self._write_now, relative_path, data), len(data)))
        self._pending_bytes += len(data)
        while self._pending and (
            self._pending_bytes > self._max_pending or self._pending[0][0].done()
        ):
            future, size = self._pending.popleft()
            self._pending_bytes -= size
            future.result()

    def close(self) -> None:
        """Wait for queued writes and stop the threads; raises the first write error."""
        try:
            while self._pending:
                future, size = self._pending.popleft()
                self._pending_bytes -= size
                future.result()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def _write_now(self, relative_path: str, data: bytes) -> None:
        directory, _, name = relative_path.rpartition("/")
        target_dir = os.path.join(self.root, directory) if directory else str(self.root)
        if target_dir not in self._made:
            os.makedirs(target_dir, exist_ok=True)
            self._made.add(target_dir)
        tmp = os.path.join(target_dir, f".{name}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, os.path.join(target_dir, name))
