"""Deploy the lakehouse flow definitions to a NiFi 2 instance over its REST API (nipyapi 1.x).

Why this shape:

* **One process group per flow under root**, named like the flow, bound to a parameter context
  of the same name (the flow JSON's ``parameterContextName``), so flows deploy, upgrade and stop
  independently and a reviewer finds each flow by its file name.
* **Idempotent by content hash.** The sha256 of the flow file (canonical JSON) is stored in the
  process group's comments as ``[lakehouse-flow sha256:<hash>]``; the hash of the parameter
  values in the context's description. A deploy compares hashes first and writes nothing when
  they match, so running it twice changes nothing the second time (the tests count write calls).
  A changed flow is *replaced in place* (NiFi's replace-request API, which keeps queued data),
  never deleted and re-imported.
* **Secrets never come from git.** Sensitive parameters are read at deploy time from the
  environment variables named in ``nifi_flows/parameters/<env>.json`` (``LAKEHOUSE_NIFI_PARAM_*``).
  NiFi never returns sensitive values, so they are written when a context is created or its
  hash changed, or when ``update_secrets=True`` (to rotate a secret).
* **Inputs are checked before any call**, with messages naming the fix; results are small dicts
  (JSON-ready) so the CLI can print them and scripts can consume them.

Calls go through nipyapi's generated REST client (``nipyapi.nifi.*Api``) with plain dict
bodies, i.e. exactly NiFi's documented payloads; the high-level helpers of nipyapi are avoided
because they resolve names by listing the whole canvas recursively.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakehouse.errors import LakehouseError
from nifi_flows.validate import (
    FLOWS_DIR,
    PARAMETERS_DIR,
    EnvironmentParameters,
    load_environment,
    validate_all,
)

__all__ = [
    "DeployError",
    "NiFiTarget",
    "connect",
    "deploy",
    "enable_services",
    "ensure_flow",
    "ensure_parameter_context",
    "flow_hash",
    "flow_paths",
    "flow_status",
    "resolve_parameters",
    "start_flow",
    "stop_flows",
    "target_from_env",
]

CLIENT_ID = "customs-lakehouse-deploy"
_FLOW_MARK_RE = re.compile(r"\[lakehouse-flow sha256:([0-9a-f]{16,64})\]")
_PARAM_MARK_RE = re.compile(r"\[lakehouse-params sha256:([0-9a-f]{16,64})\]")
_POLL_S = 0.2


class DeployError(LakehouseError):
    """A deploy input is missing or wrong, or NiFi refused a request; the message names the fix."""


@dataclass(frozen=True)
class NiFiTarget:
    """Where NiFi is and how to log in (from ``LAKEHOUSE_NIFI_*``; see :func:`target_from_env`)."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_cert: str | None = None
    verify_tls: bool = True


def target_from_env(env: Mapping[str, str] | None = None) -> NiFiTarget:
    """Read the NiFi target from the environment, or raise naming the variable to set.

    ``LAKEHOUSE_NIFI_URL`` (required, e.g. ``https://nifi.example:8443/nifi-api``),
    ``LAKEHOUSE_NIFI_USERNAME``/``LAKEHOUSE_NIFI_PASSWORD`` (single-user or LDAP login over
    https), ``LAKEHOUSE_NIFI_CA_CERT`` (CA bundle), ``LAKEHOUSE_NIFI_VERIFY_TLS=false``.
    """
    env = os.environ if env is None else env
    url = (env.get("LAKEHOUSE_NIFI_URL") or "").strip().rstrip("/")
    if not url:
        raise DeployError(
            "NiFi URL is required: set LAKEHOUSE_NIFI_URL (e.g. https://nifi:8443/nifi-api)"
        )
    if not re.match(r"^https?://[^/]+", url):
        raise DeployError(
            f"LAKEHOUSE_NIFI_URL={url!r} is not an http(s) URL: use e.g. https://nifi:8443/nifi-api"
        )
    if not url.endswith("/nifi-api"):
        url += "/nifi-api"
    user = env.get("LAKEHOUSE_NIFI_USERNAME") or None
    password = env.get("LAKEHOUSE_NIFI_PASSWORD") or None
    if bool(user) != bool(password):
        raise DeployError(
            "set both LAKEHOUSE_NIFI_USERNAME and LAKEHOUSE_NIFI_PASSWORD, or neither"
        )
    if user and not url.startswith("https://"):
        raise DeployError(
            "NiFi login needs https: LAKEHOUSE_NIFI_URL must start with https:// when "
            "LAKEHOUSE_NIFI_USERNAME is set"
        )
    verify = (env.get("LAKEHOUSE_NIFI_VERIFY_TLS") or "true").strip().lower()
    if verify not in {"true", "false", "1", "0", "yes", "no"}:
        raise DeployError(f"LAKEHOUSE_NIFI_VERIFY_TLS={verify!r}: use true or false")
    ca = env.get("LAKEHOUSE_NIFI_CA_CERT") or None
    if ca and not Path(ca).is_file():
        raise DeployError(f"LAKEHOUSE_NIFI_CA_CERT={ca!r} is not a file: point it at the CA bundle")
    return NiFiTarget(url, user, password, ca, verify in {"true", "1", "yes"})


