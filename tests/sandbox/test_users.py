"""``/users/me`` and ``/users/by-identity`` under both API versions."""

from __future__ import annotations

import httpx
import pytest

from imbi_toolkit.testing import SandboxProcess


async def test_me_lists_permissions_and_teams(http: httpx.AsyncClient) -> None:
    response = await http.get('/users/me')
    assert response.status_code == 200
    me = response.json()
    assert me['email'] == 'admin@example.com'
    assert me['is_admin'] is True
    assert 'project:write' in me['permissions']
    assert me['permissions'] == sorted(me['permissions'])
    assert me['teams'] == [
        {
            'team_name': 'Platform',
            'team_slug': 'platform',
            'organization_slug': 'engineering',
        }
    ]


async def test_readonly_me_lacks_write_permission(readonly: httpx.AsyncClient) -> None:
    me = (await readonly.get('/users/me')).json()
    assert me['email'] == 'readonly@example.com'
    assert 'project:write' not in me['permissions']


async def test_by_identity_with_integration_slug(http: httpx.AsyncClient) -> None:
    response = await http.get(
        '/users/by-identity', params={'integration_slug': 'github', 'subject': '583231'}
    )
    assert response.status_code == 200
    assert response.json()['email'] == 'alice@example.com'
    assert response.json()['organizations'][0]['organization_slug'] == 'engineering'


@pytest.mark.parametrize(
    'subject', ['1', '3141592', '9999999'], ids=['unknown', 'revoked', 'ambiguous']
)
async def test_by_identity_without_one_match_is_404(
    http: httpx.AsyncClient, subject: str
) -> None:
    response = await http.get(
        '/users/by-identity', params={'integration_slug': 'github', 'subject': subject}
    )
    assert response.status_code == 404
    assert response.json() == {
        'detail': f"No user matches integration 'github' subject {subject!r}"
    }


async def test_by_identity_2_16_refuses_plugin_slug(http: httpx.AsyncClient) -> None:
    response = await http.get(
        '/users/by-identity', params={'plugin_slug': 'github', 'subject': '583231'}
    )
    assert response.status_code == 422
    assert response.json() == {
        'detail': [
            {
                'type': 'missing',
                'loc': ['query', 'integration_slug'],
                'msg': 'Field required',
                'input': None,
            }
        ]
    }


async def test_by_identity_2_11_takes_plugin_slug(sandbox_2_11: SandboxProcess) -> None:
    sandbox_2_11.reset()
    headers = {'authorization': f'Bearer {sandbox_2_11.token}'}
    async with httpx.AsyncClient(
        base_url=sandbox_2_11.base_url, headers=headers
    ) as client:
        found = await client.get(
            '/users/by-identity', params={'plugin_slug': 'github', 'subject': '1024025'}
        )
        assert found.status_code == 200
        assert found.json()['email'] == 'bob@example.com'
        gitlab = await client.get(
            '/users/by-identity', params={'plugin_slug': 'gitlab', 'subject': '42'}
        )
        assert gitlab.json()['email'] == 'bob@example.com'
        none = await client.get(
            '/users/by-identity', params={'plugin_slug': 'github', 'subject': '1'}
        )
        assert none.status_code == 404
        assert none.json() == {'detail': "No user matches plugin 'github' subject '1'"}
        wrong = await client.get(
            '/users/by-identity', params={'integration_slug': 'github', 'subject': '1'}
        )
        assert wrong.status_code == 422
        assert wrong.json()['detail'][0]['loc'] == ['query', 'plugin_slug']


async def test_by_identity_missing_both_parameters(http: httpx.AsyncClient) -> None:
    response = await http.get('/users/by-identity')
    assert [error['loc'] for error in response.json()['detail']] == [
        ['query', 'integration_slug'],
        ['query', 'subject'],
    ]


@pytest.mark.parametrize('api_version', ['2.16', '2.11'])
async def test_toolkit_client_finds_users_under_both_versions(
    imbi_sandbox: SandboxProcess, sandbox_2_11: SandboxProcess, api_version: str
) -> None:
    sandbox = imbi_sandbox if api_version == '2.16' else sandbox_2_11
    async with sandbox.client() as client:
        assert (
            await client.find_user_by_identity('github', '583231')
            == 'alice@example.com'
        )
        assert await client.find_user_by_identity('github', '1') is None
        assert await client.find_user_by_identity('github', '9999999') is None
