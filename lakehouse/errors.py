"""The lakehouse's named errors: one registry, so callers catch what they can act on.

Every error an operator can meet on purpose is a class here with a stable ``code`` and a
message ``template`` that names the problem *and the fix*; the CLI turns any of them into one
line on stderr and exit code 2 (``--debug`` adds the stack trace). Errors raised by the
libraries underneath (Py4J carrying a Java stack trace, boto3, the OS) are mapped onto these
classes by :func:`translate`, so a wrong S3 secret reads "S3 refused the credentials ..."
instead of 600 lines of Java.

Existing callers may still pass a finished message (``SettingsError("... set X")``); new code
passes the template's parameters (``LakeRootIsFileError(path=...)``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import ClassVar

ERRORS: dict[str, type[LakehouseError]] = {}


class LakehouseError(Exception):
    """Base class of every error this project raises on purpose."""

    code: ClassVar[str] = "LAKEHOUSE"
    template: ClassVar[str] = "{detail}"

    def __init__(self, message: str | None = None, /, **params: object) -> None:
        self.params = params
        super().__init__(message if message is not None else self.template.format(**params))

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            # Errors defined elsewhere (nifi_flows.deploy.DeployError) get a code from the name.
            cls.code = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).upper()
        if cls.code in ERRORS and ERRORS[cls.code] is not cls:
            raise TypeError(f"error code {cls.code} is used by {ERRORS[cls.code].__name__}")
        ERRORS[cls.code] = cls


ERRORS[LakehouseError.code] = LakehouseError


class SettingsError(LakehouseError, ValueError):
    """A setting is missing or invalid; the message names the environment variable to fix."""

    code = "SETTINGS"


class UsageError(LakehouseError, ValueError):
    """A command-line value is invalid; found before any engine starts."""

    code = "USAGE"
    template = "{option} {problem}: {fix}"


class SetupError(LakehouseError, RuntimeError):
    """A required local install (jars, servers) is missing; the message names the command to run."""

    code = "SETUP"


class IngestError(LakehouseError, RuntimeError):
    """Bronze ingestion could not complete a batch (storage or commit failure, not bad input)."""

    code = "INGEST"


class ExportError(LakehouseError, RuntimeError):
    """The CMS score export could not be produced or delivered."""

    code = "EXPORT"


class StorageError(LakehouseError, OSError):
    """The lake's storage refused an operation for a reason the operator must fix."""

    code = "STORAGE"
    template = "storage refused {target}: {detail}: {fix}"


class LakeRootIsFileError(StorageError):
    """The lake root, or a folder above it, is a regular file."""

    code = "LAKE_ROOT_IS_FILE"
    template = (
        "lake root {path} is (or lies under) a file, not a directory: point --lake-root "
        "(LAKEHOUSE_LAKE_ROOT) at a directory"
    )


class LakeNotWritableError(StorageError):
    """The local lake (or the folder it would be created in) is not writable."""

    code = "LAKE_NOT_WRITABLE"
    template = (
        "lake root {path} is not writable by this user: fix its permissions or choose another "
        "--lake-root (LAKEHOUSE_LAKE_ROOT)"
    )


class S3UnreachableError(StorageError):
    """Nothing answers at the S3 endpoint (DNS, refused connection, timeout)."""

    code = "S3_UNREACHABLE"
    template = (
        "S3 endpoint {endpoint} is unreachable ({detail}): check LAKEHOUSE_S3_ENDPOINT and "
        "that the store is running"
    )


class S3AccessDeniedError(StorageError):
    """The S3 store rejected the credentials or the request's signature."""

    code = "S3_ACCESS_DENIED"
    template = (
        "S3 refused access to bucket {bucket} at {endpoint} ({detail}): check "
        "LAKEHOUSE_S3_ACCESS_KEY and LAKEHOUSE_S3_SECRET_KEY"
    )


class S3BucketMissingError(StorageError):
    """The bucket of an ``s3a://`` lake root does not exist (S3A never creates buckets)."""

    code = "S3_BUCKET_MISSING"
    template = (
        "bucket {bucket} does not exist at {endpoint}: create it, or fix the bucket in "
        "--lake-root (LAKEHOUSE_LAKE_ROOT)"
    )


