"""End to end: installed plugins, loaded from their entry points, against the sandbox.

The sandbox is a real Imbi API in a subprocess; GitHub is `FakeGitHub` on
127.0.0.1. Both are reached over sockets.
"""

from __future__ import annotations

import logging

import pytest
from imbi_toolkit_github.testing import FakeGitHub

from imbi_toolkit import hookimpl
from imbi_toolkit.api import _paths as paths
from imbi_toolkit.api import errors
from imbi_toolkit.patching import PatchValidationError
from imbi_toolkit.plugins import PluginManager, RefusedError, Toolkit

ORG = 'engineering'
REPOSITORY = 'https://github.com/example/billing-api'


@pytest.fixture
def manager(monkeypatch) -> PluginManager:
    """The first-party plugins, loaded through their distributions' entry points."""
    for name in ('IMBI_TOOLKIT_SEMVER_TAG_FORMATS', 'IMBI_TOOLKIT_GITHUB_API_URL'):
        monkeypatch.delenv(name, raising=False)
    manager = PluginManager(trace=False)
    assert manager.load_entry_points(allow=['semver', 'github'], strict=True) == 2
    assert {i.distribution for i in manager.list_plugins()} == {
        'imbi-toolkit-github',
        'imbi-toolkit-semver',
    }
    return manager


@pytest.fixture
async def client(imbi_sandbox):
    async with imbi_sandbox.client() as client:
        yield client


@pytest.fixture
async def billing_api(client) -> str:
    response = await client.get(
        f'/organizations/{ORG}/projects/', params={'slim': True}
    )
    [project] = [p for p in response.json() if p['slug'] == 'billing-api']
    return project['id']


def count_requests(client) -> list[str]:
    seen: list[str] = []

    async def record(request):
        seen.append(f'{request.method} {request.url.path}')

    client.event_hooks['request'].append(record)
    return seen


async def test_release_through_semver_and_github(client, manager, billing_api):
    after = []

    class Recorder:
        @hookimpl
        def imbi_after_release_create(self, release, created):
            after.append((release['id'], created))

    manager.register(Recorder(), name='recorder')
    toolkit = Toolkit(client, plugin_manager=manager)
    body = {'committish': 'ABCDEF0123456789ABCD', 'tag': 'v2.0.0'}

    release = await toolkit.create_release(ORG, billing_api, body)
    again = await toolkit.create_release(ORG, billing_api, body)

    assert release['committish'] == 'abcdef0'
    assert release['title'] == 'Release v2.0.0'
    assert release['links'] == [
        {
            'type': 'github_release',
            'url': f'{REPOSITORY}/releases/tag/v2.0.0',
            'label': None,
        }
    ]
    assert again['id'] == release['id']
    assert after == [(release['id'], True), (release['id'], False)]
    stored = await client.get(
        paths.build(
            '/organizations/{org}/projects/{pid}/releases/{rid}',
            org=ORG,
            pid=billing_api,
            rid=release['id'],
        )
    )
    assert stored.json()['links'][0]['url'] == f'{REPOSITORY}/releases/tag/v2.0.0'


@pytest.mark.parametrize(
    ('body', 'reason'),
    [
        ({'committish': 'a1b2c3d', 'tag': 'two'}, "tag 'two' does not match"),
        (
            {'committish': 'main', 'tag': '2.0.0'},
            "committish 'main' is not a commit SHA",
        ),
    ],
)
async def test_a_bad_release_is_refused_before_anything_is_sent(
    client, manager, billing_api, body, reason
):
    sent = count_requests(client)

    with pytest.raises(RefusedError) as caught:
        await Toolkit(client, plugin_manager=manager).create_release(
            ORG, billing_api, body
        )

    assert caught.value.plugin == 'semver'
    assert str(caught.value).startswith(
        "plugin 'semver' refused the request (imbi_before_release_create): " + reason
    )
    assert sent == []


async def test_the_api_still_has_the_last_word(client, manager):
    toolkit = Toolkit(client, plugin_manager=manager)

    with pytest.raises(errors.NotFoundError, match="Project 'nope' not found"):
        await toolkit.create_release(
            ORG, 'nope', {'committish': 'a1b2c3d', 'tag': '1.0.0'}
        )


@pytest.mark.parametrize(
    ('ci_status', 'recorded'),
    [('failure', 'failed'), ('inactive', 'rolled_back'), ('queued', 'pending')],
)
async def test_deployment_by_tag_with_github_states(
    client, manager, billing_api, ci_status, recorded
):
    toolkit = Toolkit(client, plugin_manager=manager)
    release = await toolkit.create_release(
        ORG, billing_api, {'committish': 'fedcba9', 'tag': '3.0.0'}
    )

    result = await toolkit.record_deployment(
        ORG, billing_api, 'staging', {'status': ci_status}, tag='3.0.0'
    )

    assert result['environment']['slug'] == 'staging'
    assert result['current_status'] == recorded
    edge = await client.get(
        paths.build(
            '/organizations/{org}/projects/{pid}/releases/{rid}/environments/{env}',
            org=ORG,
            pid=billing_api,
            rid=release['id'],
            env='staging',
        )
    )
    assert edge.json()['deployments'][-1]['status'] == recorded


