"""Structure checks for the NiFi flow definitions and per-environment parameter files.

Why: NiFi itself only finds most of these mistakes after an import into a running instance,
i.e. in an environment, and NiFi Stateless (which the tests run) only loads the directory
branch of each flow. These checks run in milliseconds, offline, on every flow file, every
environment file and every branch, so a dangling connection, an undefined parameter in
``prod.json`` or a password pasted into a property fails in CI, not at deploy time.

Each problem is one string naming the file, the component and the fix. An empty list means
valid. Nothing here talks to NiFi.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "FLOWS_DIR",
    "LISTENERS",
    "NIFI_VERSION",
    "PARAMETERS_DIR",
    "TLS_SSLMODES",
    "EnvironmentParameters",
    "FlowValidationError",
    "ListenerTLS",
    "check_flow",
    "jdbc_tls_problem",
    "load_environment",
    "load_environments",
    "sensitive_env_var",
    "validate_all",
    "validate_environment",
    "validate_flow",
    "validate_tls",
]

NIFI_VERSION = "2.3.0"
FLOWS_DIR = Path(__file__).resolve().parent / "flows"
PARAMETERS_DIR = Path(__file__).resolve().parent / "parameters"
ENV_PREFIX = "LAKEHOUSE_NIFI_PARAM_"

_PARAM_RE = re.compile(r"#\{([^}]*)\}")
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SENSITIVE_NAME_RE = re.compile(
    r"(?i)(pass(word|wd|phrase)?\b|secret|token|credential|private|(^|[\s._-])key$|^key\b|"
    r"access[\s._-]?key|api[\s._-]?key)"
)
# Property names that match the pattern above but carry no secret.
_NOT_SECRET_NAMES = frozenset({"Object Key", "lakehouse.landing_key", "Key Field", "Record Key"})
_CREDENTIAL_VALUE_RES = (
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"://[^/\s:@]+:[^/\s@]+@"), "a URL with user:password"),
    (re.compile(r"(?i)[?&;](password|passwd|pwd|secret|token)=[^&;\s]+"), "a password in a URL"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), "a GitHub token"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"), "a JWT"),
)

# Relationships of every processor type the lakehouse flows use (NiFi 2.3.0). A processor type
# missing here is reported: add its relationships so connections can be checked.
RELATIONSHIPS: dict[str, frozenset[str]] = {
    "org.apache.nifi.processors.standard.ListFile": frozenset({"success"}),
    "org.apache.nifi.processors.standard.FetchFile": frozenset(
        {"success", "failure", "not.found", "permission.denied"}
    ),
    "org.apache.nifi.processors.standard.PutFile": frozenset({"success", "failure"}),
    "org.apache.nifi.processors.standard.CryptographicHashContent": frozenset(
        {"success", "failure"}
    ),
    "org.apache.nifi.processors.attributes.UpdateAttribute": frozenset({"success"}),
    "org.apache.nifi.processors.standard.RouteOnAttribute": frozenset({"unmatched"}),
    "org.apache.nifi.processors.standard.ListenHTTP": frozenset({"success"}),
    "org.apache.nifi.processors.standard.MergeContent": frozenset(
        {"merged", "original", "failure"}
    ),
    "org.apache.nifi.processors.standard.QueryDatabaseTableRecord": frozenset({"success"}),
    "org.apache.nifi.processors.standard.QueryDatabaseTable": frozenset({"success"}),
    "org.apache.nifi.processors.mqtt.ConsumeMQTT": frozenset({"Message"}),
    "org.apache.nifi.processors.aws.s3.PutS3Object": frozenset({"success", "failure"}),
}
# RouteOnAttribute static properties; every other property is a route (= a relationship).
_ROUTE_STATIC = frozenset({"Routing Strategy"})
# Property names that hold a controller-service id even without a propertyDescriptor flag.
SERVICE_PROPERTIES = frozenset(
    {
        "Database Connection Pooling Service",
        "qdbtr-record-writer",
        "record-writer",
        "record-reader",
        "Record Writer",
        "Record Reader",
        "AWS Credentials Provider service",
        "SSL Context Service",
    }
)
_SCHEDULING = frozenset({"TIMER_DRIVEN", "CRON_DRIVEN"})


# Listeners that accept connections from other systems: (SSL context property, client
# authentication property, the value that makes a client certificate mandatory). A listener
# type missing here is reported in environments that require TLS, so a new one cannot slip in
# as plain text: add its properties here.
@dataclass(frozen=True)
class ListenerTLS:
    """Where a listener type keeps its TLS settings (property names, NiFi 2.3.0)."""

    ssl_context: str
    client_auth: str
    client_auth_required: str
    subject_dn: str | None = None
    """Regex property restricting which client certificates get in, if the type has one."""


LISTENERS: dict[str, ListenerTLS] = {
    "org.apache.nifi.processors.standard.ListenHTTP": ListenerTLS(
        "SSL Context Service", "client-authentication", "REQUIRED", "Authorized DN Pattern"
    ),
}
_LISTENER_RE = re.compile(r"\.(Listen[A-Za-z]*|HandleHttpRequest)$")
# SSL context service properties that must name a store for mutual TLS.
_TLS_STORES = ("Keystore Filename", "Truststore Filename")
# PostgreSQL JDBC sslmode values that encrypt (verify-* also check the server certificate).
TLS_SSLMODES = frozenset({"require", "verify-ca", "verify-full"})


class FlowValidationError(ValueError):
    """Raised by :func:`check_flow`; the message lists every problem, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class EnvironmentParameters:
    """One ``nifi_flows/parameters/<env>.json``: plain values and sensitive env-var names."""

    name: str
    path: Path
    parameters: dict[str, str] = field(default_factory=dict)
    sensitive: dict[str, str] = field(default_factory=dict)
    require_tls: bool = False
    """Listeners must use TLS with client certificates, database URLs must encrypt."""

    def defines(self, parameter: str) -> bool:
        """True when the environment gives the parameter a value or an env-var source."""
        return parameter in self.parameters or parameter in self.sensitive


