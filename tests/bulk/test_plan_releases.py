"""Plan releases and deployments of many projects, review, save, apply exactly.

Against the sandbox over a socket, on the default line (2.41: an existing
release answers 200; events de-duplicated by run id) and on 2.16 (409 keyed
on commit and tag; every event POST appends).
"""

from __future__ import annotations

import json
import pathlib
import typing

import pytest

from imbi_toolkit import Toolkit, bulk, hookimpl
from imbi_toolkit.plugins import PluginManager, RefusedError

ORG = 'engineering'
TAG = 'v1.2.3'
COMMIT = 'abc1234'
OTHER = 'fff0000'

both_lines = pytest.mark.parametrize('imbi_api_version', ['2.41', '2.16'])


@pytest.fixture
def toolkit(client: typing.Any) -> Toolkit:
    return Toolkit(client, plugin_manager=PluginManager())


async def _projects(client: typing.Any, count: int) -> list[dict[str, typing.Any]]:
    listing = await client.list_projects(ORG, {'slim': 'true'})
    return sorted(listing, key=lambda project: project['slug'])[:count]


def _posts(client: typing.Any, marker: str) -> list[tuple[str, dict[str, typing.Any]]]:
    """The (project id, body) of every POST whose path contains ``marker``."""
    sent: list[tuple[str, dict[str, typing.Any]]] = []

    async def record(request: typing.Any) -> None:
        path = request.url.path
        if request.method == 'POST' and marker in path:
            project_id = path.split('/projects/', 1)[1].split('/', 1)[0]
            sent.append((project_id, json.loads(request.content)))

    client.event_hooks['request'].append(record)
    return sent


async def _releases(client: typing.Any, project_id: str) -> list[tuple[str, str]]:
    found = await client.list_releases(ORG, project_id, tag=TAG)
    return sorted((str(r['tag']), str(r['committish'])) for r in found)


