"""SHA-256 of exported files, hashed while DuckDB's ``COPY`` is still writing them.

Hashing a file after its ``COPY`` adds the hash to the export's time (SHA-256
is compute-bound, about 2 GB/s); hashing it *while* the ``COPY`` writes it
hides most of that. ``Tail`` does that: a thread reads what the writer has
written so far and feeds ``hashlib`` until the ``COPY`` returns, then reads
the rest.

DuckDB does not write strictly in order. 1.2-1.5 append with ``write(2)``,
but 2.0 writes JSON and Parquet from several threads with ``pwrite(2)`` at
offsets reserved in advance, so a later region can land before an earlier one
and the file has a hole in between for a moment (``strace``, 5M rows). A
plain tail would hash a hole's zeros. What holds on every version (the
``COPY`` creates the file, ``O_CREAT|O_EXCL``) is weaker: each byte is
written once, and a byte not written yet reads as zero. So a byte read as
non-zero is final, and the tail may hash any run of non-zero bytes at once
(JSONL has no NUL bytes at all: it is hashed right behind the writer and
needs no second look). A region holding zero bytes is hashed only once the
file has been longer than it for ``MATURE`` seconds, and its CRC-32 is kept;
when the ``COPY`` has returned, such regions are read again and must have the
same CRC-32. Any doubt -- a region that changed, a file that shrank, was
replaced, or is not the size hashed -- and the whole file is hashed again
from disk, so a digest is never of bytes other than the final file's. (A
CRC-32 misses a change with odds of about 2**-32, and only a change of bytes
read as zero while the file had been past them for ``MATURE`` seconds; were
that to happen, ``verify`` would report the file as changed, never accept a
changed one.)
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

Digest = tuple[int, str]
"""Size in bytes and hex SHA-256 of a file."""

CHUNK = 1 << 20
"""Bytes read and hashed at a time (one buffer per hash, reused)."""
SMALL_FILE = 1 << 20
"""Files up to this size are hashed at once when their ``COPY`` returns: cheaper than a hand-off."""
POLL = 0.005
"""Seconds the tail waits for the writer to write more (it wakes at once when the COPY returns)."""
MATURE = 0.05
"""Seconds a region must have been inside the file before its zero bytes are taken as written."""
ZERO_RUN = 16
"""Zero bytes in a row that are taken as a region not written yet until the ``COPY`` returns.

