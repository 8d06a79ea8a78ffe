"""Bulk writes: `create_release` against a fast local server, vs plain clients.

The server (`benchmarks/http_server.py` under uvicorn, httptools and uvloop)
runs on one CPU and this client process on the other, so each side has a
core of its own. Every configuration gets a fresh client, 200 warm-up
requests, then N timed POSTs of the same release body from `c` workers that
check the 201 and parse the JSON answer:

- `aiohttp`: a plain `aiohttp.ClientSession` (the baseline of the ratios);
- `httpx`: a plain `httpx.AsyncClient`;
- `httpx + httpx-aiohttp`: httpx with the `httpx_aiohttp` transport (the
  anchor from the performance notes);
- `imbi-toolkit`: `Imbi.create_release`, default backend (httpcore);
- `imbi-toolkit[aiohttp]`: the same with `http_backend='aiohttp'`.

Configurations run interleaved, in a rotated order each round; ratios are
medians of per-round ratios. Client CPU time per request (`process_time`)
is reported too: it is steadier than wall time on a busy machine.

    .venv/bin/python -m benchmarks.bench_http [--n 2000] [--rounds 5] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import io
import json
import pstats
import sys
import time
import typing
import urllib.request
from collections import abc

import aiohttp
import httpx

from benchmarks import common, http_server
from imbi_toolkit.api import Imbi

ORG = 'engineering'
PROJECT = 'V1StGXR8_Z5jdHi6B-myA'
RELEASE = {
    'committish': 'a1b2c3d',
    'title': 'v1.2.3',
    'tag': '1.2.3',
    'description': 'Release 1.2.3 of the service',
    'links': {'ci': 'https://ci.example.com/build/42'},
    'created_by': 'someone@example.com',
}
PATH = f'/organizations/{ORG}/projects/{PROJECT}/releases/'
TOKEN = 'ik_benchmark_token_0123456789'
CONCURRENCY = (1, 10)
BASELINE = 'aiohttp'
GOAL = ('imbi-toolkit[aiohttp]', 10, 0.5)

One = abc.Callable[[], abc.Awaitable[None]]


async def _workers(concurrency: int, count: int, one: One) -> None:
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await one()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _timed(concurrency: int, count: int, one: One) -> tuple[float, float]:
    await _workers(concurrency, 200, one)
    wall, cpu = time.perf_counter(), time.process_time()
    await _workers(concurrency, count, one)
    return time.perf_counter() - wall, time.process_time() - cpu


def _check(status: int) -> None:
    if status != 201:
        raise RuntimeError(f'the server answered {status}, expected 201')


async def run_aiohttp(base: str, concurrency: int, count: int) -> tuple[float, float]:
    async with aiohttp.ClientSession() as session:
        url = base + PATH

        async def one() -> None:
            async with session.post(url, json=RELEASE) as response:
                _check(response.status)
                await response.json()

        return await _timed(concurrency, count, one)


async def _run_httpx(
    client: httpx.AsyncClient, concurrency: int, count: int
) -> tuple[float, float]:
    async with client:

        async def one() -> None:
            response = await client.post(PATH, json=RELEASE)
            _check(response.status_code)
            response.json()

        return await _timed(concurrency, count, one)


async def run_httpx(base: str, concurrency: int, count: int) -> tuple[float, float]:
    return await _run_httpx(httpx.AsyncClient(base_url=base), concurrency, count)


async def run_httpx_aiohttp(
    base: str, concurrency: int, count: int
) -> tuple[float, float]:
    from httpx_aiohttp import AiohttpTransport

    client = httpx.AsyncClient(base_url=base, transport=AiohttpTransport())
    return await _run_httpx(client, concurrency, count)


async def _run_imbi(
    base: str, concurrency: int, count: int, backend: typing.Any
) -> tuple[float, float]:
    async with Imbi(base_url=base, token=TOKEN, http_backend=backend) as client:

        async def one() -> None:
            response = await client.create_release(ORG, PROJECT, RELEASE)
            _check(response.status_code)
            response.json()

        return await _timed(concurrency, count, one)


async def run_imbi(base: str, concurrency: int, count: int) -> tuple[float, float]:
    return await _run_imbi(base, concurrency, count, 'httpcore')


async def run_imbi_aiohttp(
    base: str, concurrency: int, count: int
) -> tuple[float, float]:
    return await _run_imbi(base, concurrency, count, 'aiohttp')


CLIENTS = {
    'aiohttp': run_aiohttp,
    'httpx': run_httpx,
    'httpx + httpx-aiohttp': run_httpx_aiohttp,
    'imbi-toolkit': run_imbi,
    'imbi-toolkit[aiohttp]': run_imbi_aiohttp,
}


def _server_stats(base: str) -> dict[str, int]:
    with urllib.request.urlopen(base + '/stats', timeout=10) as answer:
        return typing.cast(dict[str, int], json.loads(answer.read()))


async def measure(
    base: str, count: int, rounds: int, deadline: float
) -> dict[str, typing.Any]:
    """Run every client at every concurrency, interleaved, ``rounds`` times.

    Rounds stop early (after at least two) once ``deadline`` (a
    `time.monotonic` value) has passed, so the run stays bounded.
    """
    keys = [(name, c) for c in CONCURRENCY for name in CLIENTS]
    rps: dict[str, list[float]] = {f'{n}@{c}': [] for n, c in keys}
    cpu_us: dict[str, list[float]] = {f'{n}@{c}': [] for n, c in keys}
    connections: dict[str, list[int]] = {f'{n}@{c}': [] for n, c in keys}
    done = 0
    for index in range(rounds):
        if index >= 2 and time.monotonic() > deadline:
            break
        done += 1
        shift = index % len(keys)
        for name, concurrency in keys[shift:] + keys[:shift]:
            _server_stats(base)  # reset the server's counters
            wall, cpu = await CLIENTS[name](base, concurrency, count)
            stats = _server_stats(base)
            key = f'{name}@{concurrency}'
            rps[key].append(count / wall)
            cpu_us[key].append(cpu / count * 1e6)
            connections[key].append(stats['connections'])
            print(
                f'  round {index + 1}/{rounds} {key:<26} {count / wall:8.0f} req/s '
                f'{cpu / count * 1e6:7.1f} us CPU/req',
                file=sys.stderr,
                flush=True,
            )
    rows: list[dict[str, typing.Any]] = []
    for concurrency in CONCURRENCY:
        base_key = f'{BASELINE}@{concurrency}'
        for name in CLIENTS:
            key = f'{name}@{concurrency}'
            rows.append(
                {
                    'client': name,
                    'concurrency': concurrency,
                    'median_rps': common.median(rps[key]),
                    'median_cpu_us': common.median(cpu_us[key]),
                    'ratio_vs_aiohttp': common.round_ratios(rps[key], rps[base_key]),
                    'cpu_ratio_vs_aiohttp': common.round_ratios(
                        cpu_us[base_key], cpu_us[key]
                    ),
                    'connections': sorted(set(connections[key])),
                    'rounds_rps': [round(x) for x in rps[key]],
                }
            )
    name, concurrency, goal = GOAL
    ratio = next(
        r['ratio_vs_aiohttp']
        for r in rows
        if r['client'] == name and r['concurrency'] == concurrency
    )
    return {
        'rounds_done': done,
        'rows': rows,
        'goal': {'client': name, 'concurrency': concurrency, 'min_ratio': goal},
        'goal_ratio': ratio,
        'goal_met': ratio >= goal,
    }


# Steps of a request, by function (cumulative time: a step includes what it
# calls). They overlap (the transport runs inside httpx's send).
STEPS = (
    (
        'Imbi.create_release (whole call)',
        'imbi_toolkit/api/_client.py',
        'create_release',
    ),
    ('build_request (lean)', 'imbi_toolkit/api/_lean.py', 'build_request'),
    ('httpx build_request', 'httpx/_client.py', 'build_request'),
    ('  of which URL join (lean)', 'imbi_toolkit/api/_lean.py', '_join'),
    ('send (lean)', 'imbi_toolkit/api/_lean.py', 'send'),
    ('  of which httpx single request', 'httpx/_client.py', '_send_single_request'),
    ('httpx send', 'httpx/_client.py', 'send'),
    (
        '  of which the transport',
        'imbi_toolkit/api/transports.py',
        'handle_async_request',
    ),
    (
        '  of which httpcore',
        'httpcore/_async/connection_pool.py',
        'handle_async_request',
    ),
    ('  of which aiohttp _request', 'aiohttp/client.py', '_request'),
    ('  of which cookies (lean)', 'imbi_toolkit/api/_lean.py', 'extract_cookies'),
    ('response body (aread)', 'httpx/_models.py', 'aread'),
    ('response JSON', 'httpx/_models.py', 'json'),
)


def _steps(
    stats: dict[typing.Any, typing.Any], count: int
) -> list[dict[str, typing.Any]]:
    found = []
    for label, suffix, function in STEPS:
        total = sum(
            cumulative
            for (filename, _, name), (_, _, _, cumulative, _) in stats.items()
            if name == function and filename.endswith(suffix)
        )
        if total:
            found.append({'step': label, 'us_per_request': total / count * 1e6})
    return found


def _group(filename: str) -> str:
    if '/site-packages/' in filename:
        return filename.split('/site-packages/', 1)[1].split('/', 1)[0]
    if '/imbi_toolkit/' in filename:
        return 'imbi_toolkit'
    if filename.startswith('~') or filename.startswith('<'):
        return 'builtins (C)'
    if '/asyncio/' in filename:
        return 'asyncio'
    return 'stdlib (other)'


def profile(base: str, backend: str, count: int) -> dict[str, typing.Any]:
    """cProfile ``count`` `create_release` calls at 10 in flight.

    Returns the share of the profiled time spent in each package (own time;
    C functions are counted apart, as `builtins (C)`) and the functions with
    the most own time.
    """

    async def main() -> None:
        async with Imbi(base_url=base, token=TOKEN, http_backend=backend) as client:  # type: ignore[arg-type]

            async def one() -> None:
                response = await client.create_release(ORG, PROJECT, RELEASE)
                _check(response.status_code)
                response.json()

            await _workers(10, 200, one)
            profiler.enable()
            await _workers(10, count, one)
            profiler.disable()

    profiler = cProfile.Profile()
    asyncio.run(main())
    stats = pstats.Stats(profiler, stream=io.StringIO())
    groups: collections.Counter[str] = collections.Counter()
    functions = []
    total_calls = 0
    for (filename, line, name), (_, calls, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        groups[_group(filename)] += own
        total_calls += calls
        functions.append((own, f'{_short(filename)}:{line}({name})'))
    total = sum(groups.values())
    functions.sort(reverse=True)
    return {
        'backend': backend,
        'steps': _steps(stats.stats, count),  # type: ignore[attr-defined]
        'requests': count,
        'us_per_request_profiled': total / count * 1e6,
        'function_calls_per_request': total_calls / count,
        'share_by_package': {k: v / total for k, v in groups.most_common()},
        'top_functions': [
            {'function': where, 'share': own / total} for own, where in functions[:12]
        ],
    }


def _short(filename: str) -> str:
    for marker in ('/site-packages/', '/lib/python3'):
        if marker in filename:
            return filename.split(marker, 1)[1].lstrip('.0123456789/')
    return (
        filename.rsplit('/imbi_toolkit/', 1)[-1]
        if '/imbi_toolkit/' in filename
        else filename
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--n', type=int, default=2000, help='requests per run')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--profile', action='store_true', help='also profile')
    parser.add_argument(
        '--budget', type=float, default=300.0, help='seconds for the rounds'
    )
    args = parser.parse_args()
    count = max(100, min(args.n, 20000))
    rounds = max(1, min(args.rounds, 20))
    server_cpu, client_cpu = common.split_cpus()
    common.pin(client_cpu)
    with common.uvicorn_server(
        'benchmarks.http_server:app', cpu_set=server_cpu
    ) as base:
        deadline = time.monotonic() + args.budget
        report = asyncio.run(measure(base, count, rounds, deadline))
        if args.profile:
            report['profiles'] = [
                profile(base, backend, count) for backend in ('aiohttp', 'httpcore')
            ]
    report.update(
        requests=count,
        rounds=report['rounds_done'],
        server=common.server_features(),
        server_cpu=sorted(server_cpu) if server_cpu else 'shared',
        client_cpu=sorted(client_cpu) if client_cpu else 'shared',
        release_body_bytes=len(json.dumps(RELEASE)),
        response_body_bytes=len(http_server.RELEASE),
    )
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == '__main__':
    sys.exit(main())
