"""The operations layer acts right on every API generation the sandbox emulates.

"Created or already there" from the answer itself (201 / 200 / 409), never a
release of another commit in silence, and a deployment with a run id recorded
exactly once where the server de-duplicates (docs/imbi-api.md#generations).
"""

from __future__ import annotations

import typing

import httpx
import pytest

from imbi_toolkit import Toolkit
from imbi_toolkit.api import RetryPolicy, errors
from imbi_toolkit.operations import PlanChangedError
from imbi_toolkit.plugins import PluginManager
from imbi_toolkit.testing import API_VERSIONS

pytestmark = pytest.mark.parametrize('imbi_api_version', API_VERSIONS)

ORG = 'engineering'
FAST = RetryPolicy(backoff=0.01, max_backoff=0.01, jitter=0)


@pytest.fixture
async def toolkit(imbi_sandbox: typing.Any) -> typing.Any:
    async with imbi_sandbox.client() as client:
        yield Toolkit(client, plugin_manager=PluginManager())


async def _project(toolkit: Toolkit) -> str:
    found = await toolkit.client.find_project(ORG, 'billing-api')
    return str(found['id'])


async def test_created_then_already_there(toolkit: Toolkit) -> None:
    project = await _project(toolkit)
    body = {'committish': 'abcdef1', 'tag': '8.0.0'}
    first = await toolkit.ensure_release(ORG, project, body)
    again = await toolkit.ensure_release(ORG, project, {**body, 'title': 'x'})
    assert first.created is True
    assert again.created is False
    assert again.release['id'] == first.release['id']
    listed = await toolkit.client.list_releases(ORG, project, tag='8.0.0')
    assert len(listed) == 1


async def test_a_tag_of_another_commit_is_an_error_or_a_new_release(
    toolkit: Toolkit, imbi_api_version: str
) -> None:
    project = await _project(toolkit)
    await toolkit.ensure_release(
        ORG, project, {'committish': 'abcdef1', 'tag': '8.1.0'}
    )
    other = {'committish': '1234567', 'tag': '8.1.0'}
    if imbi_api_version in ('2.11', '2.16'):
        # Up to 2.25 the key is (committish, tag): another commit is another
        # release, and the server creates it.
        outcome = await toolkit.ensure_release(ORG, project, other)
        assert outcome.created and outcome.release['committish'] == '1234567'
        return
    with pytest.raises(errors.ReleaseMismatchError) as caught:
        await toolkit.ensure_release(ORG, project, other)
    assert "'abcdef1'" in str(caught.value) and "'1234567'" in str(caught.value)


async def test_a_planned_release_never_takes_a_tag_of_another_commit(
    toolkit: Toolkit,
) -> None:
    # Unlike a plain create above: up to 2.25 it is looked up before sending.
    project = await _project(toolkit)
    await toolkit.ensure_release(
        ORG, project, {'committish': 'abcdef1', 'tag': '8.3.0'}
    )
    other = await toolkit.prepare_release(
        ORG, project, {'committish': '1234567', 'tag': '8.3.0'}
    )
    assert other == {'committish': '1234567', 'tag': '8.3.0', 'title': '8.3.0'}
    with pytest.raises(errors.ReleaseMismatchError, match="'1234567'"):
        await toolkit.existing_release(ORG, project, other)
    with pytest.raises(errors.ReleaseMismatchError, match="'abcdef1'"):
        await toolkit.ensure_release(ORG, project, other, exactly=True)
    listed = await toolkit.client.list_releases(ORG, project, tag='8.3.0')
    assert [release['committish'] for release in listed] == ['abcdef1']

    same = {**other, 'committish': 'abcdef1'}
    found = await toolkit.existing_release(ORG, project, same)
    assert found is not None and found['id'] == listed[0]['id']
    outcome = await toolkit.ensure_release(ORG, project, same, exactly=True)
    assert outcome.created is False and outcome.release['id'] == listed[0]['id']

    # Not as prepared (the toolkit would add the title): not sent.
    with pytest.raises(PlanChangedError, match='planned release'):
        await toolkit.ensure_release(
            ORG, project, {'committish': 'abcdef1', 'tag': '8.4.0'}, exactly=True
        )
    assert await toolkit.existing_release(ORG, project, {'tag': '8.4.0'}) is None


