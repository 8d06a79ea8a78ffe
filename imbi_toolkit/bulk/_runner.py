"""Apply one operation to many projects, bounded, resumable, with progress."""

from __future__ import annotations

import dataclasses
import logging
import os
import typing
import warnings
from collections import abc

from imbi_toolkit.api import errors
from imbi_toolkit.api._client import Imbi
from imbi_toolkit.bulk import _pool
from imbi_toolkit.bulk._journal import Journal
from imbi_toolkit.bulk._operations import Operation
from imbi_toolkit.bulk._results import Result, Results, Target
from imbi_toolkit.operations import Toolkit

LOGGER = logging.getLogger(__name__)

# httpx's pool degrades above about 10 requests in flight
# (measured in docs/speed.md#the-aiohttp-backend), so a run never has more
# than this by default.
DEFAULT_CONCURRENCY = 10

# How far ahead of the workers (in projects, per worker) `started` lines are
# journaled for operations that allow it (`Operation.journal_ahead`): their
# fsync then runs while the requests before them are in flight, instead of
# in front of each request. The lines are written a window at a time when
# fewer than a window are left, so one fsync covers a window of projects
# (one per project kept an fsync running all the time, and its thread
# took CPU from the event loop). After a crash, these projects are checked
# on the server before anything is sent for them.
_AHEAD_PER_WORKER = 2

TargetLike = Target | tuple[str, str] | tuple[str, str, str]


def _target(value: TargetLike) -> Target:
    if isinstance(value, Target):
        return value
    if isinstance(value, tuple) and len(value) in (2, 3):
        return Target(*(str(part) for part in value))
    raise TypeError(
        f'a target is a Target or an (org_slug, project_id) tuple, not {value!r}'
    )


def targets_of(values: abc.Iterable[TargetLike]) -> list[Target]:
    """The targets as `Target`s, each project once.

    Raises:
        TypeError: When a value is neither a `Target` nor a tuple.
        ValueError: When a project is listed twice.
    """
    projects = [_target(value) for value in values]
    seen: set[str] = set()
    for project in projects:
        if project.key in seen:
            raise ValueError(f'project {project.key} is listed twice')
        seen.add(project.key)
    return projects


class _Targeted(typing.Protocol):
    @property
    def target(self) -> Target: ...


_T = typing.TypeVar('_T', bound=_Targeted)


async def named_by_slug(toolkit: Toolkit, items: list[_T]) -> list[_T]:
    """The items (results, planned changes), their projects named by slug.

    One slim listing per organization whose targets came without a label; a
    listing that fails leaves the ids, which name the projects well enough.
    """
    orgs = {item.target.org_slug for item in items if item.target.label is None}
    slugs: dict[tuple[str, str], str] = {}
    for org in sorted(orgs):
        try:
            by_id = await toolkit.project_slugs(org)
        except errors.ImbiError:
            continue
        slugs.update(((org, project_id), slug) for project_id, slug in by_id.items())
    if not slugs:
        return items
    return [
        typing.cast(
            _T,
            dataclasses.replace(
                typing.cast(typing.Any, item),
                target=dataclasses.replace(
                    item.target, label=slugs[item.target.key_pair]
                ),
            ),
        )
        if item.target.label is None and item.target.key_pair in slugs
        else item
        for item in items
    ]


async def _labelled(toolkit: Toolkit, results: list[Result]) -> list[Result]:
    """The results, named by slug after the run, if the server answered at all."""
    if not any(r.http_status is not None or r.status == 'ok' for r in results):
        return results
    return await named_by_slug(toolkit, results)


