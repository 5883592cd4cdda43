"""S3 targets of an export: the URL, the store client (``s3fs``), and its errors.

Everything an S3 export asks of the store goes through ``ObjectStore``: list
the prefix, read and write the package document (conditionally, so two runs
cannot overwrite each other's package unseen), delete orphans, hash an object.
Every request's failure becomes one typed ducksets error naming the URL and
what to do (``EndpointUnreachableError``, ``ObjectStoreAccessError``,
``BucketMissingError``, ``ObjectStoreError``).

The endpoint, region and credentials come from the standard AWS environment
(``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_S3``, ``AWS_REGION``/``AWS_DEFAULT_REGION``,
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``, then
botocore's usual chain: shared files, instance roles). Requests are retried a
few times with short waits, so a dead endpoint fails within seconds.

DuckDB writes the data objects through the same file system, registered on the
connection (``_s3_hashing``); this module never imports ``s3fs`` at import time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ducksets.errors import (
    BucketMissingError,
    EndpointUnreachableError,
    InvalidArgumentError,
    MissingExtraError,
    ObjectStoreAccessError,
    ObjectStoreError,
)

ATTEMPTS = 3
"""Tries per request (botocore's standard retry mode; s3fs does not retry on top)."""
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0
_CHUNK = 8 << 20
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,62}")
# Characters DuckDB or fsspec may read as a glob or a query when a URL is read back.
_UNSAFE = re.compile(r"[*?\[\]{}\\#\x00-\x1f\x7f]")


def is_url(target: object) -> bool:
    """True when ``target`` is a ``str`` that looks like ``scheme://...``."""
    return isinstance(target, str) and re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", target) is not None


def is_s3_url(target: object) -> bool:
    """True when ``target`` is a ``str`` starting with ``s3://`` (any case)."""
    return isinstance(target, str) and target[:5].lower() == "s3://"


@dataclass(frozen=True)
class S3Target:
    """``s3://bucket/prefix``: where an export's objects and package go."""

    bucket: str
    prefix: str
    """Key prefix without leading or trailing ``/``; empty for the bucket's root."""

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def key(self, relative: str) -> str:
        """The object key of ``relative`` (a path under the prefix)."""
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def url_of(self, relative: str) -> str:
        return f"s3://{self.bucket}/{self.key(relative)}"


def parse_s3_url(text: str) -> S3Target:
    """``s3://bucket[/prefix]`` as an ``S3Target``.

    Raises
    ------
    InvalidArgumentError
        Not such a URL, a bucket name S3 refuses, or a prefix with empty,
        ``.`` or ``..`` parts or glob characters (``parameter`` is ``output_dir``).
    """
    rest = text[5:] if is_s3_url(text) else ""
    bucket, _, prefix = rest.partition("/")
    prefix = prefix.rstrip("/")
    parts = prefix.split("/") if prefix else []
    why = None
    if not _BUCKET.fullmatch(bucket):
        why = f"bucket name {bucket!r} is not a valid S3 bucket name (3-63 of a-z 0-9 . - _)"
    elif any(part in {"", ".", ".."} for part in parts):
        why = "the prefix has an empty, '.' or '..' part"
    elif _UNSAFE.search(prefix):
        why = "the prefix holds a glob, '#', '\\' or control character"
    if why is not None:
        msg = f"output_dir {text!r} is not a usable S3 target: {why}; give s3://bucket/prefix"
        raise InvalidArgumentError(msg, parameter="output_dir", value=text)
    return S3Target(bucket, prefix)


@dataclass(frozen=True)
class ObjectInfo:
    """One object's size and last-modified time, as listed."""

    size: int
    modified: dt.datetime


