"""The error registry and the translator of library failures (no JVM: exceptions built here)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakehouse.errors import (
    ERRORS,
    LakehouseError,
    LakeNotWritableError,
    LakeRootIsFileError,
    S3AccessDeniedError,
    S3BucketMissingError,
    S3UnreachableError,
    SettingsError,
    storage_context,
    translate,
)

pytestmark = pytest.mark.unit

S3 = storage_context("s3a://lake/prod", "http://127.0.0.1:9")
LOCAL = storage_context("file:///srv/lake", None)

# Abridged first lines of the Java traces seen for each case (Py4J puts them in the message).
JAVA = {
    "unknown host": (
        "An error occurred while calling o42.load.\n"
        ": java.net.UnknownHostException: nowhere.invalid\n\tat java.base/java.net.Inet6Address"
    ),
    "refused": (
        ": org.apache.hadoop.fs.s3a.AWSClientIOException: getFileStatus on s3a://lake/x: "
        "software.amazon.awssdk.core.exception.SdkClientException: Unable to execute HTTP "
        "request: Connect to 127.0.0.1:9 failed: Connection refused"
    ),
    "403": (
        ": java.nio.file.AccessDeniedException: s3a://lake/x: getFileStatus on s3a://lake/x: "
        "software.amazon.awssdk.services.s3.model.S3Exception: null (Service: S3, Status Code: "
        "403, Request ID: null):403 Forbidden"
    ),
    "bucket": (
        ": java.io.FileNotFoundException: Bucket lake does not exist\n\tat org.apache.hadoop."
    ),
    "parent": (
        ": org.apache.hadoop.fs.ParentNotDirectoryException: Parent path is not a directory: "
        "file:/srv/lake"
    ),
}


class Py4JJavaError(Exception):
    """Stands in for py4j's class: only the type name and the text matter to the translator."""


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unknown host", S3UnreachableError),
        ("refused", S3UnreachableError),
        ("403", S3AccessDeniedError),
        ("bucket", S3BucketMissingError),
    ],
)
def test_java_failures_on_s3_become_named_errors(case, expected) -> None:
    error = translate(Py4JJavaError(JAVA[case]), S3)
    assert isinstance(error, expected)
    assert "\n" not in str(error)
    assert "127.0.0.1:9" in str(error) or "lake" in str(error)


def test_a_local_access_denied_is_an_unwritable_lake_not_an_s3_error() -> None:
    error = translate(PermissionError(13, "Permission denied", "/srv/lake/bronze"), LOCAL)
    assert isinstance(error, LakeNotWritableError)
    assert "/srv/lake" in str(error)


def test_a_file_in_the_way_names_the_lake_root() -> None:
    error = translate(Py4JJavaError(JAVA["parent"]), LOCAL)
    assert isinstance(error, LakeRootIsFileError)
    assert "point --lake-root" in str(error)


def test_the_cause_chain_is_searched() -> None:
    try:
        try:
            raise ConnectionRefusedError("Connection refused")
        except OSError as inner:
            raise RuntimeError("commit failed") from inner
    except RuntimeError as outer:
        assert isinstance(translate(outer, S3), S3UnreachableError)


def test_unknown_failures_are_left_alone_for_their_traceback() -> None:
    assert translate(ZeroDivisionError("division by zero"), S3) is None


def test_lakehouse_errors_pass_through() -> None:
    error = SettingsError("LAKEHOUSE_ENV='x' is not one of local, test, prod")
    assert translate(error, S3) is error


def test_every_error_has_a_unique_code_and_a_template_that_formats() -> None:
    assert len(ERRORS) == len(set(ERRORS.values()))
    for code, cls in ERRORS.items():
        assert cls.code == code
        assert issubclass(cls, LakehouseError)
    names = {"path": "/x", "endpoint": "http://e", "bucket": "b", "detail": "d"}
    for cls in (LakeRootIsFileError, LakeNotWritableError, S3UnreachableError):
        assert cls(**names).args[0]


def test_a_second_class_cannot_take_a_code() -> None:
    with pytest.raises(TypeError, match="SETTINGS"):

        class Again(LakehouseError):  # noqa: N818 - never kept: the registry refuses it
            code = "SETTINGS"


@given(st.text(max_size=200))
def test_translating_any_text_never_raises(text: str) -> None:
    result = translate(RuntimeError(text), S3)
    assert result is None or isinstance(result, LakehouseError)