class TableNotFoundError(LakehouseError, LookupError):
    """A known table has not been written yet (or the lake root is wrong)."""

    code = "TABLE_NOT_FOUND"
    template = (
        "table {table} does not exist at {uri}: run `lakehouse ingest` first, or check "
        "--lake-root (LAKEHOUSE_LAKE_ROOT)"
    )


class UnknownTableError(LakehouseError, LookupError):
    """A table name that is neither in the registry nor found in the lake."""

    code = "UNKNOWN_TABLE"
    template = "unknown table {table!r}: use zone.name, one of: {known} (see `lakehouse tables`)"


class QueryError(LakehouseError, ValueError):
    """A ``--where`` predicate or column list the SQL engine rejected."""

    code = "QUERY"
    template = "{what} {text!r} is not valid on {table}: {detail}"


class LakeNotFoundError(LakehouseError, FileNotFoundError):
    """The lake root holds no lake (no tables): the message names the path and the init command."""

    code = "LAKE_NOT_FOUND"


# -- translating third-party exceptions ---------------------------------------------------------

Factory = Callable[[Mapping[str, str], str], LakehouseError]

# Ordered: the first pattern found in an exception's text (its message, Java stack trace
# included, and its causes') decides. Names come from the JVM (Hadoop S3A, AWS SDK v2, java.io,
# java.nio), botocore and the OS, never from this project's data.
_RULES: list[tuple[re.Pattern[str], Factory]] = [
    (
        re.compile(r"NoSuchBucket|Bucket does not exist|bucket .* does not exist", re.I),
        lambda c, d: S3BucketMissingError(
            bucket=c.get("bucket", "?"), endpoint=c.get("endpoint", "?")
        ),
    ),
    (
        re.compile(
            r"AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|Status Code: 403|Forbidden|"
            r"Permission denied|Read-only file system",
            re.I,
        ),
        lambda c, d: _denied(c, d),
    ),
    (
        re.compile(
            r"UnknownHostException|ConnectException|Connection refused|"
            r"ConnectTimeoutException|SocketTimeoutException|Unable to execute HTTP request|"
            r"EndpointConnectionError|Could not connect to the endpoint",
            re.I,
        ),
        lambda c, d: S3UnreachableError(endpoint=c.get("endpoint", "?"), detail=d),
    ),
    (
        re.compile(r"ParentNotDirectoryException|FileAlreadyExistsException|Not a directory"),
        lambda c, d: LakeRootIsFileError(path=c.get("lake_root", "?")),
    ),
]

_DETAIL = re.compile(
    r"(UnknownHostException|ConnectException|Connection refused|SocketTimeoutException|"
    r"ConnectTimeoutException|AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|"
    r"EndpointConnectionError|Status Code: 403|Forbidden)",
    re.I,
)


def _denied(context: Mapping[str, str], detail: str) -> LakehouseError:
    """S3A reports a 403 as ``java.nio.file.AccessDeniedException``, like a local chmod: the
    lake's kind (a bucket in the context or not) tells the two apart."""
    if "bucket" in context:
        return S3AccessDeniedError(
            bucket=context["bucket"], endpoint=context.get("endpoint", "?"), detail=detail
        )
    return LakeNotWritableError(path=context.get("lake_root", "?"))


def exception_text(exc: BaseException) -> str:
    """The text of an exception and all its causes (Py4J errors carry the Java trace)."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def storage_context(lake_root: str, endpoint: str | None) -> dict[str, str]:
    """What a translated message may name: the lake root, the S3 endpoint and the bucket."""
    context = {"lake_root": lake_root, "endpoint": endpoint or "AWS S3"}
    if lake_root.startswith(("s3a://", "s3://")):
        context["bucket"] = lake_root.split("://", 1)[1].split("/", 1)[0]
    return context


def translate(exc: BaseException, context: Mapping[str, str]) -> LakehouseError | None:
    """The named error for a known library failure, or None when it is not one we know.

    ``context`` names what the command was working on (``lake_root``, ``endpoint``,
    ``bucket``) so the message can point at the setting to fix. Unknown failures are left
    alone: they are defects to report, and their stack trace is what a developer needs.
    """
    if isinstance(exc, LakehouseError):
        return exc
    text = exception_text(exc)
    for pattern, factory in _RULES:
        if pattern.search(text):
            found = _DETAIL.search(text)
            return factory(context, found.group(1) if found else type(exc).__name__)
    return None