async def test_deployment_of_a_missing_release(client, manager, billing_api):
    toolkit = Toolkit(client, plugin_manager=manager)

    with pytest.raises(errors.ReleaseNotFoundError, match=r"tag '9\.9\.9'"):
        await toolkit.record_deployment(
            ORG, billing_api, 'staging', {'status': 'success'}, tag='9.9.9'
        )
    with pytest.raises(errors.NotFoundError):
        await toolkit.record_deployment(
            ORG, billing_api, 'staging', {'status': 'success'}, release_id='missing'
        )


async def test_patch_through_a_guard_plugin(client, manager, billing_api):
    class Guard:
        @hookimpl
        async def imbi_before_project_patch(self, patch):
            if any(op['path'] == '/slug' for op in patch):
                raise RefusedError('renaming renames the repository')
            return [{'op': 'test', 'path': '/name', 'value': 'Billing API'}, *patch]

    manager.register(Guard(), name='guard')
    toolkit = Toolkit(client, plugin_manager=manager)

    project = await toolkit.patch_project(
        ORG, billing_api, [{'op': 'replace', 'path': '/description', 'value': 'New'}]
    )
    with pytest.raises(RefusedError, match="plugin 'guard' refused"):
        await toolkit.patch_project(
            ORG, billing_api, [{'op': 'replace', 'path': '/slug', 'value': 'x'}]
        )

    assert project['description'] == 'New'


async def test_a_malformed_patch_is_refused_before_sending(
    client, manager, billing_api
):
    class Mangler:
        @hookimpl
        def imbi_before_project_patch(self, patch):
            return [*patch, {'op': 'add', 'path': 'links/wiki', 'value': 'x'}]

    manager.register(Mangler(), name='mangler')
    toolkit = Toolkit(client, plugin_manager=manager)
    seen = count_requests(client)

    # The server would answer this pointer with a 500; the plugin's op is
    # checked like the caller's.
    with pytest.raises(PatchValidationError, match=r'operation 1: pointer .*"/"'):
        await toolkit.patch_project(
            ORG, billing_api, [{'op': 'replace', 'path': '/description', 'value': 'y'}]
        )
    with pytest.raises(PatchValidationError, match='read-only'):
        await toolkit.patch_project(ORG, billing_api, [{'op': 'remove', 'path': '/id'}])
    assert not [r for r in seen if r.startswith('PATCH')]


@pytest.fixture
def github(monkeypatch):
    users = {'alice-gh': 583231, 'bob-gh': 1024025, 'twins': 9999999, 'newbie': 1}
    with FakeGitHub(users) as fake:
        monkeypatch.setenv('IMBI_TOOLKIT_GITHUB_API_URL', fake.url)
        yield fake


@pytest.mark.parametrize(
    ('handle', 'email'),
    [
        ('alice-gh', 'alice@example.com'),  # login -> 583231 -> Alice
        ('@bob-gh', 'bob@example.com'),
        ('583231', 'alice@example.com'),  # an id needs no GitHub call
        ('twins', None),  # two Imbi users share the subject: the server says 404
        ('newbie', None),  # on GitHub, not connected in Imbi
        ('ghost', None),  # not on GitHub
    ],
)
async def test_identity_through_the_github_plugin(
    client, manager, github, handle, email
):
    toolkit = Toolkit(client, plugin_manager=manager)

    assert await toolkit.find_user_by_identity('github', handle) == email


async def test_identity_on_an_api_2_11_server(imbi_sandbox_factory, manager, github):
    old = imbi_sandbox_factory(api_version='2.11')
    async with old.client() as client:
        toolkit = Toolkit(client, plugin_manager=manager)
        assert await toolkit.find_user_by_identity('github', 'alice-gh') == (
            'alice@example.com'
        )


async def test_plugins_that_disagree_leave_the_identity_unattributed(
    client, manager, github, caplog
):
    class Directory:
        @hookimpl
        def imbi_resolve_identity(self, plugin_slug, subject):
            return 'bob@example.com' if subject == 'alice-gh' else None

    manager.register(Directory(), name='directory')
    toolkit = Toolkit(client, plugin_manager=manager)

    with caplog.at_level(logging.WARNING, logger='imbi_toolkit.plugins'):
        assert await toolkit.find_user_by_identity('github', 'alice-gh') is None

    assert caplog.messages == [
        "Identity github 'alice-gh' is ambiguous, so it is left unattributed: "
        'directory said bob@example.com; github said alice@example.com'
    ]


class DescriptionRequired:
    @hookimpl
    def imbi_before_release_create(self, body):
        if not body.get('description'):
            raise RefusedError('describe the release: pass description=')


async def test_readme_example_with_the_fixtures(imbi_register_plugin, imbi_sandbox):
    # The README's "Writing a plugin" test, through the shared manager.
    imbi_register_plugin(DescriptionRequired(), name='my_plugin')
    async with imbi_sandbox.client() as client:
        with pytest.raises(RefusedError, match="plugin 'my_plugin' refused"):
            await Toolkit(client).create_release(
                'engineering',
                '3PbvaXueNVB1GhQBCtwd9',
                {'committish': 'a1b2c3d', 'title': 'T'},
            )
        release = await Toolkit(client).create_release(
            'engineering',
            '3PbvaXueNVB1GhQBCtwd9',
            {'committish': 'a1b2c3d', 'title': 'T', 'description': 'Fixes'},
        )
    assert release['description'] == 'Fixes'