def connect(target: NiFiTarget) -> None:
    """Point nipyapi at the target (and log in when credentials are given)."""
    import nipyapi

    cfg = nipyapi.config.nifi_config
    cfg.verify_ssl = target.verify_tls
    if target.ca_cert:
        cfg.ssl_ca_cert = target.ca_cert
    # A new ApiClient per target: nipyapi caches one on the configuration.
    cfg.api_client = None
    https = target.url.startswith("https://")
    login = bool(target.username) and https
    try:
        _call(
            f"log in as {target.username!r}" if login else "connect",
            nipyapi.utils.set_endpoint,
            target.url,
            ssl=https,
            login=login,
            username=target.username,
            password=target.password,
        )
    except ValueError as exc:  # nipyapi turns a refused login into ValueError(body)
        raise DeployError(
            f"NiFi at {target.url} refused the login of {target.username!r}: {_short(exc)}; "
            "check LAKEHOUSE_NIFI_USERNAME and LAKEHOUSE_NIFI_PASSWORD"
        ) from exc


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def flow_paths(names: Sequence[str] = (), flows_dir: Path | str = FLOWS_DIR) -> list[Path]:
    """The flow files to act on: all of ``flows_dir``, or those named (stem or path)."""
    directory = Path(flows_dir)
    if not names:
        found = sorted(directory.glob("*.json"))
        if not found:
            raise DeployError(
                f"no flow definitions in {directory}: generate them (python -m nifi_flows.flowgen)"
            )
        return found
    out = []
    for name in names:
        p = Path(name)
        candidate = p if p.suffix == ".json" and p.exists() else directory / f"{p.stem}.json"
        if not candidate.is_file():
            known = ", ".join(x.stem for x in sorted(directory.glob("*.json")))
            raise DeployError(f"unknown flow {name!r}: use one of {known}")
        out.append(candidate)
    return out


def _load(path: Path) -> dict[str, Any]:
    try:
        doc: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DeployError(f"cannot read flow {path}: {exc}") from exc
    if "flowContents" not in doc:
        raise DeployError(f"{path} is not a NiFi 2 flow definition (no flowContents)")
    return doc


