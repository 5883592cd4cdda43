"""A real S3 endpoint for tests: ``moto_server`` on a free loopback port.

``moto_server()`` starts ``moto_server -H 127.0.0.1 -p <port>`` (package
``moto[server]``, installed in the test venvs), waits until it answers, and
stops it on exit. The fixtures in ``tests/conftest.py`` wrap it: ``moto_s3``
(one server per session) and ``s3_bucket`` (a fresh bucket per test, with the
AWS environment variables pointing at the server). Use them from any test
directory below ``tests/`` (``tests/scale`` too).

Named ``s3_server``, not ``moto``: ``tests/`` is on ``sys.path``, and a
``moto.py`` here would shadow the real package in the test process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STARTUP_SECONDS = 30.0
ACCESS_KEY = "ducksets-test-key"
SECRET_KEY = "ducksets-test-secret"
REGION = "us-east-1"


@dataclass(frozen=True)
class MotoServer:
    """A running moto S3 endpoint."""

    endpoint: str
    """``http://127.0.0.1:<port>``"""
    process: subprocess.Popen[bytes]

    @property
    def host_port(self) -> str:
        return self.endpoint.removeprefix("http://")

    def environment(self) -> dict[str, str]:
        """The AWS variables that point ducksets (and botocore) at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self) -> Any:
        """A boto3 S3 client of this server (boto3 comes with moto[server])."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def new_bucket(self) -> str:
        """Create a bucket with a name no other test uses; its name."""
        name = f"ducksets-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def secret_sql(self, name: str = "ducksets_moto") -> str:
        """``CREATE SECRET`` for DuckDB's httpfs to reach this server."""
        return (
            f"CREATE OR REPLACE SECRET {name} (TYPE s3, KEY_ID '{ACCESS_KEY}', "
            f"SECRET '{SECRET_KEY}', REGION '{REGION}', ENDPOINT '{self.host_port}', "
            "URL_STYLE 'path', USE_SSL false)"
        )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _executable() -> str:
    beside = Path(sys.executable).with_name("moto_server")
    found = str(beside) if beside.is_file() else shutil.which("moto_server")
    if found is None:
        msg = "moto_server is not installed; pip install 'moto[server]' (the test extra has it)"
        raise RuntimeError(msg)
    return found


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1) as reply:
            return bool(reply.status == 200)
    except (OSError, urllib.error.URLError):
        return False


@contextlib.contextmanager
def moto_server() -> Iterator[MotoServer]:
    """Run moto_server on a free loopback port until the block ends."""
    # moto logs every request: to a file, not a pipe nobody drains (it would fill and block).
    with tempfile.TemporaryFile() as log:
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        process = subprocess.Popen(
            [_executable(), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        )
        try:
            _wait_until_up(endpoint, process, log)
            yield MotoServer(endpoint, process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(endpoint: str, process: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not _answers(endpoint):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            log.seek(0)
            output = log.read().decode(errors="replace")[-2000:]
            msg = f"moto_server at {endpoint} did not start: {output}"
            raise RuntimeError(msg)
        time.sleep(0.05)