@both_lines
async def test_a_release_plan_is_reviewed_saved_and_applied_exactly(
    client: typing.Any, toolkit: Toolkit, tmp_path: pathlib.Path, imbi_api_version: str
) -> None:
    done, fresh, raced, same, other = await _projects(client, 5)
    await client.create_release(
        ORG, done['id'], {'tag': TAG, 'committish': COMMIT, 'title': TAG}
    )
    await client.create_release(
        ORG, other['id'], {'tag': TAG, 'committish': OTHER, 'title': TAG}
    )

    planned = await bulk.plan(
        toolkit,
        bulk.CreateRelease({'tag': TAG, 'committish': COMMIT, 'description': 'notes'}),
        [(ORG, p['id']) for p in (done, fresh, raced, same, other)],
        progress=False,
    )
    assert planned.counts() == {'change': 3, 'unchanged': 1, 'refused': 0, 'failed': 1}
    assert [c.status for c in planned] == [
        'unchanged',
        'change',
        'change',
        'change',
        'failed',
    ]
    # Named by slug although the targets were bare ids.
    assert [str(c.target) for c in planned] == [
        p['slug'] for p in (done, fresh, raced, same, other)
    ]
    assert 'already there' in planned[0].note
    assert OTHER in planned[4].note and COMMIT in planned[4].note
    body = {'tag': TAG, 'committish': COMMIT, 'description': 'notes', 'title': TAG}
    for change in planned.changes:
        assert change.kind == 'release'
        assert change.request == body  # the title the toolkit derives, shown
        assert change.expects == {'release': None}

    text = str(planned)
    assert f'Plan release {TAG}: 3 to change, 1 unchanged, 1 failed' in text
    assert f'create release {TAG} ({COMMIT})' in text
    assert f'no release {TAG} yet' in text
    markdown = planned._repr_markdown_()
    assert '| project | status | operations | expects | note |' in markdown
    page = planned._repr_html_()
    assert '<table class="imbi-plan"' in page and 'var(--jp-' in page
    assert '<th style="' in page and '>expects</th>' in page

    path = planned.save(tmp_path / 'release.plan.json')
    saved = json.loads(path.read_text())
    assert saved['version'] == 2
    assert saved['projects'][1] == {
        'org_slug': ORG,
        'project_id': fresh['id'],
        'label': fresh['slug'],
        'kind': 'release',
        'status': 'change',
        'expects': {'release': None},
        'release': body,
    }
    reloaded = bulk.Plan.load(path)
    assert reloaded.fingerprint() == planned.fingerprint()
    assert [c.request for c in reloaded] == [c.request for c in planned]

    # After the review, somebody tags another commit in one project and the
    # same commit in another.
    await client.create_release(
        ORG, raced['id'], {'tag': TAG, 'committish': OTHER, 'title': 'theirs'}
    )
    await client.create_release(
        ORG, same['id'], {'tag': TAG, 'committish': COMMIT, 'title': 'theirs'}
    )
    sent = _posts(client, '/releases/')
    results = await bulk.apply(
        toolkit, reloaded, journal=tmp_path / 'release.jsonl', progress=False
    )
    assert [r.status for r in results] == ['ok', 'conflict', 'ok']
    assert 'created' in results[0].detail
    assert 'changed since it was planned' in results[1].detail
    assert OTHER in results[1].detail and COMMIT in results[1].detail
    assert 'already there' in results[2].detail
    # Exactly the planned body went out for the new release.
    assert (fresh['id'], body) in sent
    if imbi_api_version == '2.16':
        # The server would have made a second release of the tag: not sent.
        assert raced['id'] not in [project_id for project_id, _ in sent]
    created = await client.find_release(ORG, fresh['id'], tag=TAG)
    assert created is not None
    assert (created['title'], created['description']) == (TAG, 'notes')
    assert await _releases(client, raced['id']) == [(TAG, OTHER)]  # untouched
    theirs = await client.find_release(ORG, same['id'], tag=TAG)
    assert theirs is not None and theirs['title'] == 'theirs'

    again = await bulk.apply(
        toolkit, reloaded, journal=tmp_path / 'release.jsonl', progress=False
    )
    assert [r.status for r in again] == ['skipped', 'conflict', 'skipped']


@both_lines
async def test_a_deployment_plan_sends_one_event_each_and_refuses_a_raced_edge(
    client: typing.Any, toolkit: Toolkit, tmp_path: pathlib.Path
) -> None:
    first, raced, third, missing = await _projects(client, 4)
    for project in (first, raced, third):
        await toolkit.create_release(
            ORG, project['id'], {'tag': TAG, 'committish': COMMIT}
        )

    planned = await bulk.plan(
        toolkit,
        bulk.RecordDeployment('production', status='success', tag=TAG, note='rollout'),
        [(ORG, p['id'], p['slug']) for p in (first, raced, third, missing)],
        progress=False,
    )
    assert [c.status for c in planned] == ['change', 'change', 'change', 'failed']
    assert 'create the release first' in planned[3].note
    assert 'plan the release' in planned[3].note
    release_id = (await client.find_release(ORG, first['id'], tag=TAG))['id']
    assert planned[0].request == {
        'env_slug': 'production',
        'release_id': release_id,
        'tag': TAG,
        'event': {'status': 'success', 'note': 'rollout'},
    }
    assert planned[0].expects == {'events': 0}
    text = str(planned)
    assert f'deploy {TAG} to production (success)' in text
    assert '0 events in production' in text

    path = planned.save(tmp_path / 'deploy.plan.json')
    reloaded = bulk.Plan.load(path)
    assert json.loads(path.read_text())['projects'][0]['deployment'] == (
        planned[0].request
    )

    # Somebody deploys one project after the review.
    await toolkit.record_deployment(
        ORG, raced['id'], 'production', {'status': 'success'}, tag=TAG
    )
    sent = _posts(client, '/environments/')
    results = await bulk.apply(
        toolkit, reloaded, journal=tmp_path / 'deploy.jsonl', progress=False
    )
    assert [r.status for r in results] == ['ok', 'conflict', 'ok']
    assert 'deployed since it was planned' in results[1].detail
    assert 'expected 0' in results[1].detail
    assert sorted(sent) == sorted(
        (p['id'], {'status': 'success', 'note': 'rollout'}) for p in (first, third)
    )
    counts = []
    for project in (first, raced, third):
        rid = (await client.find_release(ORG, project['id'], tag=TAG))['id']
        counts.append(
            await toolkit.deployment_count(ORG, project['id'], rid, 'production')
        )
    assert counts == [1, 1, 1]  # one each: no second event on the raced edge

    again = await bulk.apply(
        toolkit, reloaded, journal=tmp_path / 'deploy.jsonl', progress=False
    )
    assert [r.status for r in again] == ['skipped', 'conflict', 'skipped']


