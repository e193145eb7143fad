"""What every sub-command shares: the common options, settings, pre-flight checks, progress.

Options shared by commands are defined once here (:data:`COMMON_OPTIONS`), each with its
environment variable beside it, and reach every sub-command through :func:`add_command`.
They also work before the sub-command (``lakehouse --json tables``): both parsers declare
them with ``default=SUPPRESS`` so neither overwrites the other, and :func:`option` falls back
to the environment, then the default.

Commands return a typed result (a dataclass with a ``text()`` method); only
:mod:`lakehouse.cli.main` prints it, as text or as JSON, so tests and the demo compose
commands without parsing their output.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lakehouse.errors import (
    LakeNotWritableError,
    LakeRootIsFileError,
    S3AccessDeniedError,
    S3BucketMissingError,
    S3UnreachableError,
    UsageError,
    storage_context,
)
from lakehouse.settings import Settings, get_settings, normalize_lake_root


@dataclass(frozen=True, slots=True)
class CommonOption:
    """One shared option: its flags, environment variable and help."""

    dest: str
    flags: tuple[str, ...]
    env: str
    help: str
    is_flag: bool = True


COMMON_OPTIONS = (
    CommonOption(
        "lake_root",
        ("--lake-root",),
        "LAKEHOUSE_LAKE_ROOT",
        "lake root: a path, file:// or s3a:// URI (default ./lake)",
        is_flag=False,
    ),
    CommonOption("json", ("--json",), "LAKEHOUSE_JSON", "print the result as JSON"),
    CommonOption("quiet", ("-q", "--quiet"), "LAKEHOUSE_QUIET", "no progress on stderr"),
    CommonOption("verbose", ("-v", "--verbose"), "LAKEHOUSE_VERBOSE", "show Spark's log lines too"),
    CommonOption("debug", ("--debug",), "LAKEHOUSE_DEBUG", "show stack traces of expected errors"),
)
_BY_DEST = {o.dest: o for o in COMMON_OPTIONS}
_TRUE = {"1", "true", "yes", "on"}


def add_common_options(
    parser: argparse.ArgumentParser, options: tuple[CommonOption, ...] = COMMON_OPTIONS
) -> None:
    """Declare the shared options on ``parser`` (absent from the namespace unless given)."""
    group = parser.add_argument_group("common options")
    for opt in options:
        kwargs: dict[str, Any] = {
            "dest": opt.dest,
            "default": argparse.SUPPRESS,
            "help": f"{opt.help} [env {opt.env}]",
        }
        if opt.is_flag:
            kwargs["action"] = "store_true"
        group.add_argument(*opt.flags, **kwargs)


def add_command(
    sub: argparse._SubParsersAction, name: str, **kwargs: Any
) -> argparse.ArgumentParser:
    """A sub-command parser with the shared options: the way new commands plug in."""
    kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
    parser = sub.add_parser(name, conflict_handler="resolve", **kwargs)
    add_common_options(parser)
    return parser


def add_lake_root(parser: argparse.ArgumentParser) -> None:
    """Only the shared ``--lake-root`` (for parsers made without :func:`add_command`; the
    other shared options then work before the command name: ``lakehouse --json CMD``)."""
    add_common_options(parser, (_BY_DEST["lake_root"],))


def adopt_option(parser: argparse.ArgumentParser, flag: str) -> None:
    """Make an option a job module declared itself (e.g. its own ``--lake-root``) behave like
    the shared one: optional, absent unless given, so the environment can supply it."""
    for action in parser._actions:
        if flag in action.option_strings:
            action.required = False
            action.default = argparse.SUPPRESS


def option(args: argparse.Namespace, dest: str) -> Any:
    """A shared option's value: the flag, else its environment variable, else off/None."""
    if dest in vars(args):
        return getattr(args, dest)
    opt = _BY_DEST[dest]
    raw = os.environ.get(opt.env)
    if not opt.is_flag:
        return raw or None
    return (raw or "").strip().lower() in _TRUE


def package_version() -> str:
    """The installed distribution's version (``lakehouse --version``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("customs-lakehouse")
    except PackageNotFoundError:
        return "unknown"


def at_least(value: int, minimum: int, flag: str) -> int:
    """Check a count argument before any engine starts; a ``UsageError`` names the flag."""
    if value < minimum:
        raise UsageError(option=flag, problem=f"is {value}", fix=f"give {minimum} or more")
    return value


def settings_from(args: argparse.Namespace) -> Settings:
    """Process settings with command-line overrides applied."""
    settings = get_settings()
    if getattr(args, "lake_root", None):
        settings = dataclasses.replace(settings, lake_root=normalize_lake_root(args.lake_root))
    return settings


def error_context(settings: Settings) -> dict[str, str]:
    """What a translated error message may name: the lake root, endpoint and bucket."""
    return storage_context(settings.lake_root, settings.s3.endpoint)


# -- pre-flight checks: cheap, before any engine starts ----------------------------------------


def preflight(settings: Settings, *, write: bool) -> None:
    """Fail fast, with the fix named, on a lake Spark would fail on only after ~20 s."""
    if settings.is_s3:
        check_bucket(settings)
    else:
        check_local_lake(settings, write=write)


def check_local_lake(settings: Settings, *, write: bool) -> None:
    """The lake root must be a directory (or creatable as one) and, to write, writable."""
    from lakehouse.storage import local_path

    root = Path(local_path(settings.lake_root))
    existing = root
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise LakeRootIsFileError(path=str(root))
    if write and not _writable(existing):
        raise LakeNotWritableError(path=str(root))


def _writable(folder: Path) -> bool:
    """True when a file can be created in ``folder`` (``os.access`` says yes to root even on
    a read-only mount, so try it)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    probe = folder / f".lakehouse-write-probe-{os.getpid()}"
    try:
        probe.touch()
    except OSError:
        return False
    probe.unlink(missing_ok=True)
    return True


