"""A private event loop in a background thread, for code that cannot `await`.

Magics are synchronous, but under ipykernel an event loop is already running
in the main thread, so `asyncio.run` fails there, and an `httpx.AsyncClient`
must stay on the loop that first used it. `BackgroundLoop` runs one loop of
its own in a daemon thread; synchronous code submits coroutines to it and
waits for their results. Everything created inside that loop (the magics'
client) lives and dies there.
"""

from __future__ import annotations

import threading
import typing
from collections import abc

if typing.TYPE_CHECKING:
    # asyncio is imported on first use: `%load_ext` must stay cheap.
    import asyncio
    import concurrent.futures

T = typing.TypeVar('T')


class LoopClosedError(RuntimeError):
    """The background loop was stopped; create a new `BackgroundLoop`."""


class BackgroundLoop:
    """One asyncio event loop running in its own daemon thread.

    The thread starts on the first `run` call, not at construction, so that
    creating one is free.

    Examples:
        >>> loop = BackgroundLoop()
        >>> loop.run(asyncio.sleep(0, result=42))
        42
        >>> loop.close()
    """

    def __init__(self, name: str = 'imbi-toolkit-loop') -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        state = 'closed' if self._closed else 'running' if self.running else 'idle'
        return f'<{type(self).__name__} {self._name!r} {state}>'

    @property
    def running(self) -> bool:
        """Whether the loop's thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def thread(self) -> threading.Thread | None:
        """The loop's thread, once started."""
        return self._thread

    def _ensure_started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise LoopClosedError(f'{self._name} is closed')
            if self._loop is None:
                import asyncio

                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(
                    target=serve, name=self._name, daemon=True
                )
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def submit(
        self, coroutine: abc.Coroutine[typing.Any, typing.Any, T]
    ) -> concurrent.futures.Future[T]:
        """Schedule `coroutine` on the loop and return a future of its result."""
        import asyncio

        try:
            loop = self._ensure_started()
        except LoopClosedError:
            coroutine.close()  # never awaited: close it to avoid a warning
            raise
        return asyncio.run_coroutine_threadsafe(coroutine, loop)

    def run(
        self,
        coroutine: abc.Coroutine[typing.Any, typing.Any, T],
        timeout: float | None = None,
    ) -> T:
        """Run `coroutine` on the loop and wait for its result.

        Args:
            coroutine: The work to do; it runs in the loop's thread.
            timeout: Seconds to wait; `None` waits until it finishes.

        Returns:
            What the coroutine returned.

        Raises:
            Exception: Whatever the coroutine raised.
            TimeoutError: When `timeout` expired (the work is cancelled).
            KeyboardInterrupt: When the wait was interrupted (the work is
                cancelled too, so an interrupted cell leaves nothing behind).
        """
        if self._thread is not None and threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError(
                'BackgroundLoop.run called from its own thread: await instead'
            )
        future = self.submit(coroutine)
        try:
            _wait(future, timeout)
        except (KeyboardInterrupt, TimeoutError):
            future.cancel()
            raise
        return future.result()

    def close(
        self,
        finalizer: abc.Callable[[], abc.Coroutine[typing.Any, typing.Any, None]]
        | None = None,
        timeout: float = 10.0,
    ) -> None:
        """Run `finalizer` on the loop, then stop the loop and join its thread.

        Closing twice, or closing a loop that never started, does nothing.

        Args:
            finalizer: Optional coroutine function run last inside the loop
                (e.g. closing a client created there).
            timeout: Seconds to wait for the finalizer and the thread.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        import asyncio

        try:
            if finalizer is not None:
                asyncio.run_coroutine_threadsafe(finalizer(), loop).result(timeout)
            asyncio.run_coroutine_threadsafe(_cancel_others(), loop).result(timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            if not thread.is_alive():
                loop.close()


def _wait(future: concurrent.futures.Future[typing.Any], timeout: float | None) -> None:
    """Wait for `future` in short slices, so that Ctrl-C is seen promptly.

    A long blocking wait is not always woken by an interrupt (a simulated
    one, or on some platforms); slices of 0.1 s are, at no cost: the wait
    ends as soon as the future is done.
    """
    import concurrent.futures
    import time

    deadline = None if timeout is None else time.monotonic() + timeout
    while not future.done():
        remaining = 0.1 if deadline is None else deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f'no result within {timeout} s')
        concurrent.futures.wait([future], timeout=min(0.1, remaining))


async def _cancel_others() -> None:
    # Work still pending (an interrupted cell's request) ends before the loop.
    import asyncio

    current = asyncio.current_task()
    others = [task for task in asyncio.all_tasks() if task is not current]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)
