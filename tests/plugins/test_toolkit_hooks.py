"""The hook layer: every hook, sync and async, in order, with clear errors.

These are unit tests of edge cases through `httpx.MockTransport`; the
end-to-end tests against the sandbox are in `test_plugins_sandbox.py`.
"""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from imbi_toolkit import hookimpl
from imbi_toolkit.api import errors
from imbi_toolkit.plugins import PluginHookError, PluginManager, RefusedError, Toolkit

ORG, PID = 'eng', 'P1'
STYLES = ['sync', 'async']


def sent_json(request: httpx.Request) -> object:
    return json.loads(request.content)


@pytest.fixture
def toolkit(client, manager) -> Toolkit:
    return Toolkit(client, plugin_manager=manager)


async def test_no_plugins_sends_the_body_unchanged(toolkit, fake_api):
    release = await toolkit.create_release(
        ORG, PID, {'committish': 'abc1234', 'title': 'T'}
    )

    assert release['id'] == 'R0'
    [post] = fake_api.sent('POST')
    assert sent_json(post) == {'committish': 'abc1234', 'title': 'T'}


@pytest.mark.parametrize('style', STYLES)
async def test_client_created_runs_once_per_client(style, client, manager, fake_api):
    calls = []

    class SyncPlugin:
        @hookimpl
        def imbi_client_created(self, client):
            calls.append(client)
            client.headers['x-team'] = 'platform'

    class AsyncPlugin:
        @hookimpl
        async def imbi_client_created(self, client):
            calls.append(client)
            client.headers['x-team'] = 'platform'

    manager.register(SyncPlugin() if style == 'sync' else AsyncPlugin())
    await Toolkit(client, plugin_manager=manager).find_user_by_identity('gh', '1')
    await Toolkit(client, plugin_manager=manager).find_user_by_identity('gh', '1')

    assert calls == [client]
    assert all(r.headers['x-team'] == 'platform' for r in fake_api.requests)


@pytest.mark.parametrize('style', STYLES)
async def test_before_release_create_chains_in_order(style, toolkit, manager, fake_api):
    # Registered first, so called last: it sees what the other one did.
    class AddsTitle:
        @hookimpl
        def imbi_before_release_create(self, body):
            return {**body, 'title': f'Release {body["tag"]}'}

    class AsyncAddsTitle:
        @hookimpl
        async def imbi_before_release_create(self, body):
            return {**body, 'title': f'Release {body["tag"]}'}

    class Lowercases:
        @hookimpl
        def imbi_before_release_create(self, body):
            body['tag'] = body['tag'].lower()  # in place, returns None

    manager.register(AddsTitle() if style == 'sync' else AsyncAddsTitle(), name='title')
    manager.register(Lowercases(), name='lower')
    caller_body = {'committish': 'abc1234', 'tag': 'V1.0.0'}

    release = await toolkit.create_release(ORG, PID, caller_body)

    assert sent_json(fake_api.sent('POST')[0]) == {
        'committish': 'abc1234',
        'tag': 'v1.0.0',
        'title': 'Release v1.0.0',
    }
    assert release['title'] == 'Release v1.0.0'
    assert caller_body == {'committish': 'abc1234', 'tag': 'V1.0.0'}


@pytest.mark.parametrize('style', STYLES)
async def test_refusal_names_the_plugin_and_sends_nothing(
    style, toolkit, manager, fake_api
):
    class Refuses:
        @hookimpl
        def imbi_before_release_create(self, body):
            raise RefusedError(f'tag {body["tag"]!r} is not semver; use e.g. 1.2.3')

    class AsyncRefuses:
        @hookimpl
        async def imbi_before_release_create(self, body):
            raise RefusedError(f'tag {body["tag"]!r} is not semver; use e.g. 1.2.3')

    manager.register(Refuses() if style == 'sync' else AsyncRefuses(), name='semverish')

    with pytest.raises(RefusedError) as caught:
        await toolkit.create_release(ORG, PID, {'committish': 'abc1234', 'tag': 'x'})

    assert str(caught.value) == (
        "plugin 'semverish' refused the request (imbi_before_release_create): "
        "tag 'x' is not semver; use e.g. 1.2.3"
    )
    assert caught.value.plugin == 'semverish'
    assert fake_api.requests == []


