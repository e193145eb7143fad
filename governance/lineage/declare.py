"""Declared inputs and outputs: how train, score and export jobs put their runs in the lineage.

A Spark job's reads and writes cannot be gathered offline from its code the way dbt's can, so
each job states them once per run::

    from governance.lineage.declare import declare_run, table, model_version, outbound, cms_table

    declare_run(
        settings,
        job="export",
        run_id=f"export-{day}",                       # stable: a re-run overwrites, never adds
        inputs=[table("scores.risk_scores"), model_version("risk", "7")],
        outputs=[outbound("scores", path=f"scores/{day}/scores.csv"), cms_table("risk_scores")],
        attributes={"export_date": day},              # `lineage trace --export-date` finds it
    )

The run is one JSON file in the lake's lineage store, written whole; the same ``run_id`` with
the same content leaves the file as it was.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from governance.lineage.model import Dataset, Process, table_name
from lakehouse.errors import UsageError
from lakehouse.settings import Settings

_KINDS = ("table", "ml_model", "export", "external_table")


@dataclass(frozen=True, slots=True)
class Ref:
    """A dataset a job read or wrote, by the lineage graph's qualified name."""

    qualified_name: str
    kind: str
    name: str
    path: str = ""


def table(full_name: str) -> Ref:
    """A lake table by its catalog name (``gold.ml_declaration_features``)."""
    zone, _, name = full_name.partition(".")
    if not zone or not name:
        raise UsageError(option="table", problem=f"is {full_name!r}", fix="write zone.table")
    return Ref(table_name(zone, name), "table", full_name)


def model_version(name: str, version: str) -> Ref:
    """A trained model version (e.g. the MLflow registered model and its version)."""
    return Ref(f"model://{name}/{version}", "ml_model", f"{name} v{version}")


def outbound(feed: str, *, path: str = "") -> Ref:
    """The outbound folder of an export (the outbound NiFi flow reads it); ``path``: the file."""
    return Ref(f"outbound://{feed}", "export", f"outbound/{feed}", path)


def cms_table(name: str) -> Ref:
    """A table of the CMS database the export writes to."""
    return Ref(f"external://cms.{name}", "external_table", f"cms.{name}")


def declare_run(
    settings: Settings,
    *,
    job: str,
    run_id: str,
    inputs: Sequence[Ref],
    outputs: Sequence[Ref],
    attributes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Record one run's inputs and outputs in the lineage store; returns the record."""
    from governance.lineage.store import LineageStore

    if not job or not run_id:
        raise UsageError(option="job/run_id", problem="is empty", fix="name the job and the run")
    for ref in (*inputs, *outputs):
        if ref.kind not in _KINDS:
            raise UsageError(option="ref", problem=f"has kind {ref.kind!r}", fix=f"use {_KINDS}")
    record = {
        "job": job,
        "run_id": run_id,
        "inputs": [asdict(r) for r in inputs],
        "outputs": [asdict(r) for r in outputs],
        "attributes": {k: str(v) for k, v in sorted((attributes or {}).items())},
    }
    LineageStore(settings).save_run(record)
    return record


def run_lineage(run: Mapping[str, Any]) -> Iterator[Dataset | Process]:
    """The datasets and the process of one declared run."""
    refs = [*run["inputs"], *run["outputs"]]
    for ref in refs:
        attrs = (("path", ref["path"]),) if ref.get("path") else ()
        yield Dataset(ref["qualified_name"], ref["kind"], ref["name"], attributes=attrs)
    yield Process(
        f"run://{run['job']}/{run['run_id']}",
        "spark_job",
        f"{run['job']} {run['run_id']}",
        tuple(r["qualified_name"] for r in run["inputs"]),
        tuple(r["qualified_name"] for r in run["outputs"]),
        f"declared run of the {run['job']} job",
        (("job", run["job"]), *sorted(run.get("attributes", {}).items())),
    )
