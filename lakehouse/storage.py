"""Writing plain files into the lake, the same way on a local disk and on S3.

Spark reads and writes tables; this is for the files around them: landed messages written by
the simulator (or a test), export files. Both writers make a file visible only once complete:
the local one writes a hidden temporary file and renames it, and an S3 PUT is atomic.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from lakehouse.landing import is_temporary_name
from lakehouse.settings import Settings


class FileWriter(Protocol):
    """Writes ``data`` at ``relative_path`` below the lake root."""

    def write(self, relative_path: str, data: bytes) -> None: ...


def s3_client(settings: Settings) -> Any:
    """A boto3 S3 client for the configured endpoint.

    Checksums are sent only when required: boto3 >= 1.36 adds CRC32 trailers by default, which
    many S3-compatible servers (S3Proxy among them) reject.
    """
    import boto3
    from botocore.config import Config

    s3 = settings.s3
    return boto3.client(
        "s3",
        endpoint_url=s3.endpoint,
        region_name=s3.region,
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
        config=Config(
            s3={"addressing_style": "path" if s3.path_style else "auto"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 3},
        ),
    )


class S3Writer:
    """Writes objects below an ``s3a://bucket/prefix`` lake root."""

    def __init__(self, settings: Settings, lake_root: str | None = None) -> None:
        root = urlparse(lake_root or settings.lake_root)
        if root.scheme not in ("s3", "s3a") or not root.netloc:
            raise ValueError(f"not an S3 lake root: {lake_root or settings.lake_root!r}")
        self.bucket = root.netloc
        self.prefix = root.path.strip("/")
        self.client = s3_client(settings)

    def key(self, relative_path: str) -> str:
        """The object key of a path relative to the lake root."""
        rel = relative_path.lstrip("/")
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def write(self, relative_path: str, data: bytes) -> None:
        """PUT the object (atomic: readers never see a partial file)."""
        self.client.put_object(Bucket=self.bucket, Key=self.key(relative_path), Body=data)

    def close(self) -> None:
        """Nothing buffered; present so callers can treat every writer alike."""


def writer_for(settings: Settings, lake_root: str | None = None) -> FileWriter | None:
    """An S3 writer for ``s3a://`` roots; None for local roots (callers use their own)."""
    root = lake_root or settings.lake_root
    if root.startswith(("s3a://", "s3://")):
        return S3Writer(settings, root)
    return None


def local_path(path: str) -> str:
    """``file:/x``, ``file:///x`` or ``/x`` -> ``/x`` (the spellings Spark and Hadoop use)."""
    if path.startswith("file:"):
        return "/" + path[len("file:") :].lstrip("/")
    return path


class LakeFiles:
    """Reads, writes and removes files by the paths Spark uses (``file:/...``, ``s3a://...``).

    Used by the ingest workers so landed bytes go from storage straight into the parsers
    instead of through the JVM, and so their staged output goes straight back to storage.
    The S3 client is made on first use (one per worker process).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None

    def _s3(self) -> Any:
        if self._client is None:
            self._client = s3_client(self._settings)
        return self._client

    def read(self, path: str) -> bytes:
        """The file's bytes; ``FileNotFoundError`` when it is gone (local or S3)."""
        if _is_s3(path):
            bucket, key = _bucket_key(path)
            try:
                return self._s3().get_object(Bucket=bucket, Key=key)["Body"].read()
            except Exception as exc:
                status = getattr(exc, "response", {}).get("ResponseMetadata", {})
                if status.get("HTTPStatusCode") == 404:
                    raise FileNotFoundError(path) from exc
                raise
        return Path(local_path(path)).read_bytes()

    def exists(self, path: str) -> bool:
        """True when ``path`` is a file or a non-empty folder (a key prefix on S3)."""
        if _is_s3(path):
            bucket, key = _bucket_key(path)
            reply = self._s3().list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
            return bool(reply.get("KeyCount", 0))
        return os.path.exists(local_path(path))

    def write(self, path: str, data: bytes) -> None:
        """Write the whole file; it appears complete or not at all.

        Locally a hidden temporary file is renamed into place; an S3 PUT is atomic.
        """
        if _is_s3(path):
            bucket, key = _bucket_key(path)
            self._s3().put_object(Bucket=bucket, Key=key, Body=data)
            return
        target = Path(local_path(path))
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)

    def remove(self, path: str) -> None:
        """Delete one file; nothing happens when it is already gone."""
        if _is_s3(path):
            bucket, key = _bucket_key(path)
            self._s3().delete_object(Bucket=bucket, Key=key)
            return
        with contextlib.suppress(FileNotFoundError):
            os.remove(local_path(path))

    def names(self, folder: str, *, prefix: str = "") -> list[str]:
        """Names of the files directly in ``folder`` that start with ``prefix``, sorted."""
        if _is_s3(folder):
            bucket, key = _bucket_key(folder)
            base = key.rstrip("/") + "/"
            found = []
            pages = self._s3().get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=bucket, Prefix=base + prefix, Delimiter="/"):
                found += [obj["Key"][len(base) :] for obj in page.get("Contents", [])]
            return sorted(found)
        try:
            with os.scandir(local_path(folder)) as entries:
                return sorted(e.name for e in entries if e.name.startswith(prefix) and e.is_file())
        except FileNotFoundError:
            return []

    def remove_tree(self, path: str) -> None:
        """Delete everything below ``path`` (a folder locally, a key prefix on S3)."""
        if _is_s3(path):
            bucket, key = _bucket_key(path)
            prefix = key.rstrip("/") + "/"
            client = self._s3()
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            ):
                keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
                if keys:
                    client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            return
        shutil.rmtree(local_path(path), ignore_errors=True)