def sensitive_env_var(parameter: str) -> str:
    """The environment variable a sensitive parameter is read from at deploy time."""
    return ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", parameter).upper()


def load_environment(path: Path | str) -> EnvironmentParameters:
    """Read one environment file (format: see docs/nifi_flows.md)."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text())
    except (OSError, ValueError) as exc:
        raise FlowValidationError([f"{p.name}: cannot read environment file: {exc}"]) from exc
    name = str(doc.get("environment") or p.stem)
    return EnvironmentParameters(
        name=name,
        path=p,
        parameters={str(k): str(v) for k, v in (doc.get("parameters") or {}).items()},
        sensitive={str(k): str(v) for k, v in (doc.get("sensitive") or {}).items()},
        # Safe default: an environment called prod requires TLS unless it says otherwise.
        require_tls=bool(doc.get("require_tls", name == "prod")),
    )


def load_environments(directory: Path | str = PARAMETERS_DIR) -> list[EnvironmentParameters]:
    """Every ``*.json`` environment file of the directory, by name."""
    return [load_environment(p) for p in sorted(Path(directory).glob("*.json"))]


def _groups(group: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield group
    for child in group.get("processGroups") or []:
        yield from _groups(child)


def _params_in(value: Any) -> list[str]:
    return _PARAM_RE.findall(value) if isinstance(value, str) else []


def _is_sensitive_name(name: str) -> bool:
    return name not in _NOT_SECRET_NAMES and bool(_SENSITIVE_NAME_RE.search(name))


def _credential_kind(value: str) -> str | None:
    for pattern, kind in _CREDENTIAL_VALUE_RES:
        if pattern.search(value):
            return kind
    return None


def validate_flow(
    flow: Mapping[str, Any],
    *,
    name: str,
    environments: Iterable[EnvironmentParameters] = (),
) -> list[str]:
    """Every problem of one flow definition; ``name`` prefixes the messages (the file name)."""
    problems: list[str] = []

    def bad(message: str) -> None:
        problems.append(f"{name}: {message}")

    contents = flow.get("flowContents")
    if not isinstance(contents, Mapping):
        bad(
            "no flowContents: not a NiFi 2 flow definition (export with 'Download flow definition')"
        )
        return problems
    context_name = contents.get("parameterContextName")
    contexts = flow.get("parameterContexts") or {}
    declared: dict[str, Mapping[str, Any]] = {}
    if context_name is not None:
        context = contexts.get(context_name)
        if context is None:
            bad(
                f"flowContents.parameterContextName {context_name!r} has no entry in "
                "parameterContexts: add the context or fix the name"
            )
        else:
            declared = {p.get("name"): p for p in context.get("parameters") or []}
            for pname, param in declared.items():
                if param.get("sensitive") and param.get("value") not in (None, ""):
                    bad(
                        f"sensitive parameter {pname!r} has a value in the flow JSON: remove it; "
                        f"it is set at deploy time from {sensitive_env_var(str(pname))}"
                    )
                elif not param.get("sensitive") and isinstance(param.get("value"), str):
                    kind = _credential_kind(param["value"])
                    if kind:
                        bad(
                            f"parameter {pname!r} looks like {kind}: make it sensitive and "
                            f"supply it from {sensitive_env_var(str(pname))}"
                        )

    ids: dict[str, str] = {}
    service_ids: set[str] = set((flow.get("externalControllerServices") or {}).keys())
    referenced_params: dict[str, str] = {}

    for group in _groups(contents):
        gname = group.get("name", "?")
        for key in ("identifier",):
            gid = group.get(key)
            if not gid:
                bad(f"process group {gname!r} has no identifier")
            elif gid in ids:
                bad(
                    f"identifier {gid} is used twice ({ids[gid]} and group {gname!r}): "
                    "make ids unique"
                )
            else:
                ids[gid] = f"group {gname!r}"
        for kind in (
            "processors",
            "controllerServices",
            "inputPorts",
            "outputPorts",
            "funnels",
            "labels",
            "connections",
        ):
            for comp in group.get(kind) or []:
                cid = comp.get("identifier")
                label = f"{kind[:-1]} {comp.get('name') or cid!r}"
                if not cid:
                    bad(f"{label} has no identifier: give every component a unique UUID")
                elif cid in ids:
                    bad(f"identifier {cid} is used twice ({ids[cid]} and {label}): make ids unique")
                else:
                    ids[cid] = label
                if kind == "controllerServices" and cid:
                    service_ids.add(cid)

    for group in _groups(contents):
        local = {
            c["identifier"]: (kind, c)
            for kind in ("processors", "inputPorts", "outputPorts", "funnels")
            for c in group.get(kind) or []
            if c.get("identifier")
        }
        used_rels: dict[str, set[str]] = {}
        for conn in group.get("connections") or []:
            cname = conn.get("identifier", "?")
            for end in ("source", "destination"):
                ref = conn.get(end) or {}
                if ref.get("id") not in local:
                    bad(
                        f"connection {cname} {end} {ref.get('name') or ref.get('id')!r} is not a "
                        "processor, port or funnel of its group: fix the id or remove the "
                        "connection"
                    )
            src = local.get((conn.get("source") or {}).get("id"))
            rels = conn.get("selectedRelationships") or []
            if src and src[0] == "processors":
                if not rels:
                    bad(f"connection {cname} from {src[1].get('name')!r} selects no relationship")
                used_rels.setdefault(src[1]["identifier"], set()).update(rels)

        for proc in group.get("processors") or []:
            pname = proc.get("name") or proc.get("identifier")
            ptype = proc.get("type")
            if not ptype:
                bad(f"processor {pname!r} has no type (fully qualified class name)")
            bundle = proc.get("bundle") or {}
            if not all(bundle.get(k) for k in ("group", "artifact", "version")):
                bad(f"processor {pname!r} has no complete bundle {{group, artifact, version}}")
            elif bundle.get("version") != NIFI_VERSION:
                bad(
                    f"processor {pname!r} uses {bundle['artifact']} {bundle['version']}: set the "
                    f"bundle version to {NIFI_VERSION}, the NiFi version the flows are built for"
                )
            if proc.get("schedulingStrategy") not in _SCHEDULING:
                bad(
                    f"processor {pname!r} has schedulingStrategy "
                    f"{proc.get('schedulingStrategy')!r}: "
                    "NiFi 2 knows TIMER_DRIVEN and CRON_DRIVEN only"
                )
            known = RELATIONSHIPS.get(ptype or "")
            if known is None:
                bad(
                    f"processor {pname!r}: unknown type {ptype!r}; add its relationships to "
                    "RELATIONSHIPS in nifi_flows/validate.py"
                )
            else:
                if ptype and ptype.endswith(".RouteOnAttribute"):
                    known = known | {
                        k for k in (proc.get("properties") or {}) if k not in _ROUTE_STATIC
                    }
                auto = set(proc.get("autoTerminatedRelationships") or [])
                used = used_rels.get(proc.get("identifier", ""), set())
                for rel in sorted((auto | used) - known):
                    bad(f"processor {pname!r} ({ptype}) has no relationship {rel!r}")
                for rel in sorted(known - auto - used):
                    bad(
                        f"processor {pname!r}: relationship {rel!r} is neither connected nor "
                        "auto-terminated: connect it (e.g. to the failure port) or "
                        "auto-terminate it"
                    )
            for pname_ in _params_in(proc.get("schedulingPeriod")):
                referenced_params.setdefault(pname_, f"processor {pname!r} schedulingPeriod")

        for comp in [*(group.get("processors") or []), *(group.get("controllerServices") or [])]:
            cname = comp.get("name") or comp.get("identifier")
            if comp in (group.get("controllerServices") or []):
                b = comp.get("bundle") or {}
                if not all(b.get(k) for k in ("group", "artifact", "version")):
                    bad(f"controller service {cname!r} has no complete bundle")
                if not comp.get("type"):
                    bad(f"controller service {cname!r} has no type")
            descriptors = comp.get("propertyDescriptors") or {}
            for prop, value in (comp.get("properties") or {}).items():
                desc = descriptors.get(prop) or {}
                for pref in _params_in(value):
                    referenced_params.setdefault(pref, f"{cname!r} property {prop!r}")
                if desc.get("identifiesControllerService") or prop in SERVICE_PROPERTIES:
                    if value and value not in service_ids:
                        bad(
                            f"{cname!r} property {prop!r} references controller service {value!r}, "
                            "which is neither in the flow nor in externalControllerServices"
                        )
                    continue
                if value in (None, ""):
                    continue
                refs = _params_in(value)
                if desc.get("sensitive") or _is_sensitive_name(prop):
                    whole_ref = len(refs) == 1 and value.strip() == f"#{{{refs[0]}}}"
                    if not whole_ref:
                        bad(
                            f"{cname!r} property {prop!r} has a hard-coded value: secrets must "
                            "not be in git; use a sensitive parameter, e.g. "
                            f"#{{{_suggest(prop)}}}, set from "
                            f"{sensitive_env_var(_suggest(prop))}"
                        )
                    elif refs[0] in declared and not declared[refs[0]].get("sensitive"):
                        bad(
                            f"{cname!r} property {prop!r} uses parameter {refs[0]!r}, which is not "
                            "sensitive: mark it sensitive (NiFi 2 rejects it otherwise)"
                        )
                    continue
                kind = _credential_kind(value)
                if kind:
                    bad(
                        f"{cname!r} property {prop!r} looks like {kind}: move the secret into a "
                        "sensitive parameter supplied from the environment"
                    )

    for pref, where in sorted(referenced_params.items()):
        if context_name is None:
            bad(f"{where} references #{{{pref}}} but the flow has no parameter context")
            continue
        if pref not in declared:
            bad(
                f"{where} references parameter #{{{pref}}}, which parameter context "
                f"{context_name!r} does not declare: add it to the context"
            )
        for env in environments:
            if not env.defines(pref):
                sensitive = bool((declared.get(pref) or {}).get("sensitive"))
                fix = (
                    f'add "{pref}": "{sensitive_env_var(pref)}" to "sensitive"'
                    if sensitive
                    else f'add "{pref}" to "parameters"'
                )
                bad(f"parameter #{{{pref}}} is not defined in {env.path.name}: {fix}")
            elif pref in env.parameters and (declared.get(pref) or {}).get("sensitive"):
                bad(
                    f"{env.path.name} gives sensitive parameter {pref!r} a literal value: move it "
                    f'to "sensitive" as "{pref}": "{sensitive_env_var(pref)}"'
                )
    for env in environments:
        problems.extend(validate_tls(flow, name=name, env=env))
    return problems


def _declared_parameters(flow: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    context = (flow.get("parameterContexts") or {}).get(
        (flow.get("flowContents") or {}).get("parameterContextName")
    ) or {}
    return {str(p.get("name")): p for p in context.get("parameters") or []}


def _resolve(value: Any, env: EnvironmentParameters, declared: Mapping[str, Any]) -> str:
    """A property value as it would run in ``env``: each ``#{param}`` replaced by its value."""

    def value_of(match: re.Match[str]) -> str:
        param = match.group(1)
        if param in env.parameters:
            return env.parameters[param]
        if param in env.sensitive:
            return "<sensitive>"
        return str((declared.get(param) or {}).get("value") or "")

    return _PARAM_RE.sub(value_of, value) if isinstance(value, str) else ""