async def test_a_plugin_bug_is_wrapped_naming_the_plugin(toolkit, manager):
    class Buggy:
        @hookimpl
        def imbi_before_project_patch(self, patch):
            return patch[5]

    manager.register(Buggy(), name='buggy')

    with pytest.raises(PluginHookError) as caught:
        await toolkit.patch_project(ORG, PID, [{'op': 'remove', 'path': '/icon'}])

    assert str(caught.value) == (
        "plugin 'buggy' failed in imbi_before_project_patch: "
        'IndexError: list index out of range'
    )
    assert isinstance(caught.value.__cause__, IndexError)


async def test_a_result_of_the_wrong_type_is_an_error(toolkit, manager):
    class WrongType:
        @hookimpl
        def imbi_before_release_create(self, body):
            return 'not a body'

    manager.register(WrongType(), name='wrong')

    with pytest.raises(PluginHookError, match='returned str; return a dict or None'):
        await toolkit.create_release(ORG, PID, {'committish': 'abc1234', 'title': 'T'})


@pytest.mark.parametrize('style', STYLES)
async def test_after_release_create_sees_new_and_existing(
    style, toolkit, manager, fake_api
):
    seen = []

    class After:
        @hookimpl
        def imbi_after_release_create(self, release, created):
            seen.append((release['id'], created))

    class AsyncAfter:
        @hookimpl
        async def imbi_after_release_create(self, release, created):
            seen.append((release['id'], created))

    manager.register(After() if style == 'sync' else AsyncAfter())
    body = {'committish': 'abc1234', 'title': 'T', 'tag': '1.0.0'}

    first = await toolkit.create_release(ORG, PID, body)
    again = await toolkit.create_release(ORG, PID, body)

    assert first == again
    assert seen == [('R0', True), ('R0', False)]
    assert [r.method for r in fake_api.requests] == ['POST', 'POST', 'GET']


async def test_conflict_without_tag_matches_the_untagged_release(toolkit, fake_api):
    fake_api.releases['P1'] = [
        {'id': 'R9', 'committish': 'abc1234', 'tag': '2.0.0', 'title': 'tagged'},
        {'id': 'R8', 'committish': 'abc1234', 'tag': None, 'title': 'untagged'},
    ]

    release = await toolkit.create_release(
        ORG, PID, {'committish': 'abc1234', 'title': 'again'}
    )

    assert release['id'] == 'R8'


async def test_http_failure_raises(toolkit, fake_api):
    fake_api.fail_status = 403

    with pytest.raises(errors.PermissionDeniedError, match=r'^403 Forbidden'):
        await toolkit.create_release(ORG, PID, {'committish': 'abc1234', 'title': 'T'})


@pytest.mark.parametrize('style', STYLES)
async def test_deployment_hooks_map_status_and_see_result(
    style, toolkit, manager, fake_api
):
    fake_api.releases['P1'] = [{'id': 'R1', 'committish': 'abc1234', 'tag': '1.0.0'}]
    results = []

    class MapsStatus:
        @hookimpl
        def imbi_before_deployment_event(self, body, release_id):
            assert release_id == 'R1'
            return {**body, 'status': {'failure': 'failed'}.get(body['status'])}

        @hookimpl
        def imbi_after_deployment_event(self, result, env_slug):
            results.append((env_slug, result['current_status']))

    class AsyncMapsStatus:
        @hookimpl
        async def imbi_before_deployment_event(self, body, release_id):
            assert release_id == 'R1'
            return {**body, 'status': {'failure': 'failed'}.get(body['status'])}

        @hookimpl
        async def imbi_after_deployment_event(self, result, env_slug):
            results.append((env_slug, result['current_status']))

    manager.register(MapsStatus() if style == 'sync' else AsyncMapsStatus())

    result = await toolkit.record_deployment(
        ORG, PID, 'production', {'status': 'failure'}, tag='1.0.0'
    )

    assert result['current_status'] == 'failed'
    assert results == [('production', 'failed')]
    get, post = fake_api.requests
    assert dict(get.url.params) == {'tag': '1.0.0'}
    assert (
        post.url.path
        == f'/organizations/{ORG}/projects/{PID}/releases/R1/environments/production'
    )


