"""Exact paths, JSON content types and FastAPI's default bodies."""

from __future__ import annotations

import httpx
import pytest

from imbi_toolkit.testing import SandboxProcess


@pytest.mark.parametrize(
    ('path', 'location'),
    [
        ('/organizations', '/organizations/'),
        ('/organizations/engineering/', '/organizations/engineering'),
        ('/organizations/engineering/projects', '/organizations/engineering/projects/'),
        ('/users/me/', '/users/me'),
    ],
)
async def test_wrong_trailing_slash_is_307_before_auth(
    anonymous: httpx.AsyncClient, imbi_sandbox: SandboxProcess, path: str, location: str
) -> None:
    response = await anonymous.get(path)
    assert response.status_code == 307
    assert response.headers['location'] == imbi_sandbox.base_url + location


async def test_redirect_keeps_method_for_posts(http: httpx.AsyncClient) -> None:
    response = await http.post(
        '/organizations/engineering/projects/x/releases', json={'title': 't'}
    )
    assert response.status_code == 307
    assert response.headers['location'].endswith('/projects/x/releases/')


async def test_unknown_route_is_404_not_found(http: httpx.AsyncClient) -> None:
    response = await http.get('/nothing/here')
    assert response.status_code == 404
    assert response.json() == {'detail': 'Not Found'}


async def test_wrong_method_is_405(http: httpx.AsyncClient) -> None:
    response = await http.delete('/organizations/')
    assert response.status_code == 405
    assert response.json() == {'detail': 'Method Not Allowed'}


@pytest.mark.parametrize(
    'content_type', [None, 'text/plain', 'application/x-www-form-urlencoded']
)
async def test_body_without_json_content_type_is_422(
    http: httpx.AsyncClient, billing_api: str, content_type: str | None
) -> None:
    headers = {} if content_type is None else {'content-type': content_type}
    base = f'/organizations/engineering/projects/{billing_api}'
    release = await http.post(
        f'{base}/releases/',
        content=b'{"committish":"abcdef1","title":"t"}',
        headers=headers,
    )
    assert release.status_code == 422
    assert release.json()['detail'][0]['type'] == 'model_attributes_type'
    patch = await http.patch(base, content=b'[]', headers=headers)
    assert patch.status_code == 422
    assert patch.json()['detail'][0]['type'] == 'list_type'


@pytest.mark.parametrize(
    'content_type', ['application/json-patch+json', 'application/json; charset=utf-8']
)
async def test_json_flavoured_content_types_are_accepted(
    http: httpx.AsyncClient, billing_api: str, content_type: str
) -> None:
    response = await http.patch(
        f'/organizations/engineering/projects/{billing_api}',
        content=b'[]',
        headers={'content-type': content_type},
    )
    assert response.status_code == 200


async def test_every_answer_is_json(http: httpx.AsyncClient, billing_api: str) -> None:
    for path in (
        '/organizations/',
        f'/organizations/engineering/projects/{billing_api}',
        '/users/me',
    ):
        response = await http.get(path)
        assert response.status_code == 200
        assert response.headers['content-type'] == 'application/json'