def endpoint_url() -> str | None:
    """The endpoint from the environment; ``None``: AWS itself."""
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def import_s3fs() -> Any:
    """The ``s3fs`` module.

    Raises
    ------
    MissingExtraError
        ``s3fs`` is not installed (``extra`` is ``s3``).
    """
    try:
        import s3fs  # type: ignore[import-untyped]
    except ImportError as exc:
        msg = (
            "exporting to s3:// needs s3fs, which is not installed; run: pip install 'ducksets[s3]'"
        )
        raise MissingExtraError(msg, extra="s3") from exc
    return s3fs


def filesystem_options() -> dict[str, Any]:
    """``S3FileSystem`` keyword arguments from the AWS environment, retries bounded."""
    options: dict[str, Any] = {
        "skip_instance_cache": True,  # each run its own client, environment read now
        "config_kwargs": {
            "retries": {"max_attempts": ATTEMPTS, "mode": "standard"},
            "connect_timeout": CONNECT_TIMEOUT,
            "read_timeout": READ_TIMEOUT,
        },
    }
    endpoint = endpoint_url()
    if endpoint is not None:
        options["endpoint_url"] = endpoint
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        options["client_kwargs"] = {"region_name": region}
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        options.update(key=key, secret=secret, token=os.environ.get("AWS_SESSION_TOKEN") or None)
    return options


def open_store(target: S3Target) -> ObjectStore:
    """An ``ObjectStore`` for ``target`` with a client from the AWS environment.

    Raises
    ------
    MissingExtraError
        ``s3fs`` is not installed.
    """
    import_s3fs()
    from ducksets._s3_hashing import HashingS3FileSystem  # needs s3fs

    return ObjectStore(target, HashingS3FileSystem(**filesystem_options()))


class ObjectStore:
    """The requests an S3 export makes, on one ``s3fs`` file system, errors translated."""

    def __init__(self, target: S3Target, filesystem: Any) -> None:
        self.target = target
        self.fs = filesystem

    @contextlib.contextmanager
    def translating(self, url: str, doing: str) -> Iterator[None]:
        """Turn any failure of the requests inside into one typed ``ObjectStoreError``."""
        try:
            yield
        except ObjectStoreError:
            raise
        except Exception as exc:
            raise translate(exc, url, doing) from exc

    def list_objects(self) -> dict[str, ObjectInfo]:
        """Every object under the prefix, by path relative to it (also checks access)."""
        start = f"{self.target.prefix}/" if self.target.prefix else ""
        found: dict[str, ObjectInfo] = {}
        token: str | None = None
        with self.translating(self.target.url, "list"):
            while True:
                page = self.fs.call_s3(
                    "list_objects_v2",
                    Bucket=self.target.bucket,
                    Prefix=start,
                    **({"ContinuationToken": token} if token else {}),
                )
                for item in page.get("Contents", ()):
                    relative = item["Key"][len(start) :]
                    found[relative] = ObjectInfo(int(item["Size"]), item["LastModified"])
                token = page.get("NextContinuationToken")
                if not page.get("IsTruncated") or not token:
                    return found

    def read_text(self, relative: str) -> tuple[str, str] | None:
        """The object's text and ETag; ``None`` when there is no such object."""
        from fsspec.asyn import sync  # type: ignore[import-untyped]  # comes with s3fs

        url = self.target.url_of(relative)
        key = self.target.key(relative)

        async def get() -> tuple[bytes, str]:
            # One request: the ETag is the one of the bytes read.
            reply = await self.fs._call_s3("get_object", Bucket=self.target.bucket, Key=key)
            return bytes(await reply["Body"].read()), str(reply["ETag"])

        with self.translating(url, "read"):
            try:
                body, etag = sync(self.fs.loop, get)
            except FileNotFoundError:
                return None
        return body.decode("utf-8"), etag

    def write_text(self, relative: str, text: str, *, replacing: str | None) -> bool:
        """Write the object if it is still the one read (ETag ``replacing``; ``None``: absent).

        False when another writer changed it since it was read (nothing written).
        """
        condition = {"IfMatch": replacing} if replacing else {"IfNoneMatch": "*"}
        with self.translating(self.target.url_of(relative), "write"):
            try:
                self._put(relative, text, condition)
            except OSError as exc:
                if _code(exc) in {"PreconditionFailed", "ConditionalRequestConflict"}:
                    return False
                raise
        return True

    def write_marker(self, relative: str, text: str) -> None:
        """Write a small object unconditionally (a marker of ducksets' own)."""
        with self.translating(self.target.url_of(relative), "write"):
            self._put(relative, text, {})

    def _put(self, relative: str, text: str, condition: dict[str, str]) -> None:
        """One ``PutObject`` of ``text`` (JSON) with ``condition`` (``IfMatch``, ...)."""
        self.fs.call_s3(
            "put_object",
            Bucket=self.target.bucket,
            Key=self.target.key(relative),
            Body=text.encode("utf-8"),
            ContentType="application/json",
            **condition,
        )

    def delete(self, relatives: Iterable[str]) -> None:
        """Delete these objects (missing ones are no error)."""
        keys = [self.target.key(r) for r in relatives]
        with self.translating(self.target.url, "delete objects in"):
            for start in range(0, len(keys), 1000):  # the API's batch limit
                batch = [{"Key": key} for key in keys[start : start + 1000]]
                self.fs.call_s3(
                    "delete_objects",
                    Bucket=self.target.bucket,
                    Delete={"Objects": batch, "Quiet": True},
                )

    def digest(self, relative: str) -> tuple[int, str]:
        """Size and hex SHA-256 of the object, streamed in 8 MiB chunks."""
        sha, size = hashlib.sha256(), 0
        with (
            self.translating(self.target.url_of(relative), "read"),
            self.fs.open(f"{self.target.bucket}/{self.target.key(relative)}", "rb") as stream,
        ):
            while chunk := stream.read(_CHUNK):
                sha.update(chunk)
                size += len(chunk)
        return size, sha.hexdigest()


