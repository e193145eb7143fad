"""Compaction of bronze: small data files merged, the log checkpointed and trimmed.

Why: NiFi lands files every minute and each run commits a small data file per table it
touches, plus two file-log entries. After a day a table holds ~1,400 small files and a log
of ~1,400 JSON commits with no checkpoint (bronze's commits write none, see below): every
reader, and the ingestion's own read of the file log, pays for all of them. ``lakehouse
compact`` (run by ``lakehouse nightly`` after the ingestion, or on its own schedule) puts
that right, with delta-rs, the only engine that writes bronze:

1. **Compact** each table's files smaller than the target size (``delta.targetFileSize``,
   else delta-rs's 100 MB) into larger ones: one commit that removes the small files and
   adds the new ones. Readers of an older snapshot keep reading the old files, which stay on
   storage until step 4 removes them after the table's retention.
2. **Checkpoint** the table when its latest version has none, and remove the Hadoop checksum
   (``._last_checkpoint.crc``) a Spark checkpoint once left beside ``_last_checkpoint`` on a
   local disk: delta-rs overwrites the file but not its checksum, and a stale checksum costs
   every later Spark load a ChecksumException and a ~3 s retry. delta-rs 1.6.6 itself writes
   no ``.crc`` file.
3. **Trim the log**: commits older than ``delta.logRetentionDuration`` (30 days unless the
   table says otherwise) and older than the checkpoint are removed, with the Hadoop
   checksums of removed files. The application transactions that make batches exactly-once
   are kept in the checkpoint.
4. **Vacuum** data files the log removed longer ago than ``delta.deletedFileRetentionDuration``
   (7 days unless set): delta-rs's "lite" vacuum, which only deletes files a remove action
   names, never a data file a running batch has written and not committed yet. It runs
   before step 2 (its own start and end commits are then in the checkpoint), so a re-run
   finds the checkpoint current.

Rules kept here: no deletion vectors (a table whose protocol has them is refused: delta-rs
counts and Arrow reads are wrong with them); one writer at a time (the lake's lease, and no
compaction while an ingest batch is open, whose resume must find its files as it left
them). Re-running changes nothing: a table with nothing to compact, a current checkpoint and
nothing to vacuum gets no commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakehouse.errors import IngestError
from lakehouse.ingest import bronze
from lakehouse.ingest.delta_commit import open_table, without_checkpoint
from lakehouse.settings import Settings
from lakehouse.storage import LakeFiles

if TYPE_CHECKING:
    from deltalake import DeltaTable

    from lakehouse.ingest.lease import Lease

# Hadoop's checksum of a file ``x`` on a local disk is the hidden file ``.x.crc`` beside it.
_CRC = ".{}.crc"


@dataclass(frozen=True)
class Compaction:
    """What compaction did to one table."""

    table: str
    files_removed: int
    files_added: int
    checkpoint: int | None  # the version checkpointed now, or None when it was current
    logs_removed: int
    files_vacuumed: int

    @property
    def changed(self) -> bool:
        """True when this run changed the table or its log."""
        return bool(
            self.files_removed
            or self.checkpoint is not None
            or self.logs_removed
            or self.files_vacuumed
        )


def compact_bronze(
    settings: Settings,
    lease: Lease,
    tables: list[str] | None = None,
    say: Callable[[str], None] | None = None,
    *,
    vacuum_hours: int | None = None,
) -> list[Compaction]:
    """Compact, checkpoint, trim and vacuum the named bronze tables (all by default).

    ``vacuum_hours`` overrides each table's ``delta.deletedFileRetentionDuration`` (tests,
    and an operator who knows no reader holds an older snapshot).
    """
    say = say or (lambda _msg: None)
    bronze.require_lake(settings)
    names = [spec.name for spec in bronze.table_specs()]
    unknown = sorted(set(tables or []) - set(names))
    if unknown:
        raise IngestError(f"no bronze table {unknown}; the bronze tables are {names}")
    _, open_batch = bronze._log_state(bronze._read_log(settings))
    if open_batch is not None:
        raise IngestError(
            f"ingest batch {open_batch} is not committed yet: run `lakehouse ingest` first"
        )
    done = []
    for name in tables or names:
        lease.check()
        result = compact_table(settings, name, vacuum_hours=vacuum_hours)
        say(
            f"bronze.{name}: {result.files_removed} files compacted into {result.files_added}, "
            f"checkpoint {result.checkpoint if result.checkpoint is not None else 'current'}, "
            f"{result.logs_removed} old log files and {result.files_vacuumed} data files removed"
        )
        done.append(result)
    return done


def compact_table(settings: Settings, name: str, *, vacuum_hours: int | None = None) -> Compaction:
    """Steps 1-4 of the module doc on one table."""
    dt = open_table(settings, name)
    _refuse_deletion_vectors(dt, name)
    metrics = dt.optimize.compact(**without_checkpoint())
    dt.update_incremental()
    # Vacuum before the checkpoint: its start and end commits would leave the checkpoint
    # behind the latest version, and the next run would checkpoint again.
    files = LakeFiles(settings)
    vacuumed = _vacuum(dt, vacuum_hours, files, settings.table_uri("bronze", name))
    dt.update_incremental()
    log_uri = settings.table_uri("bronze", name) + "/_delta_log"
    checkpoint = None
    if _last_checkpoint(files, log_uri) != dt.version():
        dt.create_checkpoint()
        checkpoint = dt.version()
        _remove_stale_checksums(settings, files, log_uri)
    before = set(files.names(log_uri))
    dt.cleanup_metadata()
    logs_removed = len(before - set(files.names(log_uri)))
    if logs_removed:
        _remove_stale_checksums(settings, files, log_uri)
    return Compaction(
        name,
        int(metrics["numFilesRemoved"]),
        int(metrics["numFilesAdded"]),
        checkpoint,
        logs_removed,
        vacuumed,
    )


def _refuse_deletion_vectors(dt: DeltaTable, name: str) -> None:
    features = set(dt.protocol().writer_features or []) | set(dt.protocol().reader_features or [])
    if "deletionVectors" in features:
        raise IngestError(
            f"bronze.{name} has deletion vectors, which delta-rs reads wrongly: bronze tables "
            "must not enable them (rewrite the table without delta.enableDeletionVectors)"
        )


def _last_checkpoint(files: LakeFiles, log_uri: str) -> int | None:
    """The version ``_last_checkpoint`` names, or None when the table has no checkpoint."""
    try:
        return int(json.loads(files.read(f"{log_uri}/_last_checkpoint"))["version"])
    except FileNotFoundError:
        return None


def _remove_stale_checksums(settings: Settings, files: LakeFiles, log_uri: str) -> None:
    """Remove Hadoop checksums that no longer match their file (local disks only).

    ``._last_checkpoint.crc`` always: delta-rs has just rewritten ``_last_checkpoint``. The
    checksum of a file that is gone (a trimmed commit) too, so none outlives its file.
    """
    if settings.is_s3:
        return
    names = set(files.names(log_uri))
    for name in names:
        if not (name.startswith(".") and name.endswith(".crc")):
            continue
        target = name[1 : -len(".crc")]
        if target == "_last_checkpoint" or target not in names:
            files.remove(f"{log_uri}/{name}")


def _vacuum(dt: DeltaTable, hours: int | None, files: LakeFiles, table_uri: str) -> int:
    """Delete the data files removed longer ago than the retention; how many.

    Asked first as a dry run, so a run with nothing to delete writes no vacuum commits. The
    dry run names every expired remove action, also of files an earlier vacuum deleted
    (their remove actions stay in the log, and in checkpoints, for the table's
    ``deletedFileRetentionDuration``): only files still on storage count, or a re-run with
    a retention shorter than that would vacuum again and commit each time.
    """
    enforce = hours is None
    present = set(files.names(table_uri))
    if not present.intersection(dt.vacuum(hours, dry_run=True, enforce_retention_duration=enforce)):
        return 0
    deleted = dt.vacuum(
        hours, dry_run=False, enforce_retention_duration=enforce, **without_checkpoint()
    )
    return len(present.intersection(deleted))
