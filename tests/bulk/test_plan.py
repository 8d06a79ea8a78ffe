"""Plan a change, review it, save and reload it, apply exactly that; undo.

Against the sandbox over a socket.
"""

from __future__ import annotations

import json
import pathlib
import typing

import pytest

from imbi_toolkit import Toolkit, bulk, hookimpl
from imbi_toolkit.api import errors
from imbi_toolkit.bulk._plan import _copy
from imbi_toolkit.operations import History, NotUndoableError
from imbi_toolkit.plugins import PluginManager

ORG = 'engineering'
TEXT = 'Owned by the platform team'


@pytest.fixture
def toolkit(client: typing.Any) -> Toolkit:
    return Toolkit(client, plugin_manager=PluginManager(), history=History())


async def _projects(client: typing.Any, count: int) -> list[dict[str, typing.Any]]:
    listing = await client.list_projects(ORG, {'slim': 'true'})
    return sorted(listing, key=lambda project: project['slug'])[:count]


def _patches_sent(client: typing.Any) -> list[tuple[str, list[typing.Any]]]:
    sent: list[tuple[str, list[typing.Any]]] = []

    async def record(request: typing.Any) -> None:
        if request.method == 'PATCH':
            sent.append(
                (request.url.path.rsplit('/', 1)[-1], json.loads(request.content))
            )

    client.event_hooks['request'].append(record)
    return sent


def describe(project: dict[str, typing.Any]) -> None:
    project['description'] = TEXT


async def test_a_saved_plan_is_applied_exactly_as_shown(
    client: typing.Any, toolkit: Toolkit, tmp_path: pathlib.Path
) -> None:
    projects = await _projects(client, 4)
    done = projects[0]
    await toolkit.patch_project(
        ORG, done['id'], [{'op': 'replace', 'path': '/description', 'value': TEXT}]
    )

    planned = await bulk.plan(
        toolkit,
        describe,
        [(ORG, p['id']) for p in projects],
        description='describe owners',
        progress=False,
    )
    assert planned.counts() == {'change': 3, 'unchanged': 1, 'refused': 0, 'failed': 0}
    assert [str(change.target) for change in planned] == [p['slug'] for p in projects]
    text = str(planned)
    assert 'describe owners' in text and projects[1]['slug'] in text
    assert '<table class="imbi-plan"' in planned._repr_html_()
    for change in planned.changes:
        # Guarded: the current description is expected before it is replaced.
        assert '/description' in change.expects
        assert {'op': 'replace', 'path': '/description', 'value': TEXT} in change.patch

    path = planned.save(tmp_path / 'owners.plan.json')
    saved = json.loads(path.read_text())
    assert saved['counts']['change'] == 3
    assert saved['projects'][1]['patch'] == planned[1].patch
    reloaded = bulk.Plan.load(path)
    assert reloaded.fingerprint() == planned.fingerprint()

    sent = _patches_sent(client)
    results = await bulk.apply(
        toolkit, reloaded, journal=tmp_path / 'owners.jsonl', progress=False
    )
    assert [result.status for result in results] == ['ok', 'ok', 'ok']
    # Exactly the reviewed patches, one per project (in any order: 10 in flight).
    assert sorted(sent) == sorted(
        (change.target.project_id, change.patch) for change in planned.changes
    )
    for project in projects:
        assert (await client.get_project(ORG, project['id']))['description'] == TEXT

    # The same plan again, with the same journal: nothing is sent twice.
    again = await bulk.apply(
        toolkit, reloaded, journal=tmp_path / 'owners.jsonl', progress=False
    )
    assert [result.status for result in again] == ['skipped'] * 3


async def test_a_project_changed_since_planning_is_refused_not_overwritten(
    client: typing.Any, toolkit: Toolkit
) -> None:
    first, second = await _projects(client, 2)
    planned = await bulk.plan(
        toolkit, describe, [(ORG, first['id']), (ORG, second['id'])], progress=False
    )
    # Somebody else edits the second project after the review.
    await toolkit.patch_project(
        ORG, second['id'], [{'op': 'replace', 'path': '/description', 'value': 'mine'}]
    )
    results = await bulk.apply(toolkit, planned, progress=False)
    assert [result.status for result in results] == ['ok', 'conflict']
    assert 'changed since it was planned' in results[1].detail
    assert (await client.get_project(ORG, second['id']))['description'] == 'mine'