def _code(exc: BaseException) -> str | None:
    """The S3 error code behind ``exc`` (s3fs keeps botocore's error as the cause)."""
    for error in (exc, exc.__cause__, exc.__context__):
        response = getattr(error, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            return str(code) if code is not None else None
    return None


def translate(exc: BaseException, url: str, doing: str) -> ObjectStoreError:
    """The typed ducksets error for a failed request ``doing`` ``url``."""
    name = type(exc).__name__
    endpoint = endpoint_url() or "the AWS default endpoint"
    code = _code(exc)
    if name in {"EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"} or (
        isinstance(exc, ConnectionError | TimeoutError) and code is None
    ):
        cause = getattr(exc, "kwargs", {}).get("error") or exc
        msg = (
            f"cannot reach the S3 endpoint {endpoint} to {doing} {url} after {ATTEMPTS} "
            f"attempts: {cause}; check AWS_ENDPOINT_URL and that the server is running"
        )
        return EndpointUnreachableError(msg, url=endpoint)
    if name in {"NoCredentialsError", "PartialCredentialsError"}:
        msg = (
            f"no S3 credentials found to {doing} {url}; set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) and try again"
        )
        return ObjectStoreAccessError(msg, url=url)
    if isinstance(exc, PermissionError) or code in {
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
    }:
        msg = (
            f"the S3 endpoint {endpoint} refused to let these credentials {doing} {url} "
            f"({code or exc}); check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket policy"
        )
        return ObjectStoreAccessError(msg, url=url)
    if code == "NoSuchBucket" or (isinstance(exc, FileNotFoundError) and doing == "list"):
        bucket = url[5:].split("/", 1)[0]
        msg = (
            f"the bucket s3://{bucket} does not exist at {endpoint}; create it or "
            "export to an existing bucket"
        )
        return BucketMissingError(msg, url=f"s3://{bucket}")
    msg = f"cannot {doing} {url}: {exc}"
    return ObjectStoreError(msg, url=url)