def jdbc_tls_problem(url: str) -> str | None:
    """Why a PostgreSQL JDBC URL would connect without TLS, or None (not PostgreSQL, or TLS)."""
    if not url.lower().startswith("jdbc:postgresql:"):
        return None
    modes = parse_qs(urlsplit(url[len("jdbc:") :]).query).get("sslmode") or []
    if modes and modes[-1].lower() in TLS_SSLMODES:
        return None
    found = f"sslmode={modes[-1]}" if modes else "no sslmode"
    return (
        f"{found}: add sslmode=verify-full&sslrootcert=<CA file of the database server> "
        f"(or at least one of {', '.join(sorted(TLS_SSLMODES))})"
    )


def validate_tls(flow: Mapping[str, Any], *, name: str, env: EnvironmentParameters) -> list[str]:
    """Problems of a flow in an environment that requires TLS (``"require_tls": true``).

    Every listener must use an SSL context with a keystore and a truststore and require a
    client certificate; a PostgreSQL JDBC URL written into a property must set an encrypting
    sslmode (URLs that come from parameters are checked with the environment file).
    """
    if not env.require_tls:
        return []
    contents = flow.get("flowContents")
    if not isinstance(contents, Mapping):
        return []
    declared = _declared_parameters(flow)
    services = {
        s.get("identifier"): s for g in _groups(contents) for s in g.get("controllerServices") or []
    }
    problems: list[str] = []
    for group in _groups(contents):
        for comp in [*(group.get("processors") or []), *(group.get("controllerServices") or [])]:
            cname = comp.get("name") or comp.get("identifier")
            for prop, value in (comp.get("properties") or {}).items():
                why = jdbc_tls_problem(value) if isinstance(value, str) else None
                if why and not _params_in(value):
                    problems.append(
                        f"{name}: [{env.path.name} requires TLS] {cname!r} property {prop!r} "
                        f"connects to PostgreSQL without TLS ({why})"
                    )
        for proc in group.get("processors") or []:
            problems.extend(_listener_problems(proc, services, env, declared, name))
    return problems


