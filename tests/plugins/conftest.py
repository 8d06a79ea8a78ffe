"""Shared helpers for the plugin tests."""

from __future__ import annotations

import json
import pathlib
import re
import sys
import textwrap
from collections import abc

import httpx
import pytest

from imbi_toolkit.api import Imbi
from imbi_toolkit.plugins import PluginManager

PROJECT = '/organizations/eng/projects/P1'


class FakeApi:
    """An in-memory stand-in for the four bookkeeping endpoints.

    Only for unit tests of the hook layer's edge cases (through
    `httpx.MockTransport`); the end-to-end tests use the sandbox over sockets.
    """

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.releases: list[dict[str, object]] = []
        self.identities: dict[str, str] = {}
        self.fail_status: int | None = None

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail_status is not None:
            return httpx.Response(self.fail_status, json={'detail': 'nope'})
        path = request.url.path
        if path == '/users/by-identity':
            email = self.identities.get(request.url.params['subject'])
            if email is None:
                return httpx.Response(404, json={'detail': 'No user matches'})
            return httpx.Response(200, json={'email': email})
        if path == f'{PROJECT}/releases/' and request.method == 'POST':
            body = json.loads(request.content)
            for release in self.releases:
                if (release['committish'], release['tag'] or '') == (
                    body['committish'],
                    body.get('tag') or '',
                ):
                    return httpx.Response(409, json={'detail': 'already exists'})
            release = {'id': f'R{len(self.releases)}', 'tag': None, **body}
            self.releases.insert(0, release)
            return httpx.Response(201, json=release)
        if path == f'{PROJECT}/releases/' and request.method == 'GET':
            params = request.url.params
            found = [
                r
                for r in self.releases
                if all(
                    r.get(k) == params[k] for k in ('committish', 'tag') if k in params
                )
            ]
            return httpx.Response(200, json=found)
        match = re.fullmatch(rf'{PROJECT}/releases/([^/]+)/environments/([^/]+)', path)
        if match and request.method == 'POST':
            if not any(r['id'] == match[1] for r in self.releases):
                return httpx.Response(404, json={'detail': 'Release not found'})
            body = json.loads(request.content)
            return httpx.Response(
                200,
                json={
                    'environment': {'slug': match[2], 'name': match[2]},
                    'deployments': [body],
                    'current_status': body['status'],
                },
            )
        if path == PROJECT and request.method == 'PATCH':
            return httpx.Response(
                200, json={'id': 'P1', 'applied': json.loads(request.content)}
            )
        return httpx.Response(404, json={'detail': f'no route {path}'})

    def sent(self, method: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method]


@pytest.fixture
def manager() -> PluginManager:
    """A manager with no plugins loaded, so each test chooses its own."""
    return PluginManager(trace=False)


@pytest.fixture
def install_distribution(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> abc.Iterator[abc.Callable[..., pathlib.Path]]:
    """Install a distribution (dist-info and modules) into a directory on sys.path.

    This is what pip writes for a wheel; `importlib.metadata` finds it like any
    other installed distribution.
    """
    site = tmp_path / 'site-packages'
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    imported: list[str] = []

    def install(
        name: str,
        entry_points: dict[str, str],
        modules: dict[str, str],
        version: str = '1.0.0',
    ) -> pathlib.Path:
        for module, source in modules.items():
            (site / f'{module}.py').write_text(textwrap.dedent(source))
            imported.append(module)
        dist_info = site / f'{name.replace("-", "_")}-{version}.dist-info'
        dist_info.mkdir()
        (dist_info / 'METADATA').write_text(
            f'Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n'
        )
        lines = ['[imbi_toolkit]'] + [f'{k} = {v}' for k, v in entry_points.items()]
        (dist_info / 'entry_points.txt').write_text('\n'.join(lines) + '\n')
        return site

    yield install
    for module in imported:  # the next test may reuse the module's name
        sys.modules.pop(module, None)


@pytest.fixture
def fake_api() -> FakeApi:
    return FakeApi()


@pytest.fixture
async def client(fake_api: FakeApi) -> abc.AsyncIterator[Imbi]:
    async with Imbi(
        base_url='http://imbi.test',
        token='canary-token-3f9a',
        transport=fake_api.transport(),
    ) as client:
        yield client
