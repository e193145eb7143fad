"""Run NiFi 2 flow definitions with NiFi Stateless, from the install made by scripts/nifi_setup.sh.

Why Stateless: a flow-definition JSON (the "Download flow definition" export of NiFi 2) runs
here as a one-shot JVM, with no NiFi server, UI or repositories. Tests and batch jobs use it to
prove that the very same JSON a NiFi 2 instance would import moves real files correctly.

Why our own launcher: the Stateless assembly and ``nifi-stateless-bootstrap`` are not on the
Maven Central mirror this project can reach, so ``scripts/nifi_setup.sh`` builds the NARs and a
small main class (``org.customs.lakehouse.nifi.StatelessRunner``) from published NiFi 2.3.0
jars. The launcher reads the same ``stateless.properties`` / flow properties files as NiFi's
``bin/nifi-stateless.sh`` and, unlike it, exits non-zero when the trigger fails.

Layout of an install (``<cache>/stateless``)::

    lib/          launcher + API/logging jars (the class path; visible to every extension)
    nar/          nifi-stateless-nar, nifi-jetty-nar   -> nifi.stateless.nar.directory
    extensions/   processor NARs and their parents     -> nifi.stateless.extensions.directory
    manifest.json versions, stamp, java_home (written by the setup script)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import signal
import subprocess
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_CACHE_DIR",
    "NiFiStatelessError",
    "StatelessFlowError",
    "StatelessInstall",
    "StatelessNotInstalledError",
    "StatelessRunError",
    "StatelessRunResult",
    "StatelessTimeoutError",
    "ensure_stateless",
    "flow_bundles",
    "prune_bundles",
    "run_flow",
]

DEFAULT_CACHE_DIR = Path(
    os.environ.get("NIFI_STATELESS_CACHE") or Path.home() / ".cache" / "customs-lakehouse" / "nifi"
)
"""Where scripts/nifi_setup.sh installs by default (same env override as the script)."""

MAIN_CLASS = "org.customs.lakehouse.nifi.StatelessRunner"
SETUP_HINT = "run scripts/nifi_setup.sh"

# NiFi 2 processors that use the AWS SDK v2 compute CRC checksums that S3-compatible test
# servers (S3Proxy) reject; "when_required" restores the pre-2.30 SDK behaviour.
AWS_CHECKSUM_OPTS = (
    "-Daws.requestChecksumCalculation=when_required",
    "-Daws.responseChecksumValidation=when_required",
)

_RESULT_PREFIX = "STATELESS_RESULT "
_LOG_TAIL_LINES = 60


class NiFiStatelessError(RuntimeError):
    """Base class for everything this module raises about NiFi Stateless."""


class StatelessNotInstalledError(NiFiStatelessError):
    """The cache has no complete Stateless install; the message names the fix."""


class StatelessFlowError(NiFiStatelessError, ValueError):
    """The flow or its parameters cannot run on this install (checked before starting a JVM)."""


class StatelessRunError(NiFiStatelessError):
    """The Stateless JVM ran but the flow did not succeed.

    ``status`` is the launcher's word for it: ``invalid`` (a component failed validation,
    e.g. a missing directory), ``failed`` (the trigger failed or reached a failure port and
    was rolled back, so no source file was consumed), ``config_error`` or ``error``.
    """

    def __init__(
        self, message: str, *, exit_code: int | None, status: str, log_tail: str, log_path: Path
    ) -> None:
        super().__init__(f"{message}\n--- last lines of {log_path} ---\n{log_tail}")
        self.exit_code = exit_code
        self.status = status
        self.log_tail = log_tail
        self.log_path = log_path


class StatelessTimeoutError(StatelessRunError):
    """The JVM did not finish within ``timeout_s`` and was killed."""


@dataclass(frozen=True, slots=True)
class StatelessInstall:
    """A verified install: paths the JVM needs plus the versions it was built from."""

    root: Path
    java_home: Path
    nifi_version: str
    stamp: str
    lib_dir: Path
    nar_dir: Path
    extensions_dir: Path
    bundles: frozenset[tuple[str, str, str]] = field(default_factory=frozenset)
    """``(group, artifact, version)`` of every NAR in ``nar/`` and ``extensions/``."""

    @property
    def java(self) -> Path:
        return self.java_home / "bin" / "java"

    @property
    def classpath(self) -> str:
        return f"{self.lib_dir}/*"

    @property
    def work_root(self) -> Path:
        """NAR working directory shared by all runs of this install.

        Unpacking ~90 MB of NARs costs ~25 s; reusing the unpacked copy brings a run down to a
        few seconds. It is keyed on the install stamp because Stateless never re-unpacks an
        extension NAR it has unpacked before, so a rebuilt install must not see old copies.
        """
        return self.root.parent / f"work-{self.stamp}"


@dataclass(frozen=True, slots=True)
class StatelessRunResult:
    """Outcome of one successful trigger (failures raise :class:`StatelessRunError`)."""

    exit_code: int
    status: str
    init_ms: int
    trigger_ms: int
    outputs: dict[str, int]
    """FlowFiles that reached each output port (failure ports included, normally 0)."""
    duration_s: float
    """Wall time of the whole JVM run, start-up and shutdown included."""
    log_path: Path
    log_tail: str


def ensure_stateless(cache_dir: Path | str | None = None) -> StatelessInstall:
    """Check that ``<cache_dir>/stateless`` is a complete install and describe it.

    Raises :class:`StatelessNotInstalledError` naming ``scripts/nifi_setup.sh`` when it is
    not, so callers (and skipped tests) say how to fix it rather than failing in the JVM.
    """
    cache = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    root = cache / "stateless"
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise StatelessNotInstalledError(
            f"no NiFi Stateless install at {root} (missing manifest.json); {SETUP_HINT}"
            + ("" if cache_dir is None else f" {cache}")
        )
    try:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    except ValueError as exc:
        raise StatelessNotInstalledError(
            f"unreadable {manifest_path}: {exc}; {SETUP_HINT}"
        ) from exc

    missing = [
        str(root / sub / name)
        for sub in ("lib", "nar", "extensions")
        for name in manifest.get(sub, [])
        if not (root / sub / name).is_file()
    ]
    if not manifest.get("nar") or not manifest.get("lib"):
        missing.append(f"{manifest_path} lists no lib/ or nar/ files")
    java_home = Path(os.environ.get("NIFI_JAVA_HOME") or manifest.get("java_home", ""))
    if not (java_home / "bin" / "java").is_file():
        missing.append(f"{java_home}/bin/java (a JDK >= 21; set NIFI_JAVA_HOME)")
    if missing:
        raise StatelessNotInstalledError(
            "incomplete NiFi Stateless install: missing " + ", ".join(missing) + f"; {SETUP_HINT}"
        )

    bundles = frozenset(
        _nar_coordinate(root / sub / name)
        for sub in ("nar", "extensions")
        for name in manifest.get(sub, [])
    )
    return StatelessInstall(
        root=root,
        java_home=java_home,
        nifi_version=str(manifest.get("nifi_version", "")),
        stamp=str(manifest.get("stamp", "unknown")),
        lib_dir=root / "lib",
        nar_dir=root / "nar",
        extensions_dir=root / "extensions",
        bundles=bundles,
    )


def flow_bundles(flow: Mapping[str, Any]) -> set[tuple[str, str, str]]:
    """Every ``(group, artifact, version)`` a flow definition's components ask for."""
    found: set[tuple[str, str, str]] = set()

    def walk(group: Mapping[str, Any]) -> None:
        for key in ("processors", "controllerServices"):
            for component in group.get(key, []) or []:
                b = component.get("bundle") or {}
                found.add((b.get("group", ""), b.get("artifact", ""), b.get("version", "")))
        for child in group.get("processGroups", []) or []:
            walk(child)

    walk(flow.get("flowContents", {}))
    return found