DuckDB's Parquet encodings leave no such run (none in 1M rows, Snappy, Zstd or
uncompressed, a constant-zero column included) and its smallest write is 17
bytes, so a hole is never hashed early; a real run only delays the hash."""
_ZERO_RUN = bytes(ZERO_RUN)

TAILING = True
"""``False`` hashes every file after its ``COPY`` instead (for benchmarks)."""

# O_NONBLOCK: opening a FIFO put in the file's place must not block the thread.
_TAIL_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
_READ_FLAGS = _TAIL_FLAGS | getattr(os, "O_BINARY", 0)


def file_digest(path: Path) -> Digest:
    """Size and hex SHA-256 of the file at ``path``, read into one reused buffer.

    Raises
    ------
    OSError
        The file cannot be opened or read, or is not a regular file (a FIFO
        is refused, never waited on).
    """
    sha = hashlib.sha256()
    size = 0
    with os.fdopen(os.open(path, _READ_FLAGS), "rb", buffering=0) as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise OSError(f"{path} is not a regular file")
        # No bigger than the file: a run of many small files should not pay for 1 MiB each.
        buf = bytearray(max(1, min(CHUNK, status.st_size + 1)))
        view = memoryview(buf)
        while n := file.readinto(buf):
            sha.update(view[:n])
            size += n
    return size, sha.hexdigest()


def _small_digest(path: Path) -> tuple[Digest, os.stat_result] | None:
    """Digest and status of ``path`` when it is a regular file of at most ``SMALL_FILE`` bytes.

    One open, one ``fstat``, one read (the whole file and one byte more, to see
    its end). ``None`` when it is bigger, not a regular file, grew while read
    or cannot be read: the caller hashes it otherwise, and reports any error
    from there.
    """
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or status.st_size > SMALL_FILE:
            return None
        data = os.read(fd, status.st_size + 1)
        if len(data) != status.st_size:
            return None
        return (len(data), hashlib.sha256(data).hexdigest()), status
    except OSError:
        return None
    finally:
        os.close(fd)


class Tail:
    """The SHA-256 of a file that a ``COPY`` is about to write, computed beside the ``COPY``.

    Call ``start`` just before the ``COPY``, then ``writer_done`` once it has
    returned (or ``cancel`` when it failed); ``result`` waits for the digest.
    When the path exists already (a ``COPY`` would then write a temporary file
    and rename it), off POSIX, or when the caller knows the file will be small
    (``tail=False``), the file is hashed after the ``COPY`` instead, in
    ``executor`` (at once when it is small).
    """

    def __init__(self, executor: Executor, path: Path, *, tail: bool = True) -> None:
        self.executor = executor
        self.path = path
        self._cancelled = False
        self._future: Future[Digest | None] | Digest | None = None
        self.status: os.stat_result | None = None
        """The complete file's status, when ``writer_done`` hashed it at once (else ``None``)."""
        self.rechecked = 0
        """Bytes read a second time to check them (zero bytes seen before the COPY returned)."""
        self.rehashed_from: int | None = None
        """Offset from which the file was hashed again after the COPY (0: all of it); ``None``."""
        # os.preadv: POSIX only (and a hole reading as zeros is POSIX's promise).
        self.tailing = tail and TAILING and hasattr(os, "preadv") and not os.path.lexists(path)
        # Set when the COPY returned or failed; only a tailing thread waits on it.
        self._done = threading.Event() if self.tailing else None

    @classmethod
    def start(cls, executor: Executor, path: Path, *, tail: bool = True) -> Tail:
        """Begin hashing ``path`` (a file not written yet) in ``executor``.

        ``tail=False``: the caller expects a small file; it is hashed after the ``COPY``.
        """
        started = cls(executor, path, tail=tail)
        if started.tailing:
            started._future = executor.submit(started._run)
        return started

    def writer_done(self) -> None:
        """The ``COPY`` returned: the file is complete.

        A small file is hashed here and now (its tail, if any, is dropped): for
        many tiny datasets, waiting for the thread costs more than the hash.
        """
        small = _small_digest(self.path)
        if small is not None:
            self.cancel()
            self._future, self.status = small
        elif self._done is not None:
            self._done.set()
        else:
            self._future = self.executor.submit(file_digest, self.path)

    def cancel(self) -> None:
        """Stop the tail (the ``COPY`` failed: ``result`` must not be called)."""
        self._cancelled = True
        if self._done is not None:
            self._done.set()

    def result(self) -> Digest:
        """Size and SHA-256 of the complete file (waits for the thread).

        Raises
        ------
        OSError
            The file could not be read back.
        """
        digest = self._future.result() if isinstance(self._future, Future) else self._future
        if digest is None:
            raise OSError(f"{self.path} was not hashed (its COPY did not complete)")
        return digest

    def _run(self) -> Digest | None:
        done = self._done
        assert done is not None  # only a tailing Tail runs
        fd = self._open(done)
        if fd is None:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(f"{self.path} is not a regular file")  # reported by the caller
            reader = _Reader(fd, done, lambda: self._cancelled)
            digest = reader.digest()
            self.rechecked = sum(region[1] for region in reader.recheck)
            self.rehashed_from = reader.rehashed_from
            if digest is None or not _still_the_file(fd, self.path, digest[0]):
                if self._cancelled:
                    return None
                self.rehashed_from = 0
                return file_digest(self.path)
            return digest
        finally:
            os.close(fd)

    def _open(self, done: threading.Event) -> int | None:
        """The file, opened once the ``COPY`` has created it; ``None`` when cancelled."""
        while not self._cancelled:
            complete = done.is_set()
            try:
                return os.open(self.path, _TAIL_FLAGS)
            except FileNotFoundError:
                if complete:
                    raise  # the COPY returned without writing it: reported by the caller
            done.wait(POLL)
        return None


def _still_the_file(fd: int, path: Path, size: int) -> bool:
    """Whether ``path`` is still the file open as ``fd``, a regular file of ``size`` bytes."""
    try:
        opened, now = os.fstat(fd), path.stat()
    except OSError:
        return False
    same = (opened.st_dev, opened.st_ino) == (now.st_dev, now.st_ino)
    return same and stat.S_ISREG(now.st_mode) and now.st_size == size


class _Sizes:
    """The file's size as seen over the last ``MATURE`` seconds."""

    def __init__(self) -> None:
        self.seen: deque[tuple[float, int]] = deque()

    def observe(self, now: float, size: int) -> None:
        if not self.seen or now - self.seen[-1][0] >= POLL:
            self.seen.append((now, size))
        while len(self.seen) > 1 and self.seen[1][0] <= now - MATURE:
            self.seen.popleft()

    def before(self, moment: float) -> int:
        """The size last seen at or before ``moment`` (0 when none was)."""
        size = 0
        for seen_at, seen_size in self.seen:
            if seen_at > moment:
                break
            size = seen_size
        return size


