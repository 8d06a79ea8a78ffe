"""Precise delays for the sandbox's emulated network latency.

asyncio waits for its timers with epoll, whose timeout is in whole
milliseconds, rounded up, and is computed afresh every time the loop wakes
for other work: in a sandbox that is busy answering other requests, a 20 ms
`asyncio.sleep` ends about 1 ms late on average (measured with
`benchmarks/bench_bulk.py`), so `--latency-ms 20` would emulate 21 ms.
`DelayLine` keeps the deadlines in a thread of its own, which waits with
microsecond precision and wakes the event loop when a deadline passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import threading
import time

_Entry = tuple[float, int, asyncio.AbstractEventLoop, 'asyncio.Future[None]']


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():  # a cancelled waiter stays cancelled
        future.set_result(None)


class DelayLine:
    """Sleeps that end on time, for any number of waiters and event loops."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._deadlines: list[_Entry] = []
        self._order = itertools.count()  # ties keep their order; loops never compare
        self._thread: threading.Thread | None = None

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (without blocking the event loop)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (time.monotonic() + seconds, next(self._order), loop, future)
        with self._condition:
            heapq.heappush(self._deadlines, entry)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name='sandbox-latency', daemon=True
                )
                self._thread.start()
            # The thread waits for the earliest deadline: only a new earliest
            # one needs to wake it (with one latency for all, that is rare).
            if self._deadlines[0] is entry:
                self._condition.notify()
        await future

    def _run(self) -> None:
        with self._condition:
            while True:
                if not self._deadlines:
                    self._condition.wait()
                    continue
                deadline, _, loop, future = self._deadlines[0]
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    self._condition.wait(remaining)
                    continue
                heapq.heappop(self._deadlines)
                # A closed loop has nobody waiting any more.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_wake, future)
