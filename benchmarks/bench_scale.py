"""Scale: plan and apply one change to 10,000 projects at 20 ms latency.

The sandbox generates an organisation of N projects
(`imbi-toolkit sandbox --projects N --response-time-ms 20`, its SQLite file
on tmpfs where there is one) and answers every API request 20 ms after it
arrived: a server with a 20 ms response time, which is what the ideal time
(N x 20 ms / 10) assumes. Its own handling (0.4-1.3 ms of Python per
request, more while its event loop is busy) is part of the 20 ms rather than
added to them, so what the figures show beyond the ideal is mostly the
client's cost (a raw-socket client that only sends and reads gets about
1.05x: the sandbox answering late while busy). (`--latency-ms 20`, a
network's delay added after handling, charged the sandbox's time to the
client: 1.21x for apply and 1.18x for the GET sweep alone in the same
session.) This process, on the
other CPU, then runs in each round, with the default HTTP backend and 10 in
flight:

1. *fetch*: GET every project (`Imbi.get_project`), nothing else: the
   reading that planning cannot avoid;
2. *plan*: `bulk.plan` of an edit of every project (a new description and a
   `runbook` link, through an edit function): GET, patchable document,
   copy, edit, guarded diff, plugins' `prepare_patch`;
3. *apply*: `bulk.apply` of that plan with a journal on disk (not tmpfs:
   its fsyncs are part of what is measured).

Figures, medians over the rounds:

- apply wall time / ideal (N x 20 ms / 10; goal <= 1.10x);
- planning CPU beyond fetching: process CPU time of step 2 minus that of
  step 1, both over the same N projects and the same connections (goal
  <= 2 s for 10,000). Both steps do the same requests, so the difference is
  what planning adds: copy, edit, diff, validation, plugins, bookkeeping;
- the journal's share of the run: the time the journal takes from the
  workers over their time: time in journal calls made in the event loop's
  thread (writing a line, and an fsync done there) stops all 10 workers, so
  it counts in full against the apply's wall time; time a worker awaits
  its `started` line reaching the disk (the group commit, fsync in a
  thread) stops that worker only, so it counts against 10 x the wall
  time; goal <= 2%;
- peak memory: the client process's RSS high-water mark
  (`getrusage(RUSAGE_SELF).ru_maxrss`, with the plan and its results in
  memory; goal <= 200 MB).

    .venv/bin/python -m benchmarks.bench_scale [--projects 10000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
import typing

from benchmarks import common
from benchmarks.bench_bulk import _cpu_seconds
from imbi_toolkit import bulk
from imbi_toolkit.bulk import _journal as journal
from imbi_toolkit.bulk import _pool
from imbi_toolkit.bulk import _runner as runner
from imbi_toolkit.operations import Toolkit
from imbi_toolkit.sandbox._process import start_sandbox

ORG = 'engineering'
LATENCY_MS = 20
CONCURRENCY = 10
GOAL_APPLY = 1.10
GOAL_MEMORY_MB = 200.0
GOAL_PLAN_CPU_S = 2.0  # for 10,000 projects
GOAL_JOURNAL_SHARE = 0.02


class _TimedJournal(journal.Journal):
    """A journal that adds up the time its callers spend in it."""

    # In the event loop's thread: every worker waits while it runs.
    blocking = 0.0
    # Awaited (the group commit): only the worker whose line it is waits.
    waiting = 0.0
    # CPU time of the event loop's thread in journal calls.
    cpu = 0.0

    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        start = time.perf_counter()
        super().__init__(*args, **kwargs)
        _TimedJournal.blocking += time.perf_counter() - start

    def _timed(
        self, method: typing.Any, *args: typing.Any, **kwargs: typing.Any
    ) -> typing.Any:
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return method(*args, **kwargs)
        finally:
            _TimedJournal.blocking += time.perf_counter() - start
            _TimedJournal.cpu += time.thread_time() - cpu

    def started(self, key: str, data: dict[str, typing.Any]) -> None:
        self._timed(super().started, key, data)

    def write_started(self, key: str, data: dict[str, typing.Any]) -> int:
        return typing.cast(int, self._timed(super().write_started, key, data))

    def result(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        self._timed(super().result, *args, **kwargs)

    def close(self) -> None:
        self._timed(super().close)

    async def commit(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        # The group commit, where the journal has one: a worker waits here
        # until its `started` line is on disk.
        start = time.perf_counter()
        try:
            await super().commit(*args, **kwargs)
        finally:
            _TimedJournal.waiting += time.perf_counter() - start


def _edit(tag: str) -> typing.Callable[[dict[str, typing.Any]], None]:
    def edit(project: dict[str, typing.Any]) -> None:
        project['description'] = f'{project["slug"]}: {tag}'
        project['links']['runbook'] = (
            f'https://runbooks.example.com/{tag}/{project["slug"]}'
        )

    return edit


async def one_round(
    base_url: str,
    token: str,
    server_pid: int,
    targets: list[tuple[str, str]],
    tag: str,
    folder: str,
) -> dict[str, float]:
    from imbi_toolkit.api import Imbi

    count = len(targets)
    async with Imbi(base_url=base_url, token=token) as client:
        toolkit = Toolkit(client)

        async def fetch(_: int, target: tuple[str, str]) -> None:
            await client.get_project(*target)

        server = _cpu_seconds(server_pid)
        start, cpu = time.perf_counter(), time.process_time()
        await _pool.each(targets, fetch, CONCURRENCY)
        fetch_s, fetch_cpu = time.perf_counter() - start, time.process_time() - cpu
        fetch_server, server = (
            _cpu_seconds(server_pid) - server,
            _cpu_seconds(server_pid),
        )

        start, cpu = time.perf_counter(), time.process_time()
        plan = await bulk.plan(
            toolkit, _edit(tag), targets, concurrency=CONCURRENCY, progress=False
        )
        plan_s, plan_cpu = time.perf_counter() - start, time.process_time() - cpu
        plan_server = _cpu_seconds(server_pid) - server
        if plan.counts()['change'] != count:
            raise RuntimeError(
                f'the plan does not change every project: {plan.summary()}'
            )

        path = os.path.join(folder, f'{tag}.journal')
        _TimedJournal.blocking = _TimedJournal.waiting = _TimedJournal.cpu = 0.0
        server = _cpu_seconds(server_pid)
        start, cpu = time.perf_counter(), time.process_time()
        results = await bulk.apply(
            toolkit, plan, journal=path, concurrency=CONCURRENCY, progress=False
        )
        apply_s, apply_cpu = time.perf_counter() - start, time.process_time() - cpu
        apply_server = _cpu_seconds(server_pid) - server
        counts = results.counts()
        if counts.get('ok', 0) != count:
            raise RuntimeError(f'not every planned patch was applied: {counts}')
        journal_bytes = os.path.getsize(path)  # noqa: ASYNC240 - once, timed out
        os.unlink(path)
    return {
        'fetch_s': fetch_s,
        'fetch_cpu_s': fetch_cpu,
        'plan_s': plan_s,
        'plan_cpu_s': plan_cpu,
        'plan_cpu_beyond_fetch_s': plan_cpu - fetch_cpu,
        'apply_s': apply_s,
        'apply_cpu_s': apply_cpu,
        'fetch_server_cpu_s': fetch_server,
        'plan_server_cpu_s': plan_server,
        'apply_server_cpu_s': apply_server,
        'journal_blocking_s': _TimedJournal.blocking,
        'journal_waiting_s': _TimedJournal.waiting,
        'journal_cpu_s': _TimedJournal.cpu,
        # Blocking time stops all the workers; a wait stops one of them.
        'journal_share': _TimedJournal.blocking / apply_s
        + _TimedJournal.waiting / (CONCURRENCY * apply_s),
        'journal_bytes': journal_bytes,
    }


def _targets(base_url: str, token: str) -> list[tuple[str, str]]:
    from imbi_toolkit.api import Imbi

    async def listed() -> list[tuple[str, str]]:
        async with Imbi(base_url=base_url, token=token, timeout=120) as client:
            projects = await client.list_projects(
                ORG, {'slim': 'true', 'include_archived': 'true'}
            )
        return [(ORG, str(project['id'])) for project in projects]

    return asyncio.run(listed())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--projects', type=int, default=10_000)
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--budget', type=float, default=300.0, help='seconds')
    args = parser.parse_args()
    count = max(100, min(args.projects, 20_000))
    rounds = max(1, min(args.rounds, 5))
    ideal = count * LATENCY_MS / 1000 / CONCURRENCY
    server_cpu, client_cpu = common.split_cpus()
    # The runner builds its journal itself: time the calls made to it.
    runner.Journal = _TimedJournal  # type: ignore[attr-defined]
    scratch = '/dev/shm' if os.path.isdir('/dev/shm') else None
    measured: list[dict[str, float]] = []
    with (
        tempfile.TemporaryDirectory(prefix='imbi-bench-', dir=scratch) as db_folder,
        tempfile.TemporaryDirectory(prefix='imbi-bench-journal-') as journal_folder,
    ):
        start = time.perf_counter()
        sandbox = start_sandbox(
            projects=count,
            response_time_ms=LATENCY_MS,
            db_path=os.path.join(db_folder, 'sandbox.db'),
            timeout=120,
        )
        seed_s = time.perf_counter() - start
        api_version = sandbox.api_version
        try:
            common.pin(server_cpu, sandbox.process.pid)
            common.pin(client_cpu)
            targets = _targets(sandbox.base_url, sandbox.token)
            if len(targets) != count:
                raise RuntimeError(
                    f'the sandbox has {len(targets)} projects, not {count}'
                )
            deadline = time.monotonic() + args.budget
            last = 0.0
            for index in range(rounds):
                # Another round only when one as long as the last still fits.
                if index >= 1 and time.monotonic() + last > deadline:
                    break
                began = time.monotonic()
                outcome = asyncio.run(
                    one_round(
                        sandbox.base_url,
                        sandbox.token,
                        sandbox.process.pid,
                        targets,
                        f'round-{index}',
                        journal_folder,
                    )
                )
                measured.append(outcome)
                last = time.monotonic() - began
                steps = ', '.join(
                    f'{step} {outcome[step + "_s"]:.2f} s '
                    f'({outcome[step + "_cpu_s"]:.2f} s CPU, sandbox '
                    f'{outcome[step + "_server_cpu_s"]:.2f} s)'
                    for step in ('fetch', 'plan', 'apply')
                )
                print(
                    f'  round {index + 1}/{rounds}: {steps}, journal '
                    f'{outcome["journal_share"]:.2%}',
                    file=sys.stderr,
                    flush=True,
                )
        finally:
            sandbox.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def med(name: str) -> float:
        return common.median(row[name] for row in measured)

    plan_goal = GOAL_PLAN_CPU_S * count / 10_000
    report = {
        'projects': count,
        'concurrency': CONCURRENCY,
        'response_time_ms': LATENCY_MS,
        'backend': 'httpcore (default)',
        'api_version': api_version,
        'ideal_s': ideal,
        'rounds': len(measured),
        'seed_and_start_s': seed_s,
        'fetch_s': med('fetch_s'),
        'fetch_ratio_vs_ideal': med('fetch_s') / ideal,
        'fetch_cpu_s': med('fetch_cpu_s'),
        'plan_s': med('plan_s'),
        'plan_cpu_s': med('plan_cpu_s'),
        'plan_cpu_beyond_fetch_s': med('plan_cpu_beyond_fetch_s'),
        'plan_cpu_beyond_fetch_us_per_project': med('plan_cpu_beyond_fetch_s')
        / count
        * 1e6,
        'apply_s': med('apply_s'),
        'apply_ratio_vs_ideal': med('apply_s') / ideal,
        'apply_cpu_s': med('apply_cpu_s'),
        'fetch_server_cpu_s': med('fetch_server_cpu_s'),
        'plan_server_cpu_s': med('plan_server_cpu_s'),
        'apply_server_cpu_s': med('apply_server_cpu_s'),
        'journal_blocking_s': med('journal_blocking_s'),
        'journal_waiting_s': med('journal_waiting_s'),
        'journal_cpu_s': med('journal_cpu_s'),
        'journal_share': med('journal_share'),
        'journal_bytes': med('journal_bytes'),
        'peak_rss_mb': peak_mb,
        'rounds_detail': [{k: round(v, 4) for k, v in row.items()} for row in measured],
        'goals': {
            'apply_max_ratio': GOAL_APPLY,
            'plan_cpu_beyond_fetch_max_s': plan_goal,
            'journal_max_share': GOAL_JOURNAL_SHARE,
            'peak_rss_max_mb': GOAL_MEMORY_MB,
        },
        'goal_met': {
            'apply': med('apply_s') / ideal <= GOAL_APPLY,
            'plan_cpu': med('plan_cpu_beyond_fetch_s') <= plan_goal,
            'journal': med('journal_share') <= GOAL_JOURNAL_SHARE,
            'memory': peak_mb <= GOAL_MEMORY_MB,
        },
        'server_cpu': sorted(server_cpu) if server_cpu else 'shared',
        'client_cpu': sorted(client_cpu) if client_cpu else 'shared',
    }
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == '__main__':
    sys.exit(main())
