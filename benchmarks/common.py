"""Helpers shared by the benchmarks: statistics, CPU pinning, servers.

The machine is small and shared, so every benchmark runs its variants
interleaved within each round and reports medians; a ratio is always the
median of the ratios taken within each round, never a ratio of medians from
different runs.
"""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import typing
from collections import abc

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median(values: abc.Iterable[float]) -> float:
    """The median of ``values``."""
    return statistics.median(list(values))


def round_ratios(numerators: list[float], denominators: list[float]) -> float:
    """The median of per-round ratios (both lists hold one value per round)."""
    return median(n / d for n, d in zip(numerators, denominators, strict=True))


def cpus() -> list[int]:
    """The CPUs this process may run on."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def split_cpus() -> tuple[set[int] | None, set[int] | None]:
    """One CPU for a server and another for the client, when there are two."""
    available = cpus()
    if len(available) < 2 or not hasattr(os, 'sched_setaffinity'):
        return None, None
    return {available[0]}, {available[1]}


def pin(cpu_set: set[int] | None, pid: int = 0) -> None:
    """Run process ``pid`` (0: this one) on ``cpu_set`` only."""
    if cpu_set and hasattr(os, 'sched_setaffinity'):
        os.sched_setaffinity(pid, cpu_set)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(('127.0.0.1', port), timeout=0.5),
        ):
            return
        time.sleep(0.05)
    raise RuntimeError(f'nothing listens on 127.0.0.1:{port} after {timeout} s')


@contextlib.contextmanager
def uvicorn_server(app: str, *, cpu_set: set[int] | None = None) -> abc.Iterator[str]:
    """Run ``app`` (`module:attr`) with uvicorn on a free loopback port.

    httptools and uvloop make the server as fast as uvicorn gets, so that
    the clients are what is measured; without them uvicorn's defaults apply.
    """
    port = free_port()
    command = [
        sys.executable, '-m', 'uvicorn', app,
        '--host', '127.0.0.1', '--port', str(port), '--workers', '1',
        '--no-access-log', '--log-level', 'warning', '--lifespan', 'off',
    ]  # fmt: skip
    for module, option in (('httptools', '--http'), ('uvloop', '--loop')):
        with contextlib.suppress(ImportError):
            __import__(module)
            command += [option, module]
    process = subprocess.Popen(command, cwd=REPO, stdin=subprocess.DEVNULL)
    try:
        pin(cpu_set, process.pid)
        wait_for_port(port)
        yield f'http://127.0.0.1:{port}'
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def server_features() -> str:
    """How the benchmark server runs (for the report)."""
    parts = []
    for module in ('httptools', 'uvloop'):
        try:
            __import__(module)
            parts.append(module)
        except ImportError:
            parts.append(f'no {module}')
    return 'uvicorn + ' + ' + '.join(parts)


def versions(*names: str) -> dict[str, str]:
    """Installed versions of the named distributions."""
    import importlib.metadata

    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = 'not installed'
    return found


def machine() -> dict[str, typing.Any]:
    """What the numbers were measured on."""
    model = ''
    with contextlib.suppress(OSError), open('/proc/cpuinfo') as info:
        for line in info:
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    load = os.getloadavg() if hasattr(os, 'getloadavg') else (0.0, 0.0, 0.0)
    return {
        'python': platform.python_version(),
        'platform': platform.platform(),
        'cpu': model or platform.processor(),
        'cpus': os.cpu_count(),
        'load_average': [round(x, 2) for x in load],
    }