async def test_deployment_of_an_unknown_release_says_so(toolkit, fake_api):
    with pytest.raises(
        errors.ReleaseNotFoundError, match=r"no release with tag '9\.9\.9'"
    ):
        await toolkit.record_deployment(
            ORG, PID, 'prod', {'status': 'success'}, tag='9.9.9'
        )
    assert fake_api.sent('POST') == []


async def test_deployment_needs_exactly_one_way_to_name_the_release(toolkit):
    with pytest.raises(ValueError, match='either as release_id= or as tag='):
        await toolkit.record_deployment(ORG, PID, 'prod', {'status': 'success'})
    with pytest.raises(ValueError, match='not both'):
        await toolkit.record_deployment(
            ORG, PID, 'prod', {'status': 'success'}, release_id='R1', tag='1'
        )


@pytest.mark.parametrize('style', STYLES)
async def test_patch_hooks(style, toolkit, manager, fake_api):
    seen = []

    class Guard:
        @hookimpl
        def imbi_before_project_patch(self, patch):
            if any(op['path'] == '/slug' for op in patch):
                raise RefusedError('renaming a project renames its repository')
            return [{'op': 'test', 'path': '/name', 'value': 'Billing'}, *patch]

        @hookimpl
        def imbi_after_project_patch(self, project, patch):
            seen.append((project['id'], len(patch)))

    class AsyncGuard:
        @hookimpl
        async def imbi_before_project_patch(self, patch):
            if any(op['path'] == '/slug' for op in patch):
                raise RefusedError('renaming a project renames its repository')
            return [{'op': 'test', 'path': '/name', 'value': 'Billing'}, *patch]

        @hookimpl
        async def imbi_after_project_patch(self, project, patch):
            seen.append((project['id'], len(patch)))

    manager.register(Guard() if style == 'sync' else AsyncGuard(), name='guard')

    project = await toolkit.patch_project(
        ORG, PID, [{'op': 'replace', 'path': '/icon', 'value': 'x'}]
    )
    with pytest.raises(RefusedError, match="plugin 'guard' refused"):
        await toolkit.patch_project(
            ORG, PID, [{'op': 'replace', 'path': '/slug', 'value': 'y'}]
        )

    assert project['applied'][0] == {'op': 'test', 'path': '/name', 'value': 'Billing'}
    assert seen == [('P1', 2)]
    assert len(fake_api.sent('PATCH')) == 1


@pytest.mark.parametrize('style', STYLES)
async def test_identity_subject_is_looked_up(style, toolkit, manager, fake_api):
    fake_api.identities = {'583231': 'alice@example.com'}

    class Handles:
        @hookimpl
        def imbi_identity_subject(self, plugin_slug, subject):
            if plugin_slug == 'github' and subject == 'alice':
                return '583231'
            return None

    class AsyncHandles:
        @hookimpl
        async def imbi_identity_subject(self, plugin_slug, subject):
            if plugin_slug == 'github' and subject == 'alice':
                return '583231'
            return None

    manager.register(Handles() if style == 'sync' else AsyncHandles())

    assert await toolkit.find_user_by_identity('github', 'alice') == 'alice@example.com'
    assert await toolkit.find_user_by_identity('github', 'bob') is None
    lookups = [dict(r.url.params)['subject'] for r in fake_api.requests]
    assert lookups == ['583231', 'bob']


@pytest.mark.parametrize('style', STYLES)
async def test_resolve_identity_answers_directly(style, toolkit, manager, fake_api):
    class Directory:
        @hookimpl
        def imbi_resolve_identity(self, plugin_slug, subject):
            return 'carol@example.com' if subject == 'carol' else None

    class AsyncDirectory:
        @hookimpl
        async def imbi_resolve_identity(self, client, plugin_slug, subject):
            return 'carol@example.com' if subject == 'carol' else None

    manager.register(Directory() if style == 'sync' else AsyncDirectory())

    assert await toolkit.find_user_by_identity('ldap', 'carol') == 'carol@example.com'