def _is_s3(path: str) -> bool:
    return path.startswith(("s3a://", "s3://"))


def _bucket_key(path: str) -> tuple[str, str]:
    bucket, _, key = path.split("://", 1)[1].partition("/")
    return bucket, key


@dataclass(frozen=True, slots=True)
class ListedFile:
    """A file under a lake folder, spelled as Spark and Hadoop spell it.

    ``path`` is ``file:/abs/path`` or ``s3a://bucket/key``; ``modified`` has millisecond
    precision (what Hadoop's ``FileStatus`` reports), so listings compare equal across runs.
    """

    path: str
    size: int
    modified: datetime


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """An entry of the landing zone that a run did not take, and why.

    ``in_flight`` marks what a later run will take (a temporary name, a file still settling);
    the others (links, undecodable names, special files) wait for a person.
    """

    path: str
    reason: str
    in_flight: bool = False


@dataclass
class Listing:
    """What a scan of a folder found: files to take, and entries skipped with a reason."""

    files: list[ListedFile] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


def list_files(settings: Settings, uri: str) -> list[ListedFile]:
    """Every regular, complete file below ``uri`` (recursive), in path order; [] if missing."""
    return scan(settings, uri).files


def scan(
    settings: Settings, uri: str, *, settle_seconds: float = 0.0, now: datetime | None = None
) -> Listing:
    """Every file below ``uri`` (recursive), taken or skipped with a reason, in path order.

    Listing here (``os.scandir`` locally, ``ListObjectsV2`` pages of 1,000 on S3) instead of
    through a Spark file scan keeps the listing of a day's ~12,000 landed files under a
    second, and sees empty files, which Spark's file scans skip. Nothing is skipped silently:
    temporary names (a writer's file in flight), files modified less than ``settle_seconds``
    ago (a writer that cannot rename may still be appending), symbolic links (never followed:
    a link could point anywhere on the machine) and names that are not UTF-8 (no table can
    store them) come back in ``skipped``.
    """
    found = _scan_s3(settings, uri) if _is_s3(uri) else _scan_local(uri)
    listing = Listing()
    cutoff = (now or datetime.now(UTC)).timestamp() - settle_seconds
    for item in found:
        if isinstance(item, SkippedFile):
            listing.skipped.append(item)
        elif settle_seconds > 0 and item.modified.timestamp() > cutoff:
            listing.skipped.append(
                SkippedFile(
                    item.path,
                    f"modified at {item.modified:%Y-%m-%dT%H:%M:%S}Z, less than "
                    f"{settle_seconds:g} s ago (LAKEHOUSE_LANDING_SETTLE_SECONDS): it may "
                    "still be written; a later run takes it",
                    in_flight=True,
                )
            )
        else:
            listing.files.append(item)
    listing.files.sort(key=lambda f: f.path)
    listing.skipped.sort(key=lambda f: f.path)
    return listing


_TEMPORARY = (
    "a temporary name (starts with '.' or ends in .part/.tmp/._COPYING_): a file in flight, "
    "taken once its writer renames it"
)


def _scan_s3(settings: Settings, uri: str) -> Iterator[ListedFile | SkippedFile]:
    bucket, prefix = _bucket_key(uri)
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    pages = (
        s3_client(settings).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    )
    for page in pages:
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if key.endswith("/"):  # a folder marker, not a file
                continue
            path = f"s3a://{bucket}/{key}"
            if any(is_temporary_name(part) for part in key[len(prefix) :].split("/")):
                yield SkippedFile(path, _TEMPORARY, in_flight=True)
                continue
            modified = obj["LastModified"].astimezone(UTC)
            yield ListedFile(
                path,
                int(obj["Size"]),
                modified.replace(microsecond=modified.microsecond // 1000 * 1000),
            )


def _scan_local(uri: str) -> Iterator[ListedFile | SkippedFile]:
    root = local_path(uri)
    stack = [root] if os.path.isdir(root) else []
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                skipped = _local_skip(entry)
                if skipped is not None:
                    yield skipped
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    stat = entry.stat(follow_symlinks=False)
                    millis = stat.st_mtime_ns // 1_000_000
                    yield ListedFile(
                        "file:" + entry.path,
                        stat.st_size,
                        datetime.fromtimestamp(millis / 1000, tz=UTC),
                    )


def _local_skip(entry: os.DirEntry[str]) -> SkippedFile | None:
    """Why a local directory entry is not taken (nor walked into), or None to take it."""
    try:
        entry.path.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(entry.path).decode("utf-8", "backslashreplace")
        return SkippedFile(
            "file:" + shown,
            "the name is not valid UTF-8 (undecodable bytes shown as \\x..): rename it in "
            "UTF-8 and it loads at the next run",
        )
    path = "file:" + entry.path
    if entry.is_symlink():
        return SkippedFile(
            path,
            "a symbolic link: links are never followed out of the landing zone; land the "
            "file itself",
        )
    if is_temporary_name(entry.name):
        return SkippedFile(path, _TEMPORARY, in_flight=True)
    if not (entry.is_dir(follow_symlinks=False) or entry.is_file(follow_symlinks=False)):
        return SkippedFile(path, "not a regular file (a pipe, socket or device)")
    return None
