"""MLflow: where runs, models and the registry live, and the champion/challenger rule.

Default store: SQLite under the lake's local state (``sqlite:///<state>/mlflow.db``, artifacts
beside it) because MLflow 3.13+ refuses the plain file store; ``LAKEHOUSE_MLFLOW_URI`` points
at a tracking server in production. Two registered models per training run, ``customs-risk``
and ``customs-revenue``; the alias ``champion`` marks the pair scoring uses.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakehouse.catalog import local_state_dir
from lakehouse.errors import LakehouseError
from lakehouse.settings import Settings

MLFLOW_URI_ENV = "LAKEHOUSE_MLFLOW_URI"
EXPERIMENT = "customs-risk-and-revenue"
RISK_MODEL = "customs-risk"
REVENUE_MODEL = "customs-revenue"
CHAMPION = "champion"


class ModelRegistryError(LakehouseError, LookupError):
    """A model version or the champion the command needs is not in the registry."""

    code = "MODEL_REGISTRY"


def tracking_uri(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """The MLflow tracking URI: the environment's, else SQLite under the lake's local state."""
    env = os.environ if env is None else env
    if env.get(MLFLOW_URI_ENV):
        return env[MLFLOW_URI_ENV]
    state = local_state_dir(settings)
    state.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{state / 'mlflow.db'}"


def client(settings: Settings) -> Any:
    """An MLflow client on the lake's store (the module-level URI set too, for log calls)."""
    import mlflow
    from mlflow import MlflowClient

    uri = tracking_uri(settings)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(settings: Settings) -> str:
    """The experiment, created with a filesystem artifact root under the local state."""
    import mlflow

    found = client(settings).get_experiment_by_name(EXPERIMENT)
    if found is not None:
        return str(found.experiment_id)
    artifacts = local_state_dir(settings) / "mlartifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    return str(mlflow.create_experiment(EXPERIMENT, artifact_location=artifacts.as_uri()))


def dfs_tmpdir() -> str:
    """Where MLflow stages Spark models on the way in and out (stack notes 7.3)."""
    return tempfile.mkdtemp(prefix="lakehouse-mlflow-")


@dataclass(frozen=True)
class ModelPair:
    """A risk and a revenue model version registered by the same run."""

    risk_version: str
    revenue_version: str
    run_id: str


def champion(settings: Settings) -> ModelPair | None:
    """The pair scoring uses, if one was promoted."""
    from mlflow.exceptions import MlflowException

    c = client(settings)
    try:
        risk = c.get_model_version_by_alias(RISK_MODEL, CHAMPION)
        revenue = c.get_model_version_by_alias(REVENUE_MODEL, CHAMPION)
    except MlflowException:
        return None
    return ModelPair(str(risk.version), str(revenue.version), str(risk.run_id))


def pair_of_version(settings: Settings, risk_version: str) -> ModelPair:
    """The registered pair whose risk model has this version."""
    from mlflow.exceptions import MlflowException

    c = client(settings)
    try:
        risk = c.get_model_version(RISK_MODEL, risk_version)
    except MlflowException as exc:
        raise ModelRegistryError(
            f"{RISK_MODEL} has no version {risk_version}: see `lakehouse models list`"
        ) from exc
    for revenue in c.search_model_versions(f"name='{REVENUE_MODEL}'"):
        if revenue.run_id == risk.run_id:
            return ModelPair(str(risk.version), str(revenue.version), str(risk.run_id))
    raise ModelRegistryError(f"run {risk.run_id} registered no {REVENUE_MODEL} version")


def promote(settings: Settings, pair: ModelPair, reason: str) -> None:
    """Make ``pair`` the champion (both aliases) and record why on the versions."""
    c = client(settings)
    for name, version in ((RISK_MODEL, pair.risk_version), (REVENUE_MODEL, pair.revenue_version)):
        c.set_registered_model_alias(name, CHAMPION, version)
        c.set_model_version_tag(name, version, "promotion", reason)


def load_pair(settings: Settings, pair: ModelPair) -> tuple[Any, Any]:
    """The two ``PipelineModel``s of a pair."""
    import mlflow.spark

    client(settings)
    tmp = dfs_tmpdir()
    return (
        mlflow.spark.load_model(f"models:/{RISK_MODEL}/{pair.risk_version}", dfs_tmpdir=tmp),
        mlflow.spark.load_model(f"models:/{REVENUE_MODEL}/{pair.revenue_version}", dfs_tmpdir=tmp),
    )


def list_versions(settings: Settings) -> list[dict[str, Any]]:
    """Every risk model version with its run's headline metrics, newest first."""
    c = client(settings)
    champ = champion(settings)
    out = []
    for v in c.search_model_versions(f"name='{RISK_MODEL}'"):
        run = c.get_run(v.run_id)
        m = run.data.metrics
        out.append(
            {
                "version": str(v.version),
                "run_id": v.run_id,
                "champion": champ is not None and champ.risk_version == str(v.version),
                "classifier": run.data.params.get("classifier"),
                "windows": "{}..{} / {} / {}".format(
                    *(
                        run.data.params.get(k)
                        for k in ("train_from", "train_to", "valid_to", "test_to")
                    )
                ),
                "precision_at_5": m.get("precision_at_5"),
                "revenue_at_5": m.get("revenue_at_5"),
                "promotion": v.tags.get("promotion"),
            }
        )
    return sorted(out, key=lambda r: -int(r["version"]))


def log_training(
    settings: Settings,
    *,
    params: dict[str, Any],
    metrics: dict[str, float],
    risk: Any,
    revenue: Any,
    report_dir: Path,
) -> ModelPair:
    """One MLflow run: parameters, metrics, the evaluation report and both models, registered."""
    import mlflow
    import mlflow.spark

    client(settings)
    tmp = dfs_tmpdir()
    requirements = ["pyspark==4.2.0"]
    with mlflow.start_run(experiment_id=experiment_id(settings)) as run:
        mlflow.log_params(params)
        mlflow.log_metrics({k: v for k, v in metrics.items() if v is not None})
        mlflow.log_artifacts(str(report_dir), artifact_path="evaluation")
        risk_info = mlflow.spark.log_model(
            risk,
            "risk_model",
            registered_model_name=RISK_MODEL,
            dfs_tmpdir=tmp,
            pip_requirements=requirements,
        )
        revenue_info = mlflow.spark.log_model(
            revenue,
            "revenue_model",
            registered_model_name=REVENUE_MODEL,
            dfs_tmpdir=tmp,
            pip_requirements=requirements,
        )
        return ModelPair(
            str(risk_info.registered_model_version),
            str(revenue_info.registered_model_version),
            run.info.run_id,
        )
