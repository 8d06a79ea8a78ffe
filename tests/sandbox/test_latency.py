"""`DelayLine`: the sandbox's latency sleeps end on time, in order, never early."""

from __future__ import annotations

import asyncio
import time

import pytest

from imbi_toolkit.sandbox._latency import DelayLine


async def test_a_sleep_lasts_at_least_its_delay() -> None:
    delays = DelayLine()
    started = time.monotonic()
    await delays.sleep(0.05)
    assert time.monotonic() - started >= 0.05


async def test_sleepers_wake_in_the_order_of_their_deadlines() -> None:
    delays = DelayLine()
    woken: list[float] = []

    async def sleeper(seconds: float) -> None:
        await delays.sleep(seconds)
        woken.append(seconds)

    await asyncio.gather(*(sleeper(s) for s in (0.06, 0.0, 0.02, 0.04)))
    assert woken == [0.0, 0.02, 0.04, 0.06]


async def test_a_cancelled_sleep_leaves_the_others_alone() -> None:
    delays = DelayLine()
    errors: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, c: errors.append(c))
    doomed = asyncio.create_task(delays.sleep(0.05))
    await asyncio.sleep(0.01)
    doomed.cancel()
    await delays.sleep(0.08)  # past the cancelled deadline
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert errors == []


def test_one_delay_line_serves_successive_event_loops() -> None:
    delays = DelayLine()
    for _ in range(2):
        asyncio.run(delays.sleep(0.01))