async def test_an_edited_plan_file_is_refused(
    client: typing.Any, toolkit: Toolkit, tmp_path: pathlib.Path
) -> None:
    (project,) = await _projects(client, 1)
    path = (
        await bulk.plan(toolkit, describe, [(ORG, project['id'])], progress=False)
    ).save(tmp_path / 'p.json')
    data = json.loads(path.read_text())
    data['projects'][0]['patch'][-1]['value'] = 'something else'
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match='edited after planning'):
        bulk.Plan.load(path)


async def test_a_plan_shows_what_the_plugins_made_of_it_and_refusals(
    client: typing.Any, tmp_path: pathlib.Path
) -> None:
    first, frozen = await _projects(client, 2)

    class Policy:
        @hookimpl
        def imbi_before_project_patch(
            self, project_id: str, patch: list[dict[str, typing.Any]]
        ) -> list[dict[str, typing.Any]]:
            if project_id == frozen['id']:
                from imbi_toolkit.plugins import RefusedError

                raise RefusedError('frozen')
            return [*patch, {'op': 'replace', 'path': '/name', 'value': 'Renamed'}]

    manager = PluginManager()
    manager.register(Policy(), name='policy')
    toolkit = Toolkit(client, plugin_manager=manager)
    planned = await bulk.plan(
        toolkit, describe, [(ORG, first['id']), (ORG, frozen['id'])], progress=False
    )
    assert [change.status for change in planned] == ['change', 'refused']
    assert "plugin 'policy' refused" in planned[1].note
    assert planned[0].patch[-1] == {
        'op': 'replace',
        'path': '/name',
        'value': 'Renamed',
    }

    # At apply time the plugin changes its mind: the patch is not sent.
    manager.unregister(name='policy')

    class Changed:
        @hookimpl
        def imbi_before_project_patch(
            self, patch: list[dict[str, typing.Any]]
        ) -> list[dict[str, typing.Any]]:
            return patch[:-1]

    manager.register(Changed(), name='changed')
    results = await bulk.apply(toolkit, planned, progress=False)
    assert results[0].status == 'refused'
    assert 'plan it again' in results[0].detail
    assert (await client.get_project(ORG, first['id']))['description'] != TEXT


async def test_undo_restores_the_project_and_is_guarded(
    client: typing.Any, toolkit: Toolkit
) -> None:
    (project,) = await _projects(client, 1)
    before = await client.get_project(ORG, project['id'])
    await toolkit.patch_project(
        ORG,
        project['id'],
        [
            {'op': 'replace', 'path': '/description', 'value': TEXT},
            {'op': 'add', 'path': '/links/runbook', 'value': 'https://run.example/b'},
        ],
        label=project['slug'],
    )
    assert toolkit.history is not None and len(toolkit.history) == 1
    assert 'patch (2 ops)' in str(toolkit.history)

    await toolkit.undo()
    after_undo = await client.get_project(ORG, project['id'])
    assert after_undo['description'] == before['description']
    assert after_undo['links'] == before['links']
    assert toolkit.history[-1].undoes == 1

    # Undo the undo, then change the project: undoing again is refused.
    await toolkit.undo(2)
    await toolkit.patch_project(
        ORG, project['id'], [{'op': 'replace', 'path': '/description', 'value': 'x'}]
    )
    with pytest.raises(errors.UnprocessableEntityError) as caught:
        await toolkit.undo(3)
    assert caught.value.test_failed
    assert (await client.get_project(ORG, project['id']))['description'] == 'x'


async def test_releases_and_deployments_say_they_cannot_be_undone(
    client: typing.Any, toolkit: Toolkit
) -> None:
    (project,) = await _projects(client, 1)
    await toolkit.create_release(
        ORG, project['id'], {'committish': 'a1b2c3d', 'tag': '7.7.7'}
    )
    await toolkit.record_deployment(
        ORG, project['id'], 'staging', {'status': 'success'}, tag='7.7.7'
    )
    with pytest.raises(NotUndoableError, match='release cannot be taken back'):
        await toolkit.undo(1)
    with pytest.raises(NotUndoableError, match='deployment event cannot be taken back'):
        await toolkit.undo(2)
    with pytest.raises(NotUndoableError, match='no write #9'):
        await toolkit.undo(9)


def test_an_edit_gets_a_copy_of_every_container() -> None:
    class Mapping(dict[str, typing.Any]):
        pass

    document = {
        'links': Mapping(a=[1, {'b': 2.5}]),
        'tuple': ([1],),
        'flags': [True, None, 'x', 3],
    }
    copied = _copy(document)
    assert copied == document
    assert type(copied['links']) is dict  # a plain dict, like the JSON
    assert copied['links'] is not document['links']
    assert copied['links']['a'][1] is not document['links']['a'][1]
    assert copied['tuple'][0] is not document['tuple'][0]
    assert copied['flags'] is not document['flags']