class _Reader:
    """Reads and hashes one file behind its writer; see the module docstring for why it is sound."""

    def __init__(self, fd: int, done: threading.Event, cancelled: Callable[[], bool]) -> None:
        self.fd = fd
        self.done = done
        self.cancelled = cancelled
        self.sha = hashlib.sha256()
        self.pos = 0
        self.buf = bytearray(CHUNK)
        self.view = memoryview(self.buf)
        self.sizes = _Sizes()
        self.recheck: list[tuple[int, int, int, Any]] = []
        """Regions hashed with zero bytes before the end: offset, length, CRC-32, and the
        SHA-256 state before them (to hash again from there if one changed)."""
        self.rehashed_from: int | None = None

    def digest(self) -> Digest | None:
        """Size and SHA-256 of the file; ``None`` when cancelled or when it shrank."""
        wait = POLL
        while not self.cancelled():
            if self.done.is_set():  # checked before reading: every byte read from here is final
                return self._finish()
            size = os.fstat(self.fd).st_size
            if size < self.pos:
                return None  # it shrank: not written once, front to back
            self.sizes.observe(time.monotonic(), size)
            n = os.preadv(self.fd, [self.buf], self.pos) if self.pos < size else 0
            taken = self._take(self._settled(n))
            if taken < n or n < CHUNK:
                # At the writer's front, or at zeros: wait for more, longer while none comes.
                wait = POLL if taken else min(2 * wait, 20 * POLL)
                self.done.wait(wait)
        return None

    def _settled(self, n: int) -> int:
        """How many of the ``n`` bytes read may be hashed while the ``COPY`` still writes."""
        zero = self.buf.find(0, 0, n)
        if zero < 0:
            return n  # no zero byte: every byte is final
        # Never up to a run of ZERO_RUN zeros, nor into zeros at the end of what was read
        # (they may be the start of such a run).
        end = self.buf.find(_ZERO_RUN, 0, n)
        end = n if end < 0 else end
        while end > zero and self.buf[end - 1] == 0 and n - end < ZERO_RUN:
            end -= 1
        mature = self.sizes.before(time.monotonic() - MATURE) - self.pos
        return max(zero, min(end, mature))

    def _take(self, n: int) -> int:
        """Hash the first ``n`` bytes of the buffer; keep their CRC-32 if they may change."""
        if n:
            data = self.view[:n]
            if self.buf.find(0, 0, n) >= 0:
                self.recheck.append((self.pos, n, zlib.crc32(data), self.sha.copy()))
            self.sha.update(data)
            self.pos += n
        return n

    def _finish(self) -> Digest:
        """Check the regions hashed with zero bytes, then hash the rest: the file is complete.

        The second half of the regions is checked in another thread, while this
        one checks the first half and then hashes the rest (the COPY is over, a
        core is free); a changed region, rare, means hashing again from it.
        """
        regions = self.recheck
        half = len(regions) // 2 if sum(r[1] for r in regions) > 4 * CHUNK else len(regions)
        found: list[int | None] = [None]
        helper = None
        if half < len(regions):
            helper = threading.Thread(
                target=lambda: found.__setitem__(0, self._changed(regions, half, bytearray(CHUNK)))
            )
            helper.start()
        changed = self._changed(regions[:half], 0, self.buf)
        if changed is None:
            self._hash_rest()
        if helper is not None:
            helper.join()
            changed = found[0] if changed is None else changed
        if changed is not None:
            offset, _, _, before = regions[changed]
            self.sha, self.pos, self.rehashed_from = before, offset, offset
            self._hash_rest()
        return self.pos, self.sha.hexdigest()

    def _changed(
        self, regions: list[tuple[int, int, int, Any]], start: int, buf: bytearray
    ) -> int | None:
        """The index of the first of ``regions[start:]`` whose CRC-32 differs now, or ``None``."""
        view = memoryview(buf)
        for index in range(start, len(regions)):
            offset, length, crc, _ = regions[index]
            read = os.preadv(self.fd, [view[:length]], offset)
            if read != length or zlib.crc32(view[:length]) != crc:
                return index
        return None

    def _hash_rest(self) -> None:
        while n := os.preadv(self.fd, [self.buf], self.pos):
            self.sha.update(self.view[:n])
            self.pos += n