def prune_bundles(flow: Mapping[str, Any], artifacts: Sequence[str]) -> dict[str, Any]:
    """A copy of the flow without the components of the given NAR artifacts.

    Why: a flow can carry a production-only branch (e.g. the ``PutS3Object`` landing sink of
    ``nifi-aws-nar``) whose NAR a Stateless install lacks; Stateless refuses a flow with any
    missing bundle. Pruning removes those processors and controller services, every
    connection touching them, and the ``RouteOnAttribute`` routes (dynamic properties) whose
    relationship fed only removed components, so the rest of the very same JSON runs. Parameters
    no longer referenced are dropped from the context too.
    """
    out: dict[str, Any] = json.loads(json.dumps(flow))
    drop = set(artifacts)

    def walk(group: dict[str, Any]) -> None:
        gone = {
            c["identifier"]
            for key in ("processors", "controllerServices")
            for c in group.get(key, []) or []
            if (c.get("bundle") or {}).get("artifact") in drop
        }
        group["processors"] = [
            p for p in group.get("processors", []) if p["identifier"] not in gone
        ]
        group["controllerServices"] = [
            s for s in group.get("controllerServices", []) if s["identifier"] not in gone
        ]
        kept: list[dict[str, Any]] = []
        removed: list[dict[str, Any]] = []
        for conn in group.get("connections", []) or []:
            ends = {conn["source"]["id"], conn["destination"]["id"]}
            (removed if ends & gone else kept).append(conn)
        group["connections"] = kept
        for conn in removed:
            src = next(
                (p for p in group["processors"] if p["identifier"] == conn["source"]["id"]), None
            )
            if src is None or not src["type"].endswith(".RouteOnAttribute"):
                continue
            for rel in conn["selectedRelationships"]:
                still_used = any(
                    c["source"]["id"] == src["identifier"] and rel in c["selectedRelationships"]
                    for c in kept
                )
                if not still_used:
                    src["properties"].pop(rel, None)
        for child in group.get("processGroups", []) or []:
            walk(child)

    walk(out["flowContents"])
    text = json.dumps(out["flowContents"])
    used = set(re.findall(r"#\{([^}]+)\}", text))
    for context in (out.get("parameterContexts") or {}).values():
        context["parameters"] = [p for p in context.get("parameters", []) if p["name"] in used]
    return out