async def test_async_plugin_returning_none_does_not_win(toolkit, manager, fake_api):
    # With firstresult, an un-awaited coroutine would be the "first result".
    fake_api.identities = {'42': 'dave@example.com'}

    class AsyncNone:
        @hookimpl(tryfirst=True)
        async def imbi_identity_subject(self):
            return None

    class Answers:
        @hookimpl
        def imbi_identity_subject(self, subject):
            return '42'

    manager.register(AsyncNone(), name='async-none')
    manager.register(Answers(), name='answers')

    assert await toolkit.find_user_by_identity('github', 'dave') == 'dave@example.com'


async def test_disagreeing_plugins_make_the_identity_ambiguous(
    toolkit, manager, fake_api, caplog
):
    fake_api.identities = {'583231': 'alice@example.com'}

    class GitHubish:
        @hookimpl
        async def imbi_identity_subject(self):
            return '583231'

    class Directory:
        @hookimpl
        def imbi_resolve_identity(self):
            return 'mallory@example.com'

    class Agrees:
        @hookimpl
        def imbi_resolve_identity(self):
            return 'Alice@Example.com'

    manager.register(GitHubish(), name='githubish')
    manager.register(Directory(), name='directory')

    with caplog.at_level(logging.WARNING):
        assert await toolkit.find_user_by_identity('github', 'alice') is None
    [record] = caplog.records
    assert record.getMessage() == (
        "Identity github 'alice' is ambiguous, so it is left unattributed: "
        'directory said mallory@example.com; githubish said alice@example.com'
    )

    manager.unregister(name='directory')
    manager.register(Agrees(), name='agrees')
    assert await toolkit.find_user_by_identity('github', 'alice') == 'Alice@Example.com'


async def test_tracing_shows_calls_without_secrets(client, monkeypatch, capsys):
    monkeypatch.setenv('IMBI_TOOLKIT_TRACE_PLUGINS', '1')
    manager = PluginManager()
    canary = 'canary-token-3f9a'  # the client fixture's token

    class Leaky:
        @hookimpl
        def imbi_before_release_create(self, client, body):
            return {
                **body,
                'description': f'sent with {client.headers["authorization"]}',
            }

    manager.register(Leaky(), name='leaky')
    await Toolkit(client, plugin_manager=manager).create_release(
        ORG, PID, {'committish': 'abc1234', 'title': 'T', 'api_key': 'k-123456'}
    )

    err = capsys.readouterr().err
    assert err.startswith(
        'imbi-toolkit trace: imbi_before_release_create [leaky](client=<Imbi '
        "base_url='http://imbi.test'>, body={'committish': 'abc1234', 'title': 'T', "
        "'api_key': '[REDACTED]'}) -> {"
    )
    assert "'description': 'sent with Bearer [REDACTED]'" in err
    assert canary not in err
    assert 'k-123456' not in err


async def test_tracing_is_off_by_default(toolkit, manager, capsys):
    class Quiet:
        @hookimpl
        def imbi_before_release_create(self): ...

    manager.register(Quiet())
    await toolkit.create_release(ORG, PID, {'committish': 'abc1234', 'title': 'T'})

    assert capsys.readouterr().err == ''


def test_a_refusal_renders_as_one_line_in_ipython():
    error = RefusedError('tag is not semver', plugin='semver', hook='imbi_x')

    assert error._render_traceback_() == [
        "RefusedError: plugin 'semver' refused the request (imbi_x): tag is not semver"
    ]


async def test_a_failed_client_created_hook_runs_again_next_time(client, manager):
    calls = []

    class FlakyOnce:
        @hookimpl
        def imbi_client_created(self, client):
            calls.append(client)
            if len(calls) == 1:
                raise RuntimeError('vault unreachable')

    manager.register(FlakyOnce(), name='flaky')
    toolkit = Toolkit(client, plugin_manager=manager)

    with pytest.raises(PluginHookError, match="'flaky' failed in imbi_client_created"):
        await toolkit.find_user_by_identity('github', '1')
    assert await toolkit.find_user_by_identity('github', '1') is None
    assert len(calls) == 2