@pytest.mark.parametrize(
    ('imbi_api_version', 'statuses'),
    [
        ('2.41', ['unchanged', 'change']),
        ('2.30', ['unchanged', 'change']),
        # Before 2.18 a run id is not kept: the same POST is another event.
        ('2.16', ['change', 'change']),
        ('2.11', ['change', 'change']),
    ],
)
async def test_a_run_already_recorded_is_unchanged_where_the_server_keeps_run_ids(
    client: typing.Any, toolkit: Toolkit, statuses: list[str]
) -> None:
    recorded, fresh = await _projects(client, 2)
    for project in (recorded, fresh):
        await toolkit.create_release(
            ORG, project['id'], {'tag': TAG, 'committish': COMMIT}
        )
    event = {'status': 'success', 'external_run_id': 'run-7'}
    await toolkit.record_deployment(ORG, recorded['id'], 'staging', event, tag=TAG)
    planned = await bulk.plan(
        toolkit,
        bulk.RecordDeployment(
            'staging', status='success', tag=TAG, external_run_id='run-7'
        ),
        [(ORG, recorded['id']), (ORG, fresh['id'])],
        progress=False,
    )
    assert [c.status for c in planned] == statuses
    if statuses[0] == 'unchanged':
        assert 'run run-7 is already recorded in staging' in planned[0].note
    else:
        assert planned[0].expects == {'events': 1}


async def test_an_edited_release_or_deployment_plan_file_is_refused(
    client: typing.Any, toolkit: Toolkit, tmp_path: pathlib.Path
) -> None:
    first, second = await _projects(client, 2)
    await toolkit.create_release(ORG, second['id'], {'tag': TAG, 'committish': COMMIT})
    release = (
        await bulk.plan(
            toolkit,
            bulk.CreateRelease({'tag': TAG, 'committish': COMMIT}),
            [(ORG, first['id'])],
            progress=False,
        )
    ).save(tmp_path / 'release.json')
    data = json.loads(release.read_text())
    data['projects'][0]['release']['committish'] = OTHER
    release.write_text(json.dumps(data))
    with pytest.raises(ValueError, match='edited after planning'):
        bulk.Plan.load(release)

    deployment = (
        await bulk.plan(
            toolkit,
            bulk.RecordDeployment('production', status='success', tag=TAG),
            [(ORG, second['id'])],
            progress=False,
        )
    ).save(tmp_path / 'deployment.json')
    data = json.loads(deployment.read_text())
    data['projects'][0]['expects']['events'] = 3  # to get past the guard
    deployment.write_text(json.dumps(data))
    with pytest.raises(ValueError, match='edited after planning'):
        bulk.Plan.load(deployment)

    data['projects'][0]['kind'] = 'launch'
    deployment.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="unknown plan kind 'launch'"):
        bulk.Plan.load(deployment)