def run_flow(
    flow_path: Path | str,
    parameters: Mapping[str, str],
    *,
    install: StatelessInstall,
    work_dir: Path | str,
    timeout_s: float = 300.0,
    failure_ports: Sequence[str] = ("failure",),
    heap: str = "1g",
    extra_jvm_args: Sequence[str] = (),
    state_file: Path | str | None = None,
) -> StatelessRunResult:
    """Trigger the flow once with NiFi Stateless and return when it has committed.

    ``parameters`` are values for the flow's own parameter context (the one named by
    ``flowContents.parameterContextName``); unknown names are rejected up front because
    NiFi would silently ignore them and run with the exported defaults. The engine and flow
    properties files and the JVM log are written to ``work_dir`` (kept for post-mortems).
    Parameters, sensitive ones included, reach the JVM only through the flow properties file
    (mode 0600), never its command line, where any local user could read them.

    ``state_file`` keeps component state (QueryDatabaseTable's maximum values, ListFile's
    timestamps) between runs: Stateless holds state only in memory, so without it an
    incremental source starts from scratch each run. The launcher loads it before the trigger
    and rewrites it only after a successful trigger, so a failed run never advances it.

    Runs of one install are serialized with a file lock: they share the unpacked-NAR working
    directory, and NAR unpacking is only guarded inside one JVM.
    """
    flow_file = Path(flow_path).resolve()
    flow = json.loads(flow_file.read_text())
    context = _check_flow(flow, flow_file, parameters, install)

    work = Path(work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    engine_props = work / "stateless.properties"
    flow_props = work / "flow.properties"
    log_path = work / "stateless.log"
    install.work_root.mkdir(parents=True, exist_ok=True)

    _write_properties(
        engine_props,
        {
            "nifi.stateless.nar.directory": str(install.nar_dir),
            "nifi.stateless.working.directory": str(install.work_root),
            "nifi.stateless.extensions.directory": str(install.extensions_dir),
            # Only encrypts sensitive values inside this JVM; nothing is persisted. Fresh per
            # run so no key lives in git.
            "nifi.stateless.sensitive.props.key": secrets.token_urlsafe(24),
            # Deliberately no nifi.stateless.extension.client.* lines: offline, a missing NAR
            # must fail at once instead of waiting for a download that cannot happen.
        },
    )
    flow_entries: dict[str, str] = {"nifi.stateless.flow.snapshot.file": str(flow_file)}
    if failure_ports:
        flow_entries["nifi.stateless.failure.port.names"] = ",".join(failure_ports)
    if context is not None:
        flow_entries["nifi.stateless.parameters.lakehouse"] = context
        for name, value in parameters.items():
            flow_entries[f"nifi.stateless.parameters.lakehouse.{name}"] = value
    _write_properties(flow_props, flow_entries)

    cmd = [
        str(install.java),
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-Djava.awt.headless=true",
        *AWS_CHECKSUM_OPTS,
        *extra_jvm_args,
        "-cp",
        install.classpath,
        MAIN_CLASS,
        str(engine_props),
        str(flow_props),
    ]
    if state_file is not None:
        cmd.append(str(Path(state_file).resolve()))
    env = {**os.environ, "JAVA_HOME": str(install.java_home)}
    env.pop("JAVA_TOOL_OPTIONS", None)  # its banner on stderr would pollute the log tail

    start = time.monotonic()
    with _install_lock(install), log_path.open("wb") as log:
        log.write(("$ " + " ".join(cmd) + "\n").encode())
        log.flush()
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, cwd=work, env=env, start_new_session=True
        )
        try:
            exit_code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            tail = _tail(log_path)
            raise StatelessTimeoutError(
                f"NiFi Stateless run of {flow_file.name} exceeded {timeout_s:.0f} s and was killed",
                exit_code=None,
                status="timeout",
                log_tail=tail,
                log_path=log_path,
            ) from None
    duration = time.monotonic() - start

    tail = _tail(log_path)
    summary = _parse_summary(log_path)
    status = str(summary.get("status", "unknown"))
    if exit_code != 0 or status != "success":
        error = summary.get("error") or "no STATELESS_RESULT line (JVM crashed?)"
        raise StatelessRunError(
            f"NiFi Stateless run of {flow_file.name} ended with exit code {exit_code}, "
            f"status {status}: {error}",
            exit_code=exit_code,
            status=status,
            log_tail=tail,
            log_path=log_path,
        )
    return StatelessRunResult(
        exit_code=exit_code,
        status=status,
        init_ms=int(summary.get("init_ms", 0)),
        trigger_ms=int(summary.get("trigger_ms", 0)),
        outputs={str(k): int(v) for k, v in (summary.get("outputs") or {}).items()},
        duration_s=duration,
        log_path=log_path,
        log_tail=tail,
    )


