"""The plugin layer against the real server: semver, github, and every hook.

The installed first-party plugins (`plugins/semver`, `plugins/github`) run as
a user has them; the github plugin talks to `FakeGitHub` on 127.0.0.1
(`IMBI_TOOLKIT_GITHUB_API_URL`). A recording plugin registered for a test
sees what each hook gets from the real server.
"""

from __future__ import annotations

import typing
from collections import abc

import pytest

from imbi_toolkit import Toolkit, hookimpl
from imbi_toolkit.api import Imbi, Settings
from imbi_toolkit.plugins import RefusedError, get_plugin_manager

from .conftest import RealOrg


class Recorder:
    """Keeps what every hook was called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, typing.Any]]] = []

    @hookimpl
    def imbi_client_created(self, client: Imbi) -> None:
        self.calls.append(('client_created', {}))

    @hookimpl
    def imbi_after_release_create(
        self, release: dict[str, typing.Any], created: bool
    ) -> None:
        self.calls.append(('after_release', {'release': release, 'created': created}))

    @hookimpl
    def imbi_after_deployment_event(
        self, body: dict[str, typing.Any], result: dict[str, typing.Any]
    ) -> None:
        self.calls.append(('after_deployment', {'body': body, 'result': result}))

    @hookimpl
    def imbi_before_project_patch(self, patch: list[dict[str, typing.Any]]) -> None:
        if any(op['path'] == '/slug' and op['op'] != 'test' for op in patch):
            raise RefusedError('no renames in this test')

    @hookimpl
    def imbi_after_project_patch(self, project: dict[str, typing.Any]) -> None:
        self.calls.append(('after_patch', {'project': project}))

    def named(self, name: str) -> list[dict[str, typing.Any]]:
        return [kwargs for hook, kwargs in self.calls if hook == name]


@pytest.fixture
def recorder() -> abc.Iterator[Recorder]:
    manager = get_plugin_manager()
    plugin = Recorder()
    manager.register(plugin, name='e2e-recorder')
    try:
        yield plugin
    finally:
        manager.unregister(name='e2e-recorder')


def test_the_first_party_plugins_are_installed_and_load() -> None:
    manager = get_plugin_manager()
    names = {info.name for info in manager.list_plugins()}
    assert {'semver', 'github'} <= names
    assert manager.failures == []


async def test_a_release_through_semver_and_github_then_its_deployments(
    real_env: RealOrg, recorder: Recorder
) -> None:
    project_id = real_env.projects['email-consumer']
    body = {'committish': 'ABCDEF1234567890', 'tag': 'v5.0.0'}
    async with Imbi.from_settings(Settings()) as client:
        toolkit = Toolkit(client)
        created = await toolkit.ensure_release(real_env.org, project_id, body)
        again = await toolkit.ensure_release(real_env.org, project_id, body)
        failed = await toolkit.record_deployment(
            real_env.org, project_id, 'staging', {'status': 'failure'}, tag='v5.0.0'
        )
        queued = await toolkit.record_deployment(
            real_env.org, project_id, 'testing', {'status': 'queued'}, tag='v5.0.0'
        )
    release = created.release
    # semver: the SHA shortened and lower-cased, the title from the tag.
    assert release['committish'] == 'abcdef1'
    assert release['title'] == 'Release v5.0.0'
    # github: a link to the GitHub release, stored by the server (with a label).
    assert {
        'type': 'github_release',
        'url': 'https://github.com/example/email-consumer/releases/tag/v5.0.0',
        'label': None,
    } in release['links']
    assert created.created and not again.created
    assert again.release['id'] == release['id']
    # github: GitHub's deployment states become Imbi's statuses.
    assert failed['current_status'] == 'failed'
    assert queued['current_status'] == 'pending'
    assert recorder.named('client_created') == [{}]
    assert [call['created'] for call in recorder.named('after_release')] == [
        True,
        False,
    ]
    results = [call['result'] for call in recorder.named('after_deployment')]
    assert [r['environment']['slug'] for r in results] == ['staging', 'testing']


async def test_semver_refuses_a_bad_tag_and_nothing_is_sent(real_env: RealOrg) -> None:
    project_id = real_env.projects['email-consumer']
    async with Imbi.from_settings(Settings()) as client:
        with pytest.raises(RefusedError, match="plugin 'semver' refused"):
            await Toolkit(client).ensure_release(
                real_env.org, project_id, {'committish': 'abcdef2', 'tag': 'banana'}
            )
        assert await client.list_releases(real_env.org, project_id, tag='banana') == []


async def test_patch_hooks_see_the_real_answer_and_may_refuse(
    real_env: RealOrg, recorder: Recorder
) -> None:
    project_id = real_env.projects['email-consumer']
    async with Imbi.from_settings(Settings()) as client:
        toolkit = Toolkit(client)
        with pytest.raises(RefusedError, match='no renames in this test'):
            await toolkit.patch_project(
                real_env.org,
                project_id,
                [{'op': 'replace', 'path': '/slug', 'value': 'x'}],
            )
        answer = await toolkit.patch_project(
            real_env.org,
            project_id,
            [
                {
                    'op': 'replace',
                    'path': '/description',
                    'value': 'Sends e-mail, watched',
                }
            ],
        )
    assert real_env.project('email-consumer')['slug'] == 'email-consumer'
    assert answer['description'] == 'Sends e-mail, watched'
    (call,) = recorder.named('after_patch')
    assert call['project']['description'] == 'Sends e-mail, watched'


async def test_github_logins_are_resolved_through_github_then_imbi(
    real_env: RealOrg, fake_github: typing.Any
) -> None:
    before = len(fake_github.requests)
    async with Imbi.from_settings(Settings()) as client:
        toolkit = Toolkit(client)
        octocat = await toolkit.find_user_by_identity('github', '@octocat')
        unknown = await toolkit.find_user_by_identity('github', 'no-such-login')
        # 2.41 takes `integration_slug` (2.12+): the client switched to it.
        assert client._identity_param == 'integration_slug'
    paths = [path for path, _ in fake_github.requests[before:]]
    assert paths == ['/users/octocat', '/users/no-such-login']
    # The real server has no identity connection for GitHub user 583231 (they
    # are made by an OAuth flow with GitHub): nobody, not an error.
    assert octocat is None and unknown is None
