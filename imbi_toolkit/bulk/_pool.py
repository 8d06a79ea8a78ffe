"""A few workers that each take the next item: bounded concurrency, in order."""

from __future__ import annotations

import asyncio
import typing
from collections import abc

T = typing.TypeVar('T')


async def each(
    items: abc.Sequence[T],
    work: abc.Callable[[int, T], abc.Awaitable[None]],
    concurrency: int,
) -> None:
    """Call `work(index, item)` for every item, at most `concurrency` at once.

    The workers take the next item as soon as they are done with one: no
    task per item, and no hand-over through the event loop between one
    request and the next. An exception stops every worker and is raised.
    """
    pending = iter(enumerate(items))

    async def worker() -> None:
        for index, item in pending:
            await work(index, item)

    workers = [
        asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(items)))
    ]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for task in workers:  # gather leaves the others running
            task.cancel()
        raise
