"""The GitHub plugin: identities against a local fake GitHub, links, states."""

from __future__ import annotations

import importlib.metadata
import json
import logging

import httpx
import pytest
from imbi_toolkit_github import GitHubPlugin, GitHubSettings, plugin
from imbi_toolkit_github.testing import FakeGitHub

from imbi_toolkit.api import Imbi

GITHUB_TOKEN = 'ghp_canary1234567890'


@pytest.fixture
def github():
    with FakeGitHub({'octocat': 583231}) as fake:
        yield fake


def make_plugin(url: str, **settings) -> GitHubPlugin:
    return GitHubPlugin(GitHubSettings(api_url=url, **settings))


def test_the_entry_point_names_this_plugin():
    [entry_point] = [
        ep
        for ep in importlib.metadata.entry_points(group='imbi_toolkit')
        if ep.name == 'github'
    ]
    assert entry_point.dist.metadata['Name'] == 'imbi-toolkit-github'
    assert entry_point.load() is plugin


async def test_login_becomes_the_numeric_id(github):
    subject = await make_plugin(github.url).imbi_identity_subject('github', 'OctoCat')

    assert subject == '583231'
    [(path, headers)] = github.requests
    assert path == '/users/OctoCat'
    assert headers['accept'] == 'application/vnd.github+json'
    assert 'authorization' not in headers


async def test_numeric_id_and_at_sign(github):
    github_plugin = make_plugin(github.url)

    assert await github_plugin.imbi_identity_subject('github', '583231') == '583231'
    assert await github_plugin.imbi_identity_subject('github', '@octocat') == '583231'
    assert len(github.requests) == 1


async def test_other_slugs_and_non_logins_are_not_looked_up(github):
    github_plugin = make_plugin(github.url)

    assert await github_plugin.imbi_identity_subject('gitlab', 'octocat') is None
    assert await github_plugin.imbi_identity_subject('github', '../admin') is None
    assert await github_plugin.imbi_identity_subject('github', 'a--b') is None
    assert github.requests == []


async def test_unknown_login_is_none(github):
    assert (
        await make_plugin(github.url).imbi_identity_subject('github', 'ghost') is None
    )


async def test_token_is_sent_and_never_logged(caplog):
    with FakeGitHub({}, fail_with=500) as github, caplog.at_level(logging.DEBUG):
        github_plugin = make_plugin(github.url, token=GITHUB_TOKEN)
        assert await github_plugin.imbi_identity_subject('github', 'octocat') is None

    [(_, headers)] = github.requests
    assert headers['authorization'] == f'Bearer {GITHUB_TOKEN}'
    assert "GitHub user lookup for 'octocat' failed: 500" in caplog.text
    assert GITHUB_TOKEN not in caplog.text
    assert GITHUB_TOKEN not in repr(github_plugin)


async def test_unreachable_github_is_none_with_a_warning(caplog):
    with FakeGitHub({}) as github:
        url = github.url  # closed when the block ends
    with caplog.at_level(logging.WARNING):
        assert await make_plugin(url).imbi_identity_subject('github', 'octocat') is None
    assert 'ConnectError' in caplog.text or 'failed' in caplog.text


def imbi_with_project(project: dict | None, status: int = 200):
    requests = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(status, json=project or {'detail': 'nope'})

    client = Imbi(
        base_url='http://imbi.test',
        token='imbi-token-x',
        transport=httpx.MockTransport(handle),
    )
    return client, requests


async def test_release_link_from_the_repository_link():
    client, requests = imbi_with_project(
        {'links': {'github-repository': 'https://github.com/example/billing-api.git'}}
    )
    body = {
        'committish': 'a1b2c3d',
        'tag': 'v1.4.0',
        'links': [{'type': 'docs', 'url': 'https://d'}],
    }

    async with client:
        changed = await GitHubPlugin(GitHubSettings()).imbi_before_release_create(
            client, 'engineering', 'V1StGXR8_Z5jdHi6B-myT', body
        )

    assert changed['links'] == [
        {'type': 'docs', 'url': 'https://d'},
        {
            'type': 'github_release',
            'url': 'https://github.com/example/billing-api/releases/tag/v1.4.0',
        },
    ]
    assert body['links'] == [{'type': 'docs', 'url': 'https://d'}]
    [request] = requests
    assert (
        request.url.path == '/organizations/engineering/projects/V1StGXR8_Z5jdHi6B-myT'
    )


@pytest.mark.parametrize(
    ('project', 'status', 'body'),
    [
        ({'links': {}}, 200, {'tag': '1.0.0'}),
        (
            {'links': {'github-repository': 'https://github.com/e/r'}},
            200,
            {'title': 'no tag'},
        ),
        (
            {'links': {'github-repository': 'https://github.com/e/r'}},
            200,
            {'tag': '1.0.0', 'links': [{'type': 'github_release', 'url': 'https://x'}]},
        ),
        (None, 403, {'tag': '1.0.0'}),
    ],
    ids=['no-repository-link', 'no-tag', 'link-already-there', 'project-unreadable'],
)
async def test_release_left_alone(project, status, body):
    client, _ = imbi_with_project(project, status)

    async with client:
        changed = await GitHubPlugin(GitHubSettings()).imbi_before_release_create(
            client, 'eng', 'P1', body
        )

    assert changed is None


@pytest.mark.parametrize(
    ('state', 'status'),
    [
        ('queued', 'pending'),
        ('failure', 'failed'),
        ('error', 'failed'),
        ('INACTIVE', 'rolled_back'),
    ],
)
def test_github_deployment_states_map_to_imbi_statuses(state, status):
    changed = GitHubPlugin().imbi_before_deployment_event(
        {'status': state, 'note': 'n'}
    )

    assert changed == {'status': status, 'note': 'n'}


@pytest.mark.parametrize('status', ['success', 'in_progress', 'pending', 'rolled_back'])
def test_imbi_statuses_pass_through(status):
    assert GitHubPlugin().imbi_before_deployment_event({'status': status}) is None


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv('IMBI_TOOLKIT_GITHUB_API_URL', 'http://127.0.0.1:9/api/v3')
    monkeypatch.setenv('IMBI_TOOLKIT_GITHUB_TOKEN', GITHUB_TOKEN)

    settings = GitHubPlugin().settings

    assert str(settings.api_url) == 'http://127.0.0.1:9/api/v3'
    assert GITHUB_TOKEN not in repr(settings)
    assert json.dumps(settings.model_dump(mode='json')).count(GITHUB_TOKEN) == 0
