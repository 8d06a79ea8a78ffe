"""A bulk run invokes exactly the hooks that the same single call does.

Against the sandbox over a socket, with the first-party plugins loaded from
their installed distributions' entry points.
"""

from __future__ import annotations

import typing

import pytest

from imbi_toolkit import Toolkit, bulk, hookimpl
from imbi_toolkit.plugins import PluginManager, RefusedError

ORG = 'engineering'


@pytest.fixture
def manager(monkeypatch: pytest.MonkeyPatch) -> PluginManager:
    monkeypatch.delenv('IMBI_TOOLKIT_SEMVER_TAG_FORMATS', raising=False)
    manager = PluginManager(trace=False)
    assert manager.load_entry_points(allow=['semver'], strict=True) == 1
    return manager


async def _projects(client: typing.Any, count: int) -> list[dict[str, typing.Any]]:
    listing = await client.list_projects(ORG, {'slim': 'true'})
    return sorted(listing, key=lambda project: project['slug'])[:count]


def _sent(client: typing.Any) -> list[str]:
    seen: list[str] = []

    async def record(request: typing.Any) -> None:
        seen.append(f'{request.method} {request.url.path}')

    client.event_hooks['request'].append(record)
    return seen


async def test_a_refused_patch_stops_that_project_only(
    client: typing.Any, manager: PluginManager
) -> None:
    first, guarded, third = await _projects(client, 3)

    class Guard:
        @hookimpl
        def imbi_before_project_patch(self, project_id: str) -> None:
            if project_id == guarded['id']:
                raise RefusedError('this project is frozen')

    manager.register(Guard(), name='freeze-guard')
    sent = _sent(client)
    patch = [{'op': 'replace', 'path': '/description', 'value': 'bulk edit'}]
    results = await bulk.run(
        Toolkit(client, plugin_manager=manager),
        bulk.ApplyPatch(patch),
        [bulk.Target(ORG, p['id'], p['slug']) for p in (first, guarded, third)],
        progress=False,
    )

    by_slug = {str(result.target): result for result in results}
    assert by_slug[guarded['slug']].status == 'refused'
    assert "plugin 'freeze-guard' refused" in by_slug[guarded['slug']].detail
    assert 'this project is frozen' in by_slug[guarded['slug']].detail
    assert by_slug[first['slug']].status == by_slug[third['slug']].status == 'ok'
    patched = [line for line in sent if line.startswith('PATCH')]
    assert len(patched) == 2
    assert not any(guarded['id'] in line for line in patched)  # nothing sent
    untouched = await client.get_project(ORG, guarded['id'])
    assert untouched.get('description') != 'bulk edit'
    assert (await client.get_project(ORG, first['id']))['description'] == 'bulk edit'


async def test_a_normalising_plugin_acts_in_bulk_as_in_a_single_call(
    client: typing.Any, manager: PluginManager
) -> None:
    single, *many = await _projects(client, 3)
    body = {'committish': 'A1B2C3D4E5F6A7B8', 'tag': 'v9.1.0'}
    toolkit = Toolkit(client, plugin_manager=manager)

    alone = await toolkit.create_release(ORG, single['id'], body)
    results = await bulk.run(
        toolkit,
        bulk.CreateRelease(body),
        [(ORG, project['id']) for project in many],
        progress=False,
    )

    assert [result.status for result in results] == ['ok', 'ok']
    for project in many:
        release = await client.find_release(ORG, project['id'], tag='v9.1.0')
        assert release is not None
        # semver normalised the committish and derived the title, as it did
        # for the single call.
        assert release['committish'] == alone['committish'] == 'a1b2c3d'
        assert release['title'] == alone['title'] != 'v9.1.0'


async def test_a_refused_release_in_bulk_names_the_plugin(
    client: typing.Any, manager: PluginManager
) -> None:
    (project,) = await _projects(client, 1)
    sent = _sent(client)
    results = await bulk.run(
        Toolkit(client, plugin_manager=manager),
        bulk.CreateRelease({'committish': 'a1b2c3d', 'tag': 'not-a-version'}),
        [(ORG, project['id'])],
        progress=False,
    )
    (result,) = results
    assert result.status == 'refused'
    assert "plugin 'semver' refused" in result.detail
    assert not any(line.startswith('POST') for line in sent)
