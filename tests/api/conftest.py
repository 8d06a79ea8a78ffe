"""Helpers for unit tests of the client's edge cases with httpx.MockTransport."""

from __future__ import annotations

import dataclasses
import json
import typing
from collections import abc

import httpx
import pytest

from imbi_toolkit.api import Imbi

Responder = abc.Callable[[httpx.Request], httpx.Response]


def pytest_configure(config: pytest.Config) -> None:
    # `make pytest-plain` runs tests/api with the httpx shortcuts off
    # (IMBI_TOOLKIT_LEAN=0) and deselects these: they check the shortcuts'
    # own effects, which plain httpx does not have.
    config.addinivalue_line(
        'markers', 'lean: checks an effect of the httpx shortcuts themselves'
    )


@dataclasses.dataclass
class Recorder:
    """A MockTransport handler that records requests and replays responses."""

    responder: Responder = lambda request: httpx.Response(200, json={})
    requests: list[httpx.Request] = dataclasses.field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responder(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def last_json(self) -> typing.Any:
        return json.loads(self.last.content)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(recorder: Recorder) -> abc.AsyncIterator[Imbi]:
    async with Imbi(
        base_url='http://imbi.test/api',
        token='t0ken',
        transport=httpx.MockTransport(recorder),
    ) as imbi:
        yield imbi