def _listener_problems(
    proc: Mapping[str, Any],
    services: Mapping[str, Mapping[str, Any]],
    env: EnvironmentParameters,
    declared: Mapping[str, Any],
    name: str,
) -> list[str]:
    ptype = str(proc.get("type") or "")
    if not _LISTENER_RE.search(ptype):
        return []
    where = f"{name}: [{env.path.name} requires TLS] listener {proc.get('name')!r}"
    spec = LISTENERS.get(ptype)
    if spec is None:
        return [
            f"{where} ({ptype}) is unknown to the TLS rule: add its SSL context and client "
            "authentication properties to LISTENERS in nifi_flows/validate.py"
        ]
    props = proc.get("properties") or {}
    service = services.get(props.get(spec.ssl_context) or "")
    if service is None:
        return [
            f"{where} accepts plain HTTP/TCP: set {spec.ssl_context!r} to a "
            "StandardRestrictedSSLContextService with a keystore and a truststore, and "
            f"{spec.client_auth!r} to {spec.client_auth_required}"
        ]
    problems = []
    sprops = service.get("properties") or {}
    for store in _TLS_STORES:
        if not _resolve(sprops.get(store), env, declared).strip():
            problems.append(
                f"{where}: its SSL context {service.get('name')!r} has no {store!r}: set it "
                "(the truststore holds the CA that issues the clients' certificates)"
            )
    auth = _resolve(props.get(spec.client_auth), env, declared)
    if auth != spec.client_auth_required:
        problems.append(
            f"{where} does not require client certificates ({spec.client_auth}="
            f"{auth or 'unset'}): set {spec.client_auth!r} to {spec.client_auth_required}"
        )
    if spec.subject_dn and _resolve(props.get(spec.subject_dn), env, declared) in ("", ".*"):
        problems.append(
            f"{where} accepts any certificate its truststore's CAs issued: set "
            f"{spec.subject_dn!r} to a pattern of the senders' subject DNs"
        )
    return problems