async def test_a_run_id_is_recorded_once_where_the_server_deduplicates(
    toolkit: Toolkit, imbi_api_version: str
) -> None:
    project = await _project(toolkit)
    await toolkit.ensure_release(
        ORG, project, {'committish': 'abcdef1', 'tag': '8.2.0'}
    )
    body = {
        'status': 'success',
        'external_run_id': 'run-42',
        'external_run_url': 'https://ci.example.com/runs/42',
    }
    if imbi_api_version in ('2.11', '2.16'):
        # Before 2.18 the server neither stores nor takes the URL (422).
        with pytest.raises(errors.UnprocessableEntityError):
            await toolkit.record_deployment(ORG, project, 'staging', body, tag='8.2.0')
        return
    await toolkit.record_deployment(ORG, project, 'staging', body, tag='8.2.0')
    edge = await toolkit.record_deployment(ORG, project, 'staging', body, tag='8.2.0')
    assert len(edge['deployments']) == 1
    assert edge['deployments'][0]['external_run_url'] == body['external_run_url']
    assert await toolkit.client.api_version() >= (2, 18)


async def test_a_deployment_with_a_run_id_is_retried_only_where_safe(
    imbi_sandbox: typing.Any, imbi_api_version: str
) -> None:
    # A 502 from a proxy after the server acted: retried only where the
    # server de-duplicates on the run id.
    calls: list[str] = []

    async def flaky(request: httpx.Request) -> None:
        if request.method == 'POST' and request.url.path.endswith('/staging'):
            calls.append(request.url.path)

    sandbox = imbi_sandbox
    async with sandbox.client(max_retries=2, retry_policy=FAST) as client:
        toolkit = Toolkit(client, plugin_manager=PluginManager())
        project = await _project(toolkit)
        await toolkit.ensure_release(
            ORG, project, {'committish': 'abcdef1', 'tag': '8.3.0'}
        )
        client.event_hooks['request'].append(flaky)
        sandbox.add_fault(
            method='POST', path='/organizations/*/environments/*', status=502, times=1
        )
        body = {'status': 'success', 'external_run_id': 'run-43'}
        if imbi_api_version in ('2.11', '2.16'):
            with pytest.raises(errors.ServerError):
                await toolkit.record_deployment(
                    ORG, project, 'staging', {'status': 'success'}, tag='8.3.0'
                )
            assert len(calls) == 1  # not repeated: it would append twice
            return
        edge = await toolkit.record_deployment(
            ORG, project, 'staging', body, tag='8.3.0'
        )
        assert len(calls) == 2  # repeated: the server keeps one event per run id
        assert len(edge['deployments']) == 1


async def test_an_edited_project_is_sent_without_server_owned_fields(
    toolkit: Toolkit,
) -> None:
    # Removing an environment and editing the description of a fetched
    # project: no `test` op on a field the server strips (`terminal` from
    # 2.30, `latest_deployments` from 2.29), so the server accepts it.
    from imbi_toolkit.patching import diff, patchable

    project = await _project(toolkit)
    before = patchable(await toolkit.client.get_project(ORG, project))
    after = {**before, 'description': 'Edited on every generation'}
    after['environments'] = dict(before['environments'])
    removed = sorted(after['environments'])[0]
    del after['environments'][removed]
    answer = await toolkit.patch_project(ORG, project, diff(before, after, tests=True))
    assert answer['description'] == 'Edited on every generation'
    assert removed not in {env['slug'] for env in answer['environments']}
