"""Latency hiding: 1,000 patches through the bulk runner at 10 in flight.

The sandbox (`imbi-toolkit sandbox --latency-ms 20`) answers every API
request 20 ms late, so 1,000 patches at 10 in flight take at least
1,000 / 10 x 20 ms = 2.0 s: the ideal. The time over the ideal is what the
client, the bulk runner and the sandbox spend. Goal: at most 1.15x.

The demo seed has a few dozen projects; the benchmark copies one of them
1,000 times into a fresh SQLite database (through the sandbox's own seed
and store modules, on tmpfs where there is one) and starts the sandbox on
it. The sandbox runs on one
CPU, this process on the other. Both HTTP backends run, interleaved, in
each round; each run patches every project's description once.

    .venv/bin/python -m benchmarks.bench_bulk [--projects 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import random
import sys
import tempfile
import time
import typing

import httpx

from benchmarks import common
from imbi_toolkit import bulk
from imbi_toolkit.api import Imbi
from imbi_toolkit.sandbox import _ids as ids
from imbi_toolkit.sandbox import _seed as seed
from imbi_toolkit.sandbox import _store as store
from imbi_toolkit.sandbox._process import start_sandbox

LATENCY_MS = 20
CONCURRENCY = 10
GOAL = 1.15
BACKENDS = ('httpcore', 'aiohttp')


def make_database(path: str, count: int) -> list[tuple[str, str]]:
    """Write the demo seed plus ``count`` copies of a project; return targets."""
    data = seed.build('demo')
    rng = random.Random(8)
    template = next(p for p in data['projects'] if not p['archived'])
    team = next(t for t in data['teams'] if t['id'] == template['team_id'])
    org = next(o for o in data['organizations'] if o['id'] == team['organization_id'])
    types = [
        r for r in data['project_project_types'] if r['project_id'] == template['id']
    ]
    targets = []
    for index in range(count):
        project = copy.deepcopy(template)
        project['id'] = ids.nanoid(rng)
        project['slug'] = f'{template["slug"]}-{index:04d}'
        project['name'] = f'{template["name"]} {index:04d}'
        data['projects'].append(project)
        for row in types:
            data['project_project_types'].append({**row, 'project_id': project['id']})
        targets.append((str(org['slug']), str(project['id'])))
    database = store.Store(path)
    try:
        database.load(data)
    finally:
        database.close()
    return targets


class _TimedImbi(Imbi):
    """`Imbi` that notes how long each request takes, answer read."""

    round_trips: list[float]

    async def send(
        self, request: httpx.Request, **kwargs: typing.Any
    ) -> httpx.Response:
        start = time.perf_counter()
        try:
            return await super().send(request, **kwargs)
        finally:
            self.round_trips.append(time.perf_counter() - start)


async def one_run(
    base_url: str,
    token: str,
    server_pid: int,
    backend: str,
    targets: list[tuple[str, str]],
    tag: str,
) -> dict[str, typing.Any]:
    patch = bulk.ApplyPatch([{'op': 'replace', 'path': '/description', 'value': tag}])
    client = _TimedImbi(base_url=base_url, token=token, http_backend=backend)  # type: ignore[arg-type]
    client.round_trips = []
    async with client:
        server_cpu = _cpu_seconds(server_pid)
        start, cpu = time.perf_counter(), time.process_time()
        results = await bulk.run(
            client, patch, targets, concurrency=CONCURRENCY, progress=False
        )
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        server_cpu = _cpu_seconds(server_pid) - server_cpu
    counts = results.counts()
    if counts.get('ok', 0) != len(targets):
        raise RuntimeError(f'not every patch succeeded: {counts}')
    trips = sorted(client.round_trips)
    return {
        'seconds': elapsed,
        'round_trip_ms_p50': trips[len(trips) // 2] * 1000,
        'round_trip_ms_p90': trips[len(trips) * 9 // 10] * 1000,
        'counts': counts,
        'client_cpu_us': cpu / len(targets) * 1e6,
        'server_cpu_us': server_cpu / len(targets) * 1e6,
    }


def _cpu_seconds(pid: int) -> float:
    """CPU time used so far by process ``pid`` (0.0 where /proc is absent)."""
    try:
        with open(f'/proc/{pid}/stat') as stat:
            fields = stat.read().rsplit(')', 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat(5), 12 and 13 after ')'.
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--projects', type=int, default=1000)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--budget', type=float, default=120.0, help='seconds')
    args = parser.parse_args()
    count = max(10, min(args.projects, 5000))
    rounds = max(1, min(args.rounds, 10))
    ideal = count / CONCURRENCY * LATENCY_MS / 1000
    server_cpu, client_cpu = common.split_cpus()
    seconds: dict[str, list[float]] = {backend: [] for backend in BACKENDS}
    client_us: dict[str, list[float]] = {backend: [] for backend in BACKENDS}
    server_us: dict[str, list[float]] = {backend: [] for backend in BACKENDS}
    trip_p50: dict[str, list[float]] = {backend: [] for backend in BACKENDS}
    trip_p90: dict[str, list[float]] = {backend: [] for backend in BACKENDS}
    # On tmpfs when there is one: SQLite's flush per write must not stand in
    # for network latency (the sandbox's store works in its event loop).
    scratch = '/dev/shm' if os.path.isdir('/dev/shm') else None
    with tempfile.TemporaryDirectory(prefix='imbi-bench-', dir=scratch) as folder:
        path = os.path.join(folder, 'sandbox.db')
        targets = make_database(path, count)
        sandbox = start_sandbox(db_path=path, latency_ms=LATENCY_MS)
        try:
            common.pin(server_cpu, sandbox.process.pid)
            common.pin(client_cpu)
            deadline = time.monotonic() + args.budget
            for index in range(rounds):
                if index >= 1 and time.monotonic() > deadline:
                    break
                order = BACKENDS if index % 2 == 0 else BACKENDS[::-1]
                for backend in order:
                    outcome = asyncio.run(
                        one_run(
                            sandbox.base_url,
                            sandbox.token,
                            sandbox.process.pid,
                            backend,
                            targets,
                            f'bench round {index} {backend}',
                        )
                    )
                    seconds[backend].append(outcome['seconds'])
                    client_us[backend].append(outcome['client_cpu_us'])
                    server_us[backend].append(outcome['server_cpu_us'])
                    trip_p50[backend].append(outcome['round_trip_ms_p50'])
                    trip_p90[backend].append(outcome['round_trip_ms_p90'])
                    print(
                        f'  round {index + 1}/{rounds} {backend:<9} '
                        f'{outcome["seconds"]:.3f} s, round trip p50 '
                        f'{outcome["round_trip_ms_p50"]:.1f} ms, CPU us/patch: client '
                        f'{outcome["client_cpu_us"]:.0f}, sandbox '
                        f'{outcome["server_cpu_us"]:.0f}',
                        file=sys.stderr,
                        flush=True,
                    )
        finally:
            sandbox.stop()
    rows = [
        {
            'backend': backend,
            'median_s': common.median(values),
            'ratio_vs_ideal': common.median(values) / ideal,
            'rounds_s': [round(v, 3) for v in values],
            'client_cpu_us_per_patch': common.median(client_us[backend]),
            'server_cpu_us_per_patch': common.median(server_us[backend]),
            'round_trip_ms_p50': common.median(trip_p50[backend]),
            'round_trip_ms_p90': common.median(trip_p90[backend]),
        }
        for backend, values in seconds.items()
    ]
    report = {
        'patches': count,
        'concurrency': CONCURRENCY,
        'latency_ms': LATENCY_MS,
        'ideal_s': ideal,
        'rows': rows,
        'goal_max_ratio': GOAL,
        'goal_met': {r['backend']: r['ratio_vs_ideal'] <= GOAL for r in rows},
        'rounds': len(seconds[BACKENDS[0]]),
        'server_cpu': sorted(server_cpu) if server_cpu else 'shared',
        'client_cpu': sorted(client_cpu) if client_cpu else 'shared',
    }
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == '__main__':
    sys.exit(main())