async def test_a_version_1_patch_plan_still_loads(
    client: typing.Any, toolkit: Toolkit, tmp_path: pathlib.Path
) -> None:
    (project,) = await _projects(client, 1)
    planned = await bulk.plan(
        toolkit,
        [{'op': 'replace', 'path': '/description', 'value': 'v1'}],
        [(ORG, project['id'])],
        progress=False,
    )
    data = planned.to_json()
    data['version'] = 1
    for item in data['projects']:
        del item['kind']  # version 1 had no kinds
    path = tmp_path / 'old.plan.json'
    path.write_text(json.dumps(data))
    loaded = bulk.Plan.load(path)
    assert loaded.fingerprint() == planned.fingerprint()
    assert [c.kind for c in loaded] == ['patch']
    results = await bulk.apply(toolkit, loaded, progress=False)
    assert [r.status for r in results] == ['ok']
    assert (await client.get_project(ORG, project['id']))['description'] == 'v1'


async def test_plugins_refuse_at_planning_and_a_changed_mind_is_refused_at_apply(
    client: typing.Any,
) -> None:
    first, frozen = await _projects(client, 2)

    class Policy:
        @hookimpl
        def imbi_before_release_create(
            self, project_id: str, body: dict[str, typing.Any]
        ) -> dict[str, typing.Any]:
            if project_id == frozen['id']:
                raise RefusedError('release freeze')
            return {**body, 'description': 'checked by policy'}

    manager = PluginManager()
    manager.register(Policy(), name='policy')
    toolkit = Toolkit(client, plugin_manager=manager)
    planned = await bulk.plan(
        toolkit,
        bulk.CreateRelease({'tag': TAG, 'committish': COMMIT}),
        [(ORG, first['id']), (ORG, frozen['id'])],
        progress=False,
    )
    assert [c.status for c in planned] == ['change', 'refused']
    assert "plugin 'policy' refused" in planned[1].note
    assert 'release freeze' in planned[1].note
    assert planned[0].request['description'] == 'checked by policy'

    # The same plugins at apply time: sent as planned.
    applied = await bulk.apply(toolkit, planned, progress=False)
    assert [r.status for r in applied] == ['ok']

    # A plugin that now changes the body: refused, nothing sent.
    class Linker:
        @hookimpl
        def imbi_before_release_create(
            self, body: dict[str, typing.Any]
        ) -> dict[str, typing.Any]:
            return {**body, 'title': 'renamed'}

    manager.register(Linker(), name='linker')
    second = await bulk.plan(
        Toolkit(client, plugin_manager=PluginManager()),
        bulk.CreateRelease({'tag': 'v9.0.0', 'committish': COMMIT}),
        [(ORG, first['id'])],
        progress=False,
    )
    results = await bulk.apply(toolkit, second, progress=False)
    assert results[0].status == 'refused'
    assert 'plan it again' in results[0].detail
    assert await client.find_release(ORG, first['id'], tag='v9.0.0') is None

    class Mapper:
        @hookimpl
        def imbi_before_deployment_event(
            self, body: dict[str, typing.Any]
        ) -> dict[str, typing.Any]:
            return {**body, 'note': 'mapped'}

    deploy = await bulk.plan(
        Toolkit(client, plugin_manager=PluginManager()),
        bulk.RecordDeployment('production', status='success', tag=TAG),
        [(ORG, first['id'])],
        progress=False,
    )
    manager.register(Mapper(), name='mapper')
    results = await bulk.apply(toolkit, deploy, progress=False)
    assert results[0].status == 'refused'
    assert 'deployment event' in results[0].detail
    rid = deploy[0].request['release_id']
    assert await toolkit.deployment_count(ORG, first['id'], rid, 'production') == 0


async def test_only_edits_releases_and_deployments_are_planned(
    client: typing.Any, toolkit: Toolkit
) -> None:
    (project,) = await _projects(client, 1)
    with pytest.raises(TypeError, match='ApplyPatch cannot be planned'):
        await bulk.plan(
            toolkit,
            bulk.ApplyPatch([{'op': 'replace', 'path': '/description', 'value': ''}]),
            [(ORG, project['id'])],
            progress=False,
        )
