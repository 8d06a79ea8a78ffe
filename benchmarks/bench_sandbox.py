"""How many simple requests per second the sandbox answers on this machine.

The sandbox must never be the bottleneck of a client benchmark. This script
measures, in one run and interleaved round by round:

- the sandbox (``imbi-toolkit sandbox --seed demo``) answering ``GET /status``
  (no auth), ``GET /users/me`` (auth and one SQLite read) and ``GET`` of a full
  project document (several reads), driven by a raw asyncio HTTP/1.1 client
  (keep-alive, one connection per worker), the cheapest load generator Python
  has;
- the baseline: the smallest ASGI app (``_raw_server.py``) on the same uvicorn,
  driven by the same raw client;
- httpx (the toolkit's transport) against the sandbox's ``/users/me``, to
  compare the sandbox's capacity with what a client can ask of it.

Each figure is the median of ``--rounds`` rounds; ratios are medians of
per-round ratios. Bounded: ``--requests`` per configuration (default 2000).

    .venv/bin/python benchmarks/bench_sandbox.py [--rounds 5] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time
import typing
from collections import abc

import httpx

from imbi_toolkit.sandbox import _process as process

HERE = pathlib.Path(__file__).parent


class Target(typing.NamedTuple):
    host: str
    port: int
    token: str


def _target(base_url: str, token: str) -> Target:
    url = httpx.URL(base_url)
    assert url.port is not None
    return Target(url.host, url.port, token)


# One load run: requests in total -> requests per second.
Load = abc.Callable[[int], abc.Coroutine[typing.Any, typing.Any, float]]


async def _raw_load(target: Target, path: str, concurrency: int, total: int) -> float:
    """Send ``total`` GETs over ``concurrency`` keep-alive connections; return req/s."""
    request = (
        f'GET {path} HTTP/1.1\r\nHost: {target.host}:{target.port}\r\n'
        f'Authorization: Bearer {target.token}\r\n\r\n'
    ).encode()
    connections = [
        await asyncio.open_connection(target.host, target.port)
        for _ in range(concurrency)
    ]

    async def worker(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: int
    ) -> None:
        for _ in range(count):
            writer.write(request)
            head = await reader.readuntil(b'\r\n\r\n')
            if not head.startswith(b'HTTP/1.1 200'):
                raise RuntimeError(f'{path}: {head[:60]!r}')
            start = head.lower().find(b'content-length:')
            length = int(head[start + 15 : head.find(b'\r\n', start)])
            await reader.readexactly(length)

    def split(count: int) -> list[int]:
        base, extra = divmod(count, concurrency)
        return [base + (1 if k < extra else 0) for k in range(concurrency)]

    warm = [worker(r, w, c) for (r, w), c in zip(connections, split(100), strict=True)]
    await asyncio.gather(*warm)
    started = time.perf_counter()
    timed = [
        worker(r, w, c) for (r, w), c in zip(connections, split(total), strict=True)
    ]
    await asyncio.gather(*timed)
    elapsed = time.perf_counter() - started
    for _, writer in connections:
        writer.close()
    return total / elapsed


async def _httpx_load(target: Target, path: str, concurrency: int, total: int) -> float:
    base = f'http://{target.host}:{target.port}'
    headers = {'authorization': f'Bearer {target.token}'}
    async with httpx.AsyncClient(base_url=base, headers=headers) as client:
        remaining = total + 100

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                (await client.get(path)).raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))  # warm-up
        remaining = total
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - started)


@contextlib.contextmanager
def _baseline() -> abc.Iterator[tuple[str, int]]:
    command = [sys.executable, str(HERE / '_raw_server.py')]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, bufsize=0)
    try:
        assert server.stdout is not None
        line = server.stdout.readline().decode().strip()
        yield line.partition('=')[2], server.pid
    finally:
        server.terminate()
        server.wait(10)


def _pin(pid: int, cpu: int) -> None:
    # One core for the server, the other for this client, when taskset exists.
    if shutil.which('taskset'):
        subprocess.run(
            ['taskset', '-pc', str(cpu), str(pid)], capture_output=True, check=False
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--requests', type=int, default=2000)
    parser.add_argument('--concurrency', type=int, nargs='+', default=[1, 10])
    args = parser.parse_args()
    if not (1 <= args.rounds <= 20 and 100 <= args.requests <= 20000):
        parser.error('keep it bounded: 1-20 rounds of 100-20000 requests')

    with process.start_sandbox(seed='demo') as sandbox, _baseline() as baseline:
        baseline_url, baseline_pid = baseline
        _pin(sandbox.process.pid, 0)
        _pin(baseline_pid, 0)
        _pin(os.getpid(), 1)
        projects = httpx.get(
            sandbox.base_url + '/organizations/engineering/projects/',
            headers={'authorization': f'Bearer {sandbox.token}'},
        ).json()
        project_path = f'/organizations/engineering/projects/{projects[0]["id"]}'
        sandbox_target = _target(sandbox.base_url, sandbox.token)
        baseline_target = _target(baseline_url, 'unused')

        configs: dict[str, Load] = {}
        for c in args.concurrency:
            configs[f'baseline raw-ASGI      c={c}'] = functools.partial(
                _raw_load, baseline_target, '/', c
            )
            configs[f'sandbox GET /status    c={c}'] = functools.partial(
                _raw_load, sandbox_target, '/status', c
            )
            configs[f'sandbox GET /users/me  c={c}'] = functools.partial(
                _raw_load, sandbox_target, '/users/me', c
            )
            configs[f'sandbox GET project    c={c}'] = functools.partial(
                _raw_load, sandbox_target, project_path, c
            )
            configs[f'httpx -> /users/me     c={c}'] = functools.partial(
                _httpx_load, sandbox_target, '/users/me', c
            )
        results: dict[str, list[float]] = {name: [] for name in configs}
        for round_number in range(args.rounds):
            for name, run in configs.items():
                results[name].append(asyncio.run(run(args.requests)))
            print(f'round {round_number + 1}/{args.rounds} done', file=sys.stderr)

    def ratio(runs: list[float], reference: list[float]) -> float:
        return statistics.median(r / b for r, b in zip(runs, reference, strict=True))

    print(f'\n{args.requests} requests x {args.rounds} rounds, interleaved; medians')
    print(f'{"configuration":<28} {"req/s":>7} {"/ baseline":>11} {"/ httpx":>8}')
    for c in args.concurrency:
        baseline_runs = results[f'baseline raw-ASGI      c={c}']
        httpx_runs = results[f'httpx -> /users/me     c={c}']
        for name, runs in results.items():
            if name.endswith(f'c={c}'):
                per_baseline = ratio(runs, baseline_runs)
                per_httpx = ratio(runs, httpx_runs)
                print(
                    f'{name:<28} {statistics.median(runs):>7.0f} '
                    f'{per_baseline:>11.2f} {per_httpx:>8.2f}'
                )
    return 0


if __name__ == '__main__':
    sys.exit(main())
