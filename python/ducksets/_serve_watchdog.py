"""Time limits for ``ducksets serve``: a call's cursors are interrupted once it runs too long.

One watchdog thread keeps every call's deadline (a thread per call would cost
more than a small page read). A call past its deadline is interrupted by a
thread of its own, which goes on interrupting until the call returns:
DuckDB clears the interrupt when the next statement starts, and a reader may
retry on the same cursor.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import time

import duckdb

from ducksets.errors import ReadTimeoutError


class Call:
    """One tool call's cursors, so that they can be interrupted when the call runs too long."""

    def __init__(self) -> None:
        self.expired = False
        self.done = threading.Event()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()

    def add(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Watch ``cursor``; refused (closed) when the call is out of time already."""
        with self._lock:
            if self.expired:
                cursor.close()
                raise ReadTimeoutError("the call is out of time", seconds=0.0)
            self._cursors.append(cursor)

    def finish(self) -> None:
        """The call returned: stop interrupting, forget its cursors."""
        with self._lock:
            self.done.set()
            self._cursors.clear()

    def expire(self) -> None:
        """Interrupt the call's cursors every 10 ms until it returns."""
        with self._lock:
            self.expired = True
        while not self.done.wait(0.01):
            with self._lock:
                cursors = list(self._cursors)
            for cursor in cursors:
                # A closed cursor raises: its statement is over already.
                with contextlib.suppress(duckdb.Error):
                    cursor.interrupt()


class Watchdog:
    """One daemon thread that expires the calls that outlive their deadline."""

    def __init__(self) -> None:
        self._wakeup = threading.Condition()
        self._deadlines: list[tuple[float, int, Call]] = []
        self._order = itertools.count()  # ties never compare two calls
        self._thread: threading.Thread | None = None

    def watch(self, call: Call, seconds: float) -> None:
        """Expire ``call`` if it has not finished in ``seconds``."""
        entry = (time.monotonic() + seconds, next(self._order), call)
        with self._wakeup:
            heapq.heappush(self._deadlines, entry)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="ducksets-serve-watchdog", daemon=True
                )
                self._thread.start()
            if self._deadlines[0] is entry:  # sooner than what the thread waits for
                self._wakeup.notify()

    def _run(self) -> None:
        with self._wakeup:
            while True:
                # Finished calls leave when they reach the front (or at their deadline).
                while self._deadlines and self._deadlines[0][2].done.is_set():
                    heapq.heappop(self._deadlines)
                if not self._deadlines:
                    self._wakeup.wait()
                    continue
                wait = self._deadlines[0][0] - time.monotonic()
                if wait > 0:
                    self._wakeup.wait(wait)
                    continue
                call = heapq.heappop(self._deadlines)[2]
                threading.Thread(target=call.expire, daemon=True).start()


WATCHDOG = Watchdog()
"""The process's one watchdog, shared by every served catalog."""