def _suggest(prop: str) -> str:
    return re.sub(r"[^a-z0-9]+", ".", prop.lower()).strip(".") or "secret"


def validate_environment(env: EnvironmentParameters) -> list[str]:
    """Problems of one environment file on its own: secrets in values, bad env-var names."""
    problems = []
    for pname, value in env.parameters.items():
        if _is_sensitive_name(pname) and value:
            problems.append(
                f"{env.path.name}: parameter {pname!r} looks secret but has a literal value: move "
                f'it to "sensitive" as "{pname}": "{sensitive_env_var(pname)}"'
            )
        kind = _credential_kind(value)
        if kind:
            problems.append(
                f"{env.path.name}: parameter {pname!r} looks like {kind}: secrets come from "
                f'environment variables; list it under "sensitive" as {sensitive_env_var(pname)}'
            )
    if env.require_tls:
        for pname, value in sorted(env.parameters.items()):
            why = jdbc_tls_problem(value)
            if why:
                problems.append(
                    f"{env.path.name}: [requires TLS] parameter {pname!r} connects to "
                    f"PostgreSQL without TLS ({why})"
                )
    for pname, var in env.sensitive.items():
        if var != sensitive_env_var(pname):
            problems.append(
                f"{env.path.name}: sensitive parameter {pname!r} maps to {var!r}: use "
                f"{sensitive_env_var(pname)!r} (the naming rule deploy.py expects)"
            )
    return problems


