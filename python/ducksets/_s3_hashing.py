"""An ``s3fs`` file system that hashes what DuckDB writes through it.

Registered on the connection for an export run, it sees every byte of each
data object on its way to S3, so the object's size and SHA-256 come without
reading it back. DuckDB writes a file front to back in large pieces (8-10 MiB
measured); each piece is hashed in a thread of its own while the next is
uploaded (``hashlib`` releases the GIL). A writer that seeks, or fails, has
no digest: the caller then reads the object back to hash it.

Imported only once ``s3fs`` is known to be installed (``_s3.import_s3fs``).
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import s3fs  # type: ignore[import-untyped]

Digest = tuple[int, str]


class HashingS3FileSystem(s3fs.S3FileSystem):  # type: ignore[misc]
    """``S3FileSystem`` whose files opened for writing record their size and SHA-256."""

    retries = 1  # no s3fs retry loop on top of botocore's ATTEMPTS: a dead endpoint fails fast

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._digests: dict[str, Digest | None] = {}
        self._digests_lock = threading.Lock()

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        opened = super()._open(path, mode, *args, **kwargs)
        if "w" not in mode:
            return opened
        return _HashingWriter(opened, self._strip_protocol(path), self._record)

    def _record(self, path: str, digest: Digest | None) -> None:
        with self._digests_lock:
            self._digests[path] = digest

    def take_digest(self, path: str) -> Digest | None:
        """The size and SHA-256 recorded for ``path`` (bucket/key), forgotten once taken."""
        with self._digests_lock:
            return self._digests.pop(self._strip_protocol(path), None)


class _HashingWriter:
    """Wraps an ``S3File`` open for writing: every byte written is also hashed."""

    def __init__(self, file: Any, path: str, record: Any) -> None:
        self._file = file
        self._path = path
        self._record = record
        self._sha = hashlib.sha256()
        self._size = 0
        self._sequential = True
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="ducksets-s3-sha256")
        self._pending: Future[None] | None = None

    def write(self, data: Any) -> int:
        # DuckDB hands over bytes it no longer needs: the hash thread keeps a reference.
        chunk = data if isinstance(data, bytes) else bytes(data)
        self._pending = self._pool.submit(self._sha.update, chunk)
        self._size += len(chunk)
        return int(self._file.write(chunk))

    def seek(self, offset: int, whence: int = 0) -> int:
        if (whence, offset) not in {(0, self._size), (1, 0)}:
            self._sequential = False  # the bytes hashed may no longer be the object's
        return int(self._file.seek(offset, whence))

    def close(self) -> None:
        try:
            self._file.close()
        except BaseException:
            self._record(self._path, None)
            raise
        finally:
            self._pool.shutdown(wait=True)
        digest = None
        if self._sequential and (self._pending is None or self._pending.exception() is None):
            digest = (self._size, self._sha.hexdigest())
        self._record(self._path, digest)

    def __enter__(self) -> _HashingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)