def check_bucket(settings: Settings, timeout: float = 3.0) -> None:
    """HEAD the lake's bucket with a short timeout and no retries; map the answer to an error."""
    import boto3
    import botocore.exceptions as bx
    from botocore.config import Config

    context = error_context(settings)
    s3 = settings.s3
    client = boto3.client(
        "s3",
        endpoint_url=s3.endpoint,
        region_name=s3.region,
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
        config=Config(
            s3={"addressing_style": "path" if s3.path_style else "auto"},
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )
    try:
        client.head_bucket(Bucket=context["bucket"])
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError) as exc:
        raise S3UnreachableError(endpoint=context["endpoint"], detail=type(exc).__name__) from exc
    except bx.ClientError as exc:
        status = str(exc.response.get("Error", {}).get("Code", ""))
        if status in ("404", "NoSuchBucket"):
            raise S3BucketMissingError(
                bucket=context["bucket"], endpoint=context["endpoint"]
            ) from exc
        raise S3AccessDeniedError(
            bucket=context["bucket"], endpoint=context["endpoint"], detail=f"HTTP {status}"
        ) from exc
    except bx.NoCredentialsError as exc:
        raise S3AccessDeniedError(
            bucket=context["bucket"], endpoint=context["endpoint"], detail="no credentials"
        ) from exc


# -- progress on stderr -------------------------------------------------------------------------


_COUNT = re.compile(r"\b(\d[\d,]*)/(\d[\d,]*)\b")


class Reporter:
    """Progress for people on stderr; silent with ``--quiet``, so stdout stays for results.

    ``say`` prints one line with the elapsed time. ``counting`` shows a bar with counts and
    an ETA when stderr is a terminal, and a line every tenth of the way otherwise (logs and
    pipes get no control characters).
    """

    def __init__(self, prefix: str, *, quiet: bool = False) -> None:
        self.prefix = prefix
        self.quiet = quiet
        self.started = time.monotonic()
        self._first_seen: dict[int, tuple[float, int]] = {}

    def say(self, message: str) -> None:
        """One progress line; a ``done/total`` count in it gets an ETA from the pace so far."""
        if self.quiet:
            return
        now = time.monotonic()
        found = _COUNT.search(message)
        if found and "ETA" not in message:  # a counter's line brings its own
            done, total = (int(g.replace(",", "")) for g in found.groups())
            first = self._first_seen.setdefault(total, (now, done))
            if done > first[1] and total > done:
                eta = (now - first[0]) * (total - done) / (done - first[1])
                message = f"{message}, ETA {eta:,.0f}s"
        print(f"[{self.prefix} {now - self.started:6.1f}s] {message}", file=sys.stderr, flush=True)

    @contextmanager
    def counting(self, what: str, total: int) -> Iterator[Counter]:
        """A counter of ``total`` steps of ``what``; call it with the number done so far."""
        if self.quiet or total <= 0:
            yield _NoCounter()
        elif sys.stderr.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            columns = (
                TextColumn(f"[{self.prefix}] {what}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
            )
            with Progress(*columns, transient=True) as bar:
                task = bar.add_task(what, total=total)
                yield lambda done: bar.update(task, completed=done)
        else:
            yield _TenthCounter(self, what, total)


class Counter(Protocol):
    """Told how many steps are done so far."""

    def __call__(self, done: int) -> None: ...


class _NoCounter:
    def __call__(self, done: int) -> None:
        """Quiet: nothing to show."""


class _TenthCounter:
    """A line at every tenth of the work, with counts and an ETA from the pace so far."""

    def __init__(self, reporter: Reporter, what: str, total: int) -> None:
        self.reporter, self.what, self.total = reporter, what, total
        self.started = time.monotonic()
        self.next_tenth = 1

    def __call__(self, done: int) -> None:
        while self.next_tenth <= 10 and done * 10 >= self.next_tenth * self.total:
            elapsed = time.monotonic() - self.started
            eta = elapsed * (self.total - done) / done if done else 0.0
            self.reporter.say(
                f"{self.what}: {done:,}/{self.total:,} ({self.next_tenth * 10}%), ETA {eta:,.0f}s"
            )
            self.next_tenth += 1


def reporter(args: argparse.Namespace, prefix: str) -> Reporter:
    """The progress reporter for a command, honouring ``--quiet``."""
    return Reporter(prefix, quiet=bool(option(args, "quiet")))


def progress(prefix: str):
    """A progress printer kept for callers that want a plain ``say(str)``."""
    return Reporter(prefix).say