def validate_all(
    flows_dir: Path | str = FLOWS_DIR,
    parameters_dir: Path | str = PARAMETERS_DIR,
    environment: str | None = None,
) -> list[str]:
    """Every problem of every flow and environment file; empty when all is well.

    ``environment`` limits the environment files to ``<parameters_dir>/<environment>.json``
    (``lakehouse flows validate --env prod``); by default all are checked.
    """
    problems: list[str] = []
    flow_paths = sorted(Path(flows_dir).glob("*.json"))
    if not flow_paths:
        problems.append(f"{flows_dir}: no flow definitions (*.json) found")
    try:
        environments = load_environments(parameters_dir)
    except FlowValidationError as exc:
        return [*problems, *exc.problems]
    if environment is not None:
        known = ", ".join(e.path.stem for e in environments)
        environments = [e for e in environments if e.path.stem == environment]
        if not environments:
            return [f"{parameters_dir}: no environment {environment!r} (known: {known})"]
    if not environments:
        problems.append(f"{parameters_dir}: no environment parameter files (*.json) found")
    for env in environments:
        problems.extend(validate_environment(env))
    for path in flow_paths:
        try:
            flow = json.loads(path.read_text())
        except ValueError as exc:
            problems.append(f"{path.name}: not valid JSON ({exc})")
            continue
        problems.extend(validate_flow(flow, name=path.name, environments=environments))
    return problems


def check_flow(
    flow: Mapping[str, Any],
    *,
    name: str,
    environments: Iterable[EnvironmentParameters] = (),
) -> None:
    """Like :func:`validate_flow`, but raise :class:`FlowValidationError` on problems."""
    problems = validate_flow(flow, name=name, environments=environments)
    if problems:
        raise FlowValidationError(problems)
