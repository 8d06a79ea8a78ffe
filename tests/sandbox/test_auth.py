"""Bearer authentication and permissions, as the real server answers them."""

from __future__ import annotations

import httpx
import pytest

from imbi_toolkit.testing import SandboxProcess


async def test_status_needs_no_token(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get('/status')
    assert response.status_code == 200
    assert response.json() == {'service': 'imbi', 'status': 'ok'}


@pytest.mark.parametrize(
    'headers',
    [{}, {'authorization': 'Basic dXNlcjpwYXNz'}, {'authorization': 'Bearer'}],
    ids=['no-header', 'basic-scheme', 'empty-bearer'],
)
async def test_missing_credentials_is_401_with_www_authenticate(
    anonymous: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await anonymous.get('/organizations/', headers=headers)
    assert response.status_code == 401
    assert response.headers['www-authenticate'] == 'Bearer'
    assert response.headers['content-type'] == 'application/json'
    assert response.json() == {'detail': 'Missing authentication credentials'}


@pytest.mark.parametrize(
    ('token', 'detail'),
    [
        ('not-a-jwt', 'Invalid token'),
        # Only a key without three parts is malformed; any other unknown key
        # fails its lookup.
        ('ik_short_secret', 'Invalid or revoked API key'),
        ('ik_nosecret', 'Invalid API key format'),
        ('ik_' + 'a' * 32 + '_secret', 'Invalid or revoked API key'),
    ],
)
async def test_unknown_token_is_401_without_www_authenticate(
    anonymous: httpx.AsyncClient, token: str, detail: str
) -> None:
    response = await anonymous.get(
        '/organizations/', headers={'authorization': f'Bearer {token}'}
    )
    assert response.status_code == 401
    assert 'www-authenticate' not in response.headers
    assert response.json() == {'detail': detail}


async def test_readonly_token_reads(readonly: httpx.AsyncClient) -> None:
    response = await readonly.get('/organizations/engineering/projects/')
    assert response.status_code == 200
    assert len(response.json()) == 24


async def test_readonly_token_is_refused_every_write(
    readonly: httpx.AsyncClient, billing_api: str
) -> None:
    base = f'/organizations/engineering/projects/{billing_api}'
    releases = (await readonly.get(f'{base}/releases/')).json()
    writes = [
        readonly.patch(base, json=[]),
        readonly.post(
            f'{base}/releases/', json={'committish': 'abcdef1', 'title': 't'}
        ),
        readonly.post(
            f'{base}/releases/{releases[0]["id"]}/environments/testing',
            json={'status': 'success'},
        ),
    ]
    for write in writes:
        response = await write
        assert response.status_code == 403
        assert response.json() == {
            'detail': 'Permission denied: project:write required'
        }


async def test_auth_is_checked_before_body_validation(
    anonymous: httpx.AsyncClient, readonly: httpx.AsyncClient
) -> None:
    url = '/organizations/engineering/projects/whatever/releases/'
    assert (await anonymous.post(url, json={'version': '1'})).status_code == 401
    assert (await readonly.post(url, json={'version': '1'})).status_code == 403


async def test_malformed_json_is_422_even_without_a_token(
    anonymous: httpx.AsyncClient,
) -> None:
    response = await anonymous.post(
        '/organizations/engineering/projects/x/releases/',
        content=b'{"committish":',
        headers={'content-type': 'application/json'},
    )
    assert response.status_code == 422
    [error] = response.json()['detail']
    assert error['type'] == 'json_invalid'
    assert error['loc'][0] == 'body'


async def test_an_issued_key_is_revoked_by_a_reset(
    imbi_sandbox: SandboxProcess, http: httpx.AsyncClient
) -> None:
    issued = await http.post('/_sandbox/api-keys', json={'email': 'bob@example.com'})
    assert issued.status_code == 201
    headers = {'authorization': f'Bearer {issued.json()["key"]}'}
    assert (await http.get('/users/me', headers=headers)).json()['email'] == (
        'bob@example.com'
    )
    unknown = await http.post('/_sandbox/api-keys', json={'email': 'nobody@x'})
    assert unknown.status_code == 404
    imbi_sandbox.reset()
    revoked = await http.get('/users/me', headers=headers)
    assert (revoked.status_code, revoked.json()) == (
        401,
        {'detail': 'Invalid or revoked API key'},
    )
