"""Shared helpers of the reliability tests."""

from __future__ import annotations

import dataclasses
import json
import socketserver
import threading
import typing
from collections import abc

import httpx
import pytest

from imbi_toolkit.api import retries

# Short delays keep the retry tests fast; the logic is the same.
FAST = retries.RetryPolicy(backoff=0.001, max_backoff=0.01, max_retry_after=0.05)

Step = httpx.Response | Exception | abc.Callable[[httpx.Request], httpx.Response]


@dataclasses.dataclass
class Script:
    """A MockTransport handler that plays responses (or raises) in order.

    The last step repeats once the script runs out.
    """

    steps: list[Step]
    requests: list[httpx.Request] = dataclasses.field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return httpx.Response(
                step.status_code, headers=step.headers, content=step.content
            )
        return step(request)

    def bodies(self) -> list[typing.Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


# -- figures of the fault-injection suite -----------------------------------


@dataclasses.dataclass
class Figures:
    """What the fault suite did, printed at the end of the session."""

    tried: int = 0
    survived: int = 0
    duplicates: int = 0
    leaks: int = 0


FIGURES = Figures()


def pytest_configure(config: typing.Any) -> None:
    config.addinivalue_line(
        'markers', 'fault: a fault-injection case, counted in the reliability figures'
    )


def pytest_runtest_logreport(report: typing.Any) -> None:
    if report.when == 'call' and 'fault' in report.keywords:
        FIGURES.tried += 1
        if report.passed:
            FIGURES.survived += 1


def pytest_terminal_summary(terminalreporter: typing.Any) -> None:
    if not FIGURES.tried:
        return
    terminalreporter.write_sep('-', 'reliability: fault injection against the sandbox')
    terminalreporter.write_line(
        f'faults tried: {FIGURES.tried}, survived: {FIGURES.survived}, '
        f'duplicates: {FIGURES.duplicates}, leaks: {FIGURES.leaks}'
    )


class CaptureServer(socketserver.ThreadingTCPServer):
    """A loopback HTTP server that keeps each request's head and answers ``[]``.

    It stands for whatever should, or should not, receive our requests: an HTTP
    proxy, or another host a redirect points at.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.received: list[bytes] = []
        super().__init__(('127.0.0.1', 0), _CaptureHandler)


class _CaptureHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        data = b''
        while b'\r\n\r\n' not in data:
            chunk = self.request.recv(65536)
            if not chunk:
                break
            data += chunk
        typing.cast(CaptureServer, self.server).received.append(data)
        self.wfile.write(
            b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]'
        )


@pytest.fixture
def capture_server() -> abc.Iterator[CaptureServer]:
    server = CaptureServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
