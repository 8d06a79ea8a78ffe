"""The background loop: one thread, one loop, usable from a running loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from imbi_toolkit.magics._loop import BackgroundLoop, LoopClosedError


def test_runs_coroutines_in_its_own_thread() -> None:
    loop = BackgroundLoop()
    try:

        async def where() -> str:
            return threading.current_thread().name

        assert loop.run(where()) == 'imbi-toolkit-loop'
        first = loop.thread
        assert loop.run(where()) == 'imbi-toolkit-loop'
        assert loop.thread is first  # one thread for every call
    finally:
        loop.close()
    assert not loop.running


async def test_works_while_an_event_loop_is_running() -> None:
    # Under ipykernel the main thread's loop is always running: the magics
    # must not call asyncio.run there.
    asyncio.get_running_loop()
    loop = BackgroundLoop()
    try:
        assert loop.run(asyncio.sleep(0, result=42)) == 42
    finally:
        loop.close()


def test_errors_propagate_to_the_caller() -> None:
    loop = BackgroundLoop()

    async def fail() -> None:
        raise LookupError('nope')

    try:
        with pytest.raises(LookupError, match='nope'):
            loop.run(fail())
    finally:
        loop.close()


def test_close_runs_the_finalizer_and_cancels_pending_work() -> None:
    loop = BackgroundLoop()
    finalized = []
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def finalizer() -> None:
        finalized.append(True)

    loop.submit(forever())
    loop.close(finalizer)
    assert finalized == [True]
    assert cancelled.is_set()
    assert not loop.running
    loop.close()  # closing twice is harmless


def test_a_closed_loop_refuses_work_without_leaking_a_coroutine() -> None:
    loop = BackgroundLoop()
    loop.close()  # never started: nothing to stop
    coroutine = asyncio.sleep(0)
    with pytest.raises(LoopClosedError):
        loop.run(coroutine)
    assert coroutine.cr_frame is None  # closed, so no "never awaited" warning


def test_a_timeout_cancels_the_work() -> None:
    loop = BackgroundLoop()
    try:
        with pytest.raises(TimeoutError):
            loop.run(asyncio.sleep(5), timeout=0.05)
        assert loop.run(asyncio.sleep(0, result='still usable')) == 'still usable'
    finally:
        loop.close()


def test_an_interrupted_wait_cancels_the_work() -> None:
    # Ctrl-C in a cell interrupts the wait in the main thread; the request
    # running on the background loop must not carry on unobserved.
    import _thread

    loop = BackgroundLoop()
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    timer = threading.Timer(0.2, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            loop.run(slow())
        assert cancelled.wait(5)
        assert loop.run(asyncio.sleep(0, result='usable')) == 'usable'
    finally:
        timer.cancel()
        loop.close()