def flow_hash(flow: Mapping[str, Any]) -> str:
    """sha256 (first 16 hex) of the flow's canonical JSON, ignoring our comment marker."""
    copy = json.loads(json.dumps(flow))
    contents = copy.get("flowContents", {})
    contents["comments"] = _FLOW_MARK_RE.sub("", contents.get("comments") or "").rstrip()
    canonical = json.dumps(copy, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _declared(flow: Mapping[str, Any]) -> tuple[str, list[Mapping[str, Any]]]:
    name = flow["flowContents"].get("parameterContextName")
    if not name:
        raise DeployError(
            f"flow {flow['flowContents'].get('name')!r} has no parameterContextName: bind it to "
            "a parameter context named like the flow"
        )
    context = (flow.get("parameterContexts") or {}).get(name) or {}
    return str(name), list(context.get("parameters") or [])


def resolve_parameters(
    flow: Mapping[str, Any],
    environment: EnvironmentParameters,
    env: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """(plain values, sensitive values) of the flow's context for one environment.

    Sensitive values come only from the environment variables the environment file names;
    every missing one is reported at once, by variable name.
    """
    env = os.environ if env is None else env
    _, params = _declared(flow)
    plain: dict[str, str] = {}
    secret: dict[str, str] = {}
    missing: list[str] = []
    for param in params:
        pname = str(param["name"])
        if param.get("sensitive"):
            var = environment.sensitive.get(pname)
            if var is None:
                missing.append(f'{pname} (add it to "sensitive" in {environment.path.name})')
            elif not env.get(var):
                missing.append(f"{pname} (set {var})")
            else:
                secret[pname] = env[var]
        elif pname in environment.parameters:
            plain[pname] = environment.parameters[pname]
        else:
            missing.append(f'{pname} (add it to "parameters" in {environment.path.name})')
    if missing:
        raise DeployError(
            f"flow {flow['flowContents']['name']!r} in environment {environment.name!r} lacks "
            "parameters: " + "; ".join(missing)
        )
    return plain, secret


def _params_hash(plain: Mapping[str, str], sensitive_names: Sequence[str]) -> str:
    doc = json.dumps([sorted(plain.items()), sorted(sensitive_names)], separators=(",", ":"))
    return hashlib.sha256(doc.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# REST helpers (nipyapi generated client, dict bodies)
# ---------------------------------------------------------------------------------------------


def _api(name: str) -> Any:
    import nipyapi

    return getattr(nipyapi.nifi, name)()


def _call(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the NiFi REST client; every transport or HTTP failure becomes one DeployError line.

    Why this list: nipyapi raises its ApiException for HTTP errors, but lets urllib3's own
    errors through (MaxRetryError for a refused connection or a TLS failure is no OSError),
    and an unreachable NiFi must print one line naming the URL and the fix, not a traceback.
    """
    import nipyapi
    import urllib3

    try:
        with _quiet_retries():
            return fn(*args, **kwargs)
    except nipyapi.nifi.rest.ApiException as exc:
        body = (exc.body or b"").decode() if isinstance(exc.body, bytes) else (exc.body or "")
        raise DeployError(
            f"NiFi at {_host()} refused to {what}: HTTP {exc.status} {_short(body)}"
        ) from exc
    except (OSError, urllib3.exceptions.HTTPError) as exc:
        raise DeployError(
            f"cannot reach NiFi at {_host()} to {what}: {_short(_root_cause(exc))}; check "
            "LAKEHOUSE_NIFI_URL (and LAKEHOUSE_NIFI_CA_CERT for https) and that NiFi is up"
        ) from exc


def _host() -> str:
    import nipyapi

    return str(nipyapi.config.nifi_config.host)


@contextlib.contextmanager
def _quiet_retries() -> Iterator[None]:
    """Mute urllib3's per-retry warnings: a failure is reported once, by :func:`_call`."""
    pool_logger = logging.getLogger("urllib3.connectionpool")
    previous = pool_logger.level
    pool_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        pool_logger.setLevel(previous)


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost error urllib3 wrapped (MaxRetryError -> NewConnectionError -> ...)."""
    seen = {id(exc)}
    while True:
        inner = getattr(exc, "reason", None) or exc.__cause__
        if not isinstance(inner, BaseException) or id(inner) in seen:
            return exc
        seen.add(id(inner))
        exc = inner


def _short(value: object, limit: int = 300) -> str:
    """One line of at most ``limit`` characters, so an error stays a single readable line."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _wait(what: str, get: Any, delete: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            req = _call(f"poll {what}", get).request
            if req.failure_reason:
                raise DeployError(f"{what} failed in NiFi: {req.failure_reason}")
            if req.complete:
                return
            if time.monotonic() > deadline:
                raise DeployError(f"{what} did not complete within {timeout_s:.0f} s")
            time.sleep(_POLL_S)
    finally:
        _call(f"clean up {what}", delete)


def _rev(revision: Any) -> dict[str, Any]:
    return {"version": int(getattr(revision, "version", 0) or 0), "clientId": CLIENT_ID}


def _root_children() -> tuple[str, dict[str, Any]]:
    """(root id, {name: ProcessGroupEntity}) of the groups directly under root."""
    flow = _call("read the root process group", _api("FlowApi").get_flow1, "root")
    pgf = flow.process_group_flow
    children = {pg.component.name: pg for pg in (pgf.flow.process_groups or [])}
    return str(pgf.id), children


def _contexts() -> dict[str, Any]:
    entity = _call("list parameter contexts", _api("FlowApi").get_parameter_contexts)
    return {c.component.name: c for c in (entity.parameter_contexts or [])}


# ---------------------------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------------------------


def ensure_parameter_context(
    name: str,
    values: Mapping[str, str],
    sensitive: Mapping[str, str] | None = None,
    *,
    descriptions: Mapping[str, str] | None = None,
    update_secrets: bool = False,
    timeout_s: float = 120.0,
) -> dict[str, Any]:
    """Create or update a parameter context; no write when its stored hash matches.

    Returns ``{"context", "id", "action": created|updated|unchanged}``.
    """
    sensitive = dict(sensitive or {})
    descriptions = dict(descriptions or {})
    digest = _params_hash(values, list(sensitive))
    description = (
        f"Managed by customs-lakehouse nifi_flows/deploy.py [lakehouse-params sha256:{digest}]"
    )

    def params(with_secrets: bool) -> list[dict[str, Any]]:
        out = [
            {
                "parameter": {
                    "name": k,
                    "value": v,
                    "sensitive": False,
                    "description": descriptions.get(k, ""),
                }
            }
            for k, v in sorted(values.items())
        ]
        if with_secrets:
            out += [
                {
                    "parameter": {
                        "name": k,
                        "value": v,
                        "sensitive": True,
                        "description": descriptions.get(k, ""),
                    }
                }
                for k, v in sorted(sensitive.items())
            ]
        return out

    existing = _contexts().get(name)
    if existing is None:
        created = _call(
            f"create parameter context {name!r}",
            _api("ParameterContextsApi").create_parameter_context,
            {
                "revision": {"version": 0, "clientId": CLIENT_ID},
                "component": {"name": name, "description": description, "parameters": params(True)},
            },
        )
        return {"context": name, "id": created.id, "action": "created"}
    match = _PARAM_MARK_RE.search(existing.component.description or "")
    if match and match.group(1) == digest and not update_secrets:
        return {"context": name, "id": existing.id, "action": "unchanged"}
    api = _api("ParameterContextsApi")
    body = {
        "id": existing.id,
        "revision": _rev(existing.revision),
        "component": {
            "id": existing.id,
            "name": name,
            "description": description,
            "parameters": params(True),
        },
    }
    req = _call(
        f"update parameter context {name!r}", api.submit_parameter_context_update, body, existing.id
    )
    rid = req.request.request_id
    _wait(
        f"update of parameter context {name!r}",
        lambda: api.get_parameter_context_update(existing.id, rid),
        lambda: api.delete_update_request(existing.id, rid),
        timeout_s,
    )
    return {"context": name, "id": existing.id, "action": "updated"}


def ensure_flow(flow_path: Path | str, *, timeout_s: float = 300.0) -> dict[str, Any]:
    """Import the flow as a process group under root, or replace it when its hash changed.

    Returns ``{"flow", "process_group_id", "hash", "action": imported|upgraded|unchanged}``.
    """
    path = Path(flow_path)
    flow = _load(path)
    digest = flow_hash(flow)
    name = str(flow["flowContents"]["name"])
    marked = json.loads(json.dumps(flow))
    base = _FLOW_MARK_RE.sub("", marked["flowContents"].get("comments") or "").rstrip()
    marked["flowContents"]["comments"] = f"{base}\n\n[lakehouse-flow sha256:{digest}]".lstrip()

    root_id, children = _root_children()
    pg = children.get(name)
    result = {"flow": path.stem, "name": name, "hash": digest}
    if pg is None:
        created = _call(
            f"import flow {name!r}",
            _api("ProcessGroupsApi").upload_process_group,
            id=root_id,
            file=json.dumps(marked).encode(),
            group_name=name,
            position_x=str(float(400 * len(children))),
            position_y="0.0",
            client_id=CLIENT_ID,
        )
        return {**result, "process_group_id": created.id, "action": "imported"}
    match = _FLOW_MARK_RE.search(pg.component.comments or "")
    if match and match.group(1) == digest:
        return {**result, "process_group_id": pg.id, "action": "unchanged"}

    api = _api("ProcessGroupsApi")
    snapshot = {
        key: marked[key]
        for key in (
            "flowContents",
            "parameterContexts",
            "externalControllerServices",
            "parameterProviders",
            "flowEncodingVersion",
        )
        if key in marked
    }
    req = _call(
        f"replace flow {name!r}",
        api.initiate_replace_process_group,
        {"processGroupRevision": _rev(pg.revision), "versionedFlowSnapshot": snapshot},
        pg.id,
    )
    rid = req.request.request_id
    _wait(
        f"replacement of flow {name!r}",
        lambda: api.get_replace_process_group_request(rid),
        lambda: api.delete_replace_process_group_request(rid),
        timeout_s,
    )
    # The replace keeps the group; store the new hash where the next deploy looks for it.
    current = _call(f"read flow {name!r}", api.get_process_group, pg.id)
    _call(
        f"record the hash of flow {name!r}",
        api.update_process_group,
        {
            "revision": _rev(current.revision),
            "component": {"id": pg.id, "comments": marked["flowContents"]["comments"]},
        },
        pg.id,
    )
    return {**result, "process_group_id": pg.id, "action": "upgraded"}


def enable_services(process_group_id: str) -> dict[str, Any]:
    """Enable every controller service of the group (no call when all are enabled)."""
    flow_api = _api("FlowApi")
    services = (
        _call(
            "list controller services",
            flow_api.get_controller_services_from_group,
            process_group_id,
            include_ancestor_groups=False,
            include_descendant_groups=True,
        ).controller_services
        or []
    )
    pending = [s.id for s in services if (s.component.state or "") not in ("ENABLED", "ENABLING")]
    if not pending:
        return {
            "process_group_id": process_group_id,
            "services": len(services),
            "action": "unchanged",
        }
    _call(
        "enable controller services",
        flow_api.activate_controller_services,
        {"id": process_group_id, "state": "ENABLED", "disconnectedNodeAcknowledged": False},
        process_group_id,
    )
    return {"process_group_id": process_group_id, "services": len(services), "action": "enabled"}


def _schedule(process_group_id: str, state: str) -> None:
    _call(
        f"set flow state {state}",
        _api("FlowApi").schedule_components,
        {"id": process_group_id, "state": state, "disconnectedNodeAcknowledged": False},
        process_group_id,
    )


def start_flow(process_group_id: str) -> dict[str, Any]:
    """Start every component of the group (no call when nothing is stopped)."""
    _, children = _root_children()
    pg = next((p for p in children.values() if p.id == process_group_id), None)
    if pg is not None and (pg.running_count or 0) > 0 and not (pg.stopped_count or 0):
        return {"process_group_id": process_group_id, "action": "unchanged"}
    _schedule(process_group_id, "RUNNING")
    return {"process_group_id": process_group_id, "action": "started"}


def deploy(
    target: NiFiTarget,
    environment: str,
    *,
    flows: Sequence[str] = (),
    flows_dir: Path | str = FLOWS_DIR,
    parameters_dir: Path | str = PARAMETERS_DIR,
    env: Mapping[str, str] | None = None,
    start: bool = True,
    update_secrets: bool = False,
) -> list[dict[str, Any]]:
    """Validate, then per flow: parameter context, process group, services, start.

    Everything that can be checked offline is checked before the first NiFi call: flow and
    environment validation, and every sensitive environment variable of every flow.
    """
    env_file = Path(parameters_dir) / f"{environment}.json"
    if not env_file.is_file():
        known = ", ".join(p.stem for p in sorted(Path(parameters_dir).glob("*.json")))
        raise DeployError(
            f"unknown environment {environment!r}: use one of {known} (files in {parameters_dir})"
        )
    problems = validate_all(flows_dir, parameters_dir, environment)
    if problems:
        raise DeployError(
            f"nothing deployed: {len(problems)} validation problem(s), see lakehouse flows "
            f"validate --env {environment}; the first: {problems[0]}"
        )
    environment_params = load_environment(env_file)
    paths = flow_paths(flows, flows_dir)
    plans = []
    missing: list[str] = []
    for path in paths:
        flow = _load(path)
        context, declared = _declared(flow)
        try:
            plain, secret = resolve_parameters(flow, environment_params, env)
        except DeployError as exc:
            missing.append(str(exc))
            continue
        descriptions = {str(p["name"]): str(p.get("description") or "") for p in declared}
        plans.append((path, context, plain, secret, descriptions))
    if missing:
        raise DeployError("nothing deployed; missing inputs: " + " | ".join(missing))

    connect(target)
    results = []
    for path, context, plain, secret, descriptions in plans:
        ctx = ensure_parameter_context(
            context, plain, secret, descriptions=descriptions, update_secrets=update_secrets
        )
        pg = ensure_flow(path)
        entry: dict[str, Any] = {
            "flow": pg["flow"],
            "process_group_id": pg["process_group_id"],
            "flow_action": pg["action"],
            "parameters_action": ctx["action"],
        }
        if start:
            entry["services_action"] = enable_services(pg["process_group_id"])["action"]
            entry["start_action"] = start_flow(pg["process_group_id"])["action"]
        results.append(entry)
    return results


def flow_status(
    target: NiFiTarget, *, flows: Sequence[str] = (), flows_dir: Path | str = FLOWS_DIR
) -> list[dict[str, Any]]:
    """Per flow: deployed?, up to date (hash), and component counts from NiFi."""
    paths = flow_paths(flows, flows_dir)
    connect(target)
    _, children = _root_children()
    out = []
    for path in paths:
        flow = _load(path)
        name = str(flow["flowContents"]["name"])
        pg = children.get(name)
        if pg is None:
            out.append({"flow": path.stem, "name": name, "deployed": False})
            continue
        match = _FLOW_MARK_RE.search(pg.component.comments or "")
        out.append(
            {
                "flow": path.stem,
                "name": name,
                "deployed": True,
                "process_group_id": pg.id,
                "up_to_date": bool(match and match.group(1) == flow_hash(flow)),
                "running": int(pg.running_count or 0),
                "stopped": int(pg.stopped_count or 0),
                "invalid": int(pg.invalid_count or 0),
                "disabled": int(pg.disabled_count or 0),
            }
        )
    return out


def stop_flows(
    target: NiFiTarget,
    *,
    flows: Sequence[str] = (),
    flows_dir: Path | str = FLOWS_DIR,
    disable_services: bool = False,
) -> list[dict[str, Any]]:
    """Stop the flows' process groups (and optionally disable their controller services)."""
    paths = flow_paths(flows, flows_dir)
    connect(target)
    _, children = _root_children()
    out = []
    for path in paths:
        name = str(_load(path)["flowContents"]["name"])
        pg = children.get(name)
        if pg is None:
            out.append({"flow": path.stem, "action": "not deployed"})
            continue
        action = "unchanged"
        if (pg.running_count or 0) > 0:
            _schedule(pg.id, "STOPPED")
            action = "stopped"
        entry = {"flow": path.stem, "process_group_id": pg.id, "action": action}
        if disable_services:
            _call(
                "disable controller services",
                _api("FlowApi").activate_controller_services,
                {"id": pg.id, "state": "DISABLED", "disconnectedNodeAcknowledged": False},
                pg.id,
            )
            entry["services_action"] = "disabled"
        out.append(entry)
    return out
