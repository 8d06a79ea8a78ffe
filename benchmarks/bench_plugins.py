"""The plugin layer's cost: a release through `Toolkit` with 10 no-op plugins.

Compared with the bare client doing the same work (`create_release`, raise
on an error status, parse the JSON), one request at a time, variants
interleaved within each round. Two measurements:

- over loopback, against the fast local server: client CPU time per request
  (steadier than wall time, which is reported too);
- in process, with a transport that answers at once: the same variants
  without the network, which isolates the layer's own CPU cost far below the
  loopback noise.

The headline ratio is (bare loopback request + the layer's added CPU in
process) / bare loopback request, both medians of the same run. Goal: at
most 1.02 (2 %).

    .venv/bin/python -m benchmarks.bench_plugins [--n 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import typing

import httpx

from benchmarks import common, http_server
from benchmarks.bench_http import ORG, PROJECT, RELEASE, TOKEN
from imbi_toolkit import hookimpl
from imbi_toolkit.api import Imbi, errors
from imbi_toolkit.plugins import PluginManager, Toolkit

GOAL = 1.02
PLUGINS = 10


class NoOp:
    """A plugin that implements the release hooks and does nothing."""

    @hookimpl
    def imbi_before_release_create(
        self, org_slug: str, project_id: str, body: dict[str, typing.Any]
    ) -> None:
        return None

    @hookimpl
    def imbi_after_release_create(
        self, release: dict[str, typing.Any], created: bool
    ) -> None:
        return None


def _manager(count: int) -> PluginManager:
    manager = PluginManager(trace=False)
    for index in range(count):
        manager.register(NoOp(), name=f'noop-{index}')
    return manager


class Instant(httpx.AsyncBaseTransport):
    """Answers every request at once with the fast server's release."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            201,
            headers=[(b'content-type', b'application/json')],
            stream=httpx.ByteStream(http_server.RELEASE),
        )


async def _measure(base: str, variant: str, count: int) -> tuple[float, float]:
    transport = Instant() if base == 'in-process' else None
    url = 'http://imbi.invalid' if transport else base
    async with Imbi(base_url=url, token=TOKEN, transport=transport) as client:
        if variant == 'bare client':

            async def one() -> None:
                response = await client.create_release(ORG, PROJECT, RELEASE)
                errors.raise_for_status(response)
                response.json()

        else:
            plugins = PLUGINS if variant.startswith('10') else 0
            toolkit = Toolkit(client, plugin_manager=_manager(plugins))

            async def one() -> None:
                await toolkit.create_release(ORG, PROJECT, RELEASE)

        for _ in range(200):
            await one()
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            await one()
        return time.perf_counter() - wall, time.process_time() - cpu


VARIANTS = ('bare client', 'Toolkit, 0 plugins', '10 no-op plugins')


def _interleaved(
    base: str, count: int, rounds: int, deadline: float
) -> dict[str, dict[str, list[float]]]:
    cpu: dict[str, list[float]] = {v: [] for v in VARIANTS}
    wall: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for index in range(rounds):
        if index >= 2 and time.monotonic() > deadline:
            break
        shift = index % len(VARIANTS)
        for variant in VARIANTS[shift:] + VARIANTS[:shift]:
            seconds, cpu_seconds = asyncio.run(_measure(base, variant, count))
            wall[variant].append(seconds / count * 1e6)
            cpu[variant].append(cpu_seconds / count * 1e6)
    return {'cpu': cpu, 'wall': wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--n', type=int, default=2000)
    parser.add_argument('--rounds', type=int, default=7)
    parser.add_argument('--budget', type=float, default=120.0, help='seconds')
    args = parser.parse_args()
    count = max(100, min(args.n, 20000))
    rounds = max(1, min(args.rounds, 30))
    server_cpu, client_cpu = common.split_cpus()
    common.pin(client_cpu)
    with common.uvicorn_server(
        'benchmarks.http_server:app', cpu_set=server_cpu
    ) as base:
        half = time.monotonic() + args.budget * 0.7
        loopback = _interleaved(base, count, rounds, half)
    rounds = len(loopback['cpu']['bare client'])
    in_process = _interleaved('in-process', count * 2, rounds, float('inf'))
    bare = 'bare client'
    bare_cpu = common.median(loopback['cpu'][bare])
    rows: list[dict[str, typing.Any]] = []
    for variant in VARIANTS:
        added = common.median(
            a - b
            for a, b in zip(
                in_process['cpu'][variant], in_process['cpu'][bare], strict=True
            )
        )
        rows.append(
            {
                'variant': variant,
                'loopback_cpu_us': common.median(loopback['cpu'][variant]),
                'loopback_cpu_ratio': common.round_ratios(
                    loopback['cpu'][variant], loopback['cpu'][bare]
                ),
                'loopback_wall_ratio': common.round_ratios(
                    loopback['wall'][variant], loopback['wall'][bare]
                ),
                'in_process_cpu_us': common.median(in_process['cpu'][variant]),
                'added_cpu_us': added,
                'ratio': (bare_cpu + added) / bare_cpu,
            }
        )
    ratio = rows[-1]['ratio']
    report = {
        'requests': count,
        'rounds': rounds,
        'plugins': PLUGINS,
        'rows': rows,
        'goal_max_ratio': GOAL,
        'goal_met': ratio <= GOAL,
    }
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == '__main__':
    sys.exit(main())