def _check_flow(
    flow: Mapping[str, Any],
    flow_file: Path,
    parameters: Mapping[str, str],
    install: StatelessInstall,
) -> str | None:
    """Fail fast, before a 5-30 s JVM start, on what Stateless would reject or ignore."""
    if "flowContents" not in flow:
        raise StatelessFlowError(f"{flow_file} is not a NiFi flow definition (no flowContents)")
    missing = sorted(flow_bundles(flow) - install.bundles)
    if missing:
        have = ", ".join(":".join(b) for b in sorted(install.bundles))
        raise StatelessFlowError(
            f"{flow_file.name} needs NARs this install lacks: "
            + ", ".join(":".join(b) for b in missing)
            + f". Stateless needs the exact bundle version; installed: {have}"
        )
    context = flow["flowContents"].get("parameterContextName")
    if context is None:
        if parameters:
            raise StatelessFlowError(f"{flow_file.name} has no parameter context; got parameters")
        return None
    declared = {
        p["name"]
        for p in (flow.get("parameterContexts", {}).get(context, {}).get("parameters") or [])
    }
    unknown = sorted(set(parameters) - declared)
    if unknown:
        raise StatelessFlowError(
            f"unknown parameters for context {context!r} of {flow_file.name}: {unknown}; "
            f"declared: {sorted(declared)}"
        )
    return str(context)


def _nar_coordinate(nar: Path) -> tuple[str, str, str]:
    with zipfile.ZipFile(nar) as zf:
        text = zf.read("META-INF/MANIFEST.MF").decode("utf-8", "replace")
    attrs = dict(
        line.split(": ", 1) for line in text.replace("\r\n ", "").splitlines() if ": " in line
    )
    return attrs.get("Nar-Group", ""), attrs.get("Nar-Id", ""), attrs.get("Nar-Version", "")


def _escape_properties(text: str, *, key: bool) -> str:
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif (key and ch in "=:#! ") or (ch == " " and i == 0):
            out.append("\\" + ch)
        elif ord(ch) > 0x7E:
            # java.util.Properties reads ISO-8859-1: escape as UTF-16 code units.
            units = ch.encode("utf-16-be")
            out.extend(f"\\u{units[j]:02x}{units[j + 1]:02x}" for j in range(0, len(units), 2))
        else:
            out.append(ch)
    return "".join(out)


def _write_properties(path: Path, entries: Mapping[str, str]) -> None:
    """Write a Java properties file readable by its owner only.

    Why 0600: the flow file carries the sensitive parameter values (passwords), which is how
    they reach the JVM without appearing on its command line (docs/security.md).
    """
    lines = [
        f"{_escape_properties(k, key=True)}={_escape_properties(v, key=False)}"
        for k, v in entries.items()
    ]
    text = "# written by nifi_flows/stateless.py\n" + "\n".join(lines) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older file of the same name may have wider permissions
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text)


@contextlib.contextmanager
def _install_lock(install: StatelessInstall) -> Iterator[None]:
    lock_path = install.work_root.with_suffix(".lock")
    with lock_path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


_SUMMARY_RE = re.compile(r"^" + re.escape(_RESULT_PREFIX) + r"(\{.*\})\s*$", re.M)


def _parse_summary(path: Path) -> dict[str, Any]:
    matches = _SUMMARY_RE.findall(path.read_text(encoding="utf-8", errors="replace"))
    if not matches:
        return {}
    try:
        parsed: dict[str, Any] = json.loads(matches[-1])
    except ValueError:
        return {}
    return parsed