async def run(
    client: Imbi | Toolkit,
    operation: Operation,
    targets: abc.Iterable[TargetLike],
    *,
    journal: str | os.PathLike[str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool = True,
) -> Results:
    """Apply ``operation`` to every target and report what happened to each.

    A failure on one project does not stop the others. With a journal, a
    rerun (after a crash, Ctrl-C or failures) skips the projects already
    done, checks the writes that were in flight, and applies the rest: run
    the same call again with the same journal until everything is ok.

    Args:
        client: The client (`Imbi.from_settings(...)` retries safely), or
            the `Toolkit` around it: every write goes through the toolkit's
            hooks and rules, exactly as the same single call would.
        operation: An `ApplyPatch`, `CreateRelease` or `RecordDeployment`.
        targets: The projects, as `Target`s or `(org_slug, project_id)`.
        journal: Path of the journal file (JSON lines), created if missing.
            Use one journal per operation.
        concurrency: How many projects are worked on at once (1 to 10 is
            best: httpx slows down above about 10 requests in flight).
        progress: Show a progress bar (a widget in Jupyter).

    Returns:
        The results, in the order of the targets.

    Raises:
        ValueError: When a target repeats or concurrency is below 1.
        JournalError: When the journal belongs to another operation, or
            another run is using it (the message names its process).
    """
    if concurrency < 1:
        raise ValueError('concurrency must be at least 1')
    toolkit = client if isinstance(client, Toolkit) else Toolkit(client)
    projects = targets_of(targets)
    book = Journal(journal, operation.fingerprint()) if journal is not None else None
    bar = progress_bar(len(projects), operation.describe(), enabled=progress)
    counts: dict[str, int] = {}
    results: list[Result | None] = [None] * len(projects)
    # Projects whose `started` line was written ahead: key -> its position.
    ahead: dict[str, int] = {}
    scanned = 0  # projects considered for writing ahead so far

    def write_ahead(book: Journal, upto: int) -> None:
        nonlocal scanned
        wrote = False
        while scanned < min(upto, len(projects)):
            project = projects[scanned]
            scanned += 1
            entry = book.entry(project.key)
            # Only a project with nothing to skip or check: the rest go the
            # long way, through `_apply_one`'s look at the journal.
            if (
                entry.status is None
                and not entry.in_doubt
                and operation.journal_ahead(project)
            ):
                ahead[project.key] = book.write_started(project.key, {})
                wrote = True
        if wrote:
            book.commit_soon()

    window = _AHEAD_PER_WORKER * concurrency

    async def work(index: int, project: Target) -> None:
        if book is not None and scanned <= index + window:
            write_ahead(book, index + 1 + 2 * window)
        result = await _apply_one(toolkit, operation, project, book, ahead)
        if book is not None and result.status != 'skipped':
            # Not waited for: the next commit makes it durable, and until
            # then the `started` line keeps the project in doubt.
            book.result(
                project.key,
                result.status,
                result.detail,
                result.http_status,
                in_doubt=result.in_doubt,
                durable=False,
            )
        counts[result.status] = counts.get(result.status, 0) + 1
        if progress:  # tqdm formats the postfix even for a disabled bar
            bar.set_postfix(counts, refresh=False)
            bar.update(1)
        results[index] = result

    try:
        await _pool.each(projects, work, concurrency)
    finally:
        bar.close()
        if book is not None:
            book.close()
    outcome = Results(
        await _labelled(toolkit, typing.cast(list[Result], results)),
        operation.describe(),
    )
    LOGGER.info('Bulk %s', outcome.summary())
    return outcome


async def _apply_one(
    toolkit: Toolkit,
    operation: Operation,
    project: Target,
    book: Journal | None,
    ahead: dict[str, int],
) -> Result:
    # A line written ahead makes the project look in flight; it was checked
    # (nothing done, nothing in doubt) before the line was written.
    written = ahead.get(project.key)
    entry = book.entry(project.key) if book is not None and written is None else None
    if entry is not None and entry.status == 'ok':
        return Result(project, 'skipped', 'done in an earlier run')
    if entry is not None and entry.in_doubt:
        # An earlier run stopped, or lost the answer, while this write was
        # in flight (or its journal line was cut by a crash): find out
        # whether it happened before writing again.
        try:
            settled = await operation.reconcile(toolkit, project, entry.started or {})
        except errors.ImbiError as error:
            return Result(
                project,
                'failed',
                f'could not check the interrupted earlier attempt: {error}',
                in_doubt=True,
            )
        if settled is not None:
            return settled

    async def started(data: dict[str, typing.Any]) -> None:
        if book is not None:
            position = ahead.pop(project.key, None)
            if position is None or data:
                position = book.write_started(project.key, data)
            # On disk before the write is sent; shares its fsync with the
            # lines the other workers wrote meanwhile.
            await book.commit(position)

    try:
        return await operation.apply(toolkit, project, started)
    except ValueError as error:  # a bad path value of this one project
        return Result(project, 'failed', str(error))


class _Bar(typing.Protocol):
    def update(self, n: int = 1) -> object: ...

    def set_postfix(self, ordered_dict: dict[str, int], refresh: bool) -> None: ...

    def close(self) -> None: ...


def progress_bar(total: int, description: str, *, enabled: bool) -> _Bar:
    # Imported on use (no stubs are installed). tqdm.auto picks a widget in
    # Jupyter; without ipywidgets it warns and draws a text bar, which is
    # what we want anyway, so the warning is not shown.
    from tqdm.std import TqdmWarning  # type: ignore[import-untyped]

    with warnings.catch_warnings():
        warnings.simplefilter('ignore', TqdmWarning)
        from tqdm.auto import tqdm  # type: ignore[import-untyped]

    return typing.cast(
        _Bar,
        tqdm(total=total, desc=description, unit='project', disable=not enabled),
    )
