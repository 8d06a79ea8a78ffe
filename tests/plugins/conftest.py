"""Shared helpers for the plugin tests."""

from __future__ import annotations

import pathlib
import sys
import textwrap
from collections import abc

import pytest

from imbi_toolkit.api import Imbi
from imbi_toolkit.plugins import PluginManager

from ..fakes import FakeImbi


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
def fake_api() -> FakeImbi:
    """The API for the hook layer's edge cases: project P1 of org eng, no releases.

    The end-to-end tests use the sandbox over sockets.
    """
    fake = FakeImbi()
    fake.documents['P1'] = {'id': 'P1', 'name': 'Billing'}
    return fake


@pytest.fixture
async def client(fake_api: FakeImbi) -> abc.AsyncIterator[Imbi]:
    async with Imbi(
        base_url='http://imbi.test',
        token='canary-token-3f9a',
        transport=fake_api.transport(),
    ) as client:
        yield client
