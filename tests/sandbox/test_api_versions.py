"""Every status code of docs/imbi-api.md, under API 2.16 and 2.11.

Each case runs against a sandbox of each version, over real sockets, with
plain httpx and, for the helpers, with the toolkit's client.
"""

from __future__ import annotations

import typing
from collections import abc

import httpx
import pytest

from imbi_toolkit.testing import SandboxProcess

Json = dict[str, typing.Any]

# `imbi_sandbox` is the 2.16 line here; 2.11 comes from its own fixture.
pytestmark = pytest.mark.imbi_api_version('2.16')


@pytest.fixture(params=['2.16', '2.11'])
def versioned(
    request: pytest.FixtureRequest,
    imbi_sandbox: SandboxProcess,
    sandbox_2_11: SandboxProcess,
) -> SandboxProcess:
    sandbox = imbi_sandbox if request.param == '2.16' else sandbox_2_11
    if request.param == '2.11':
        sandbox.reset()  # imbi_sandbox resets itself
    return sandbox


@pytest.fixture
async def client(versioned: SandboxProcess) -> abc.AsyncIterator[httpx.AsyncClient]:
    headers = {'authorization': f'Bearer {versioned.token}'}
    async with httpx.AsyncClient(base_url=versioned.base_url, headers=headers) as http:
        yield http


@pytest.fixture
async def project(client: httpx.AsyncClient) -> str:
    listed = (await client.get('/organizations/engineering/projects/')).json()
    return str(next(p['id'] for p in listed if p['slug'] == 'billing-api'))


async def test_auth_and_routing_statuses(
    versioned: SandboxProcess, client: httpx.AsyncClient, project: str
) -> None:
    async with httpx.AsyncClient(base_url=versioned.base_url) as anonymous:
        missing = await anonymous.get('/organizations/')
        assert (missing.status_code, missing.headers['www-authenticate']) == (
            401,
            'Bearer',
        )
        assert (await anonymous.get('/organizations')).status_code == 307
    async with versioned.client(readonly=True) as readonly:
        refused = await readonly.patch_project('engineering', project, [])
        assert refused.status_code == 403
    assert (await client.get('/organizations/engineering')).status_code == 200
    unknown_org = await client.get('/organizations/nope')
    assert unknown_org.status_code == 404
    assert unknown_org.json() == {'detail': "Organization with slug 'nope' not found"}


async def test_patch_statuses(versioned: SandboxProcess, project: str) -> None:
    cases: list[tuple[list[Json], int]] = [
        ([{'op': 'replace', 'path': '/framework', 'value': 'flask'}], 200),
        ([{'op': 'replace', 'path': '/id', 'value': 'x'}], 400),
        ([{'op': 'test', 'path': '/framework', 'value': 'gin'}], 422),
        ([{'op': 'replace', 'path': '/team_slug', 'value': 'nope'}], 422),
        ([{'op': 'add', 'path': '/links/a/b', 'value': 'x'}], 500),
    ]
    async with versioned.client() as client:
        for ops, status in cases:
            response = await client.patch_project('engineering', project, ops)
            assert response.status_code == status, ops
        assert (
            await client.patch_project('engineering', 'nope', [])
        ).status_code == 404


async def test_release_and_deployment_statuses(
    versioned: SandboxProcess, project: str
) -> None:
    body = {'committish': 'beef123', 'title': 'Release 5.0.0', 'tag': '5.0.0'}
    async with versioned.client() as client:
        created = await client.create_release('engineering', project, body)
        assert created.status_code == 201
        assert (
            await client.create_release('engineering', project, body)
        ).status_code == 409
        bad = await client.create_release(
            'engineering', project, {**body, 'version': '5'}
        )
        assert bad.status_code == 422
        assert (
            await client.create_release('engineering', 'nope', body)
        ).status_code == 404
        release_id = created.json()['id']
        recorded = await client.record_deployment(
            'engineering', project, release_id, 'production', {'status': 'success'}
        )
        assert recorded.status_code == 200
        missing = await client.record_deployment(
            'engineering', project, 'nope', 'production', {'status': 'success'}
        )
        assert missing.status_code == 404
        unknown_env = await client.record_deployment(
            'engineering', project, release_id, 'prod', {'status': 'success'}
        )
        assert unknown_env.status_code == 422
        document = (
            await client.get(f'/organizations/engineering/projects/{project}')
        ).json()
    production = next(e for e in document['environments'] if e['slug'] == 'production')
    if versioned.api_version == '2.16':
        assert production['current_release'] == release_id
    else:  # current_release arrived in 2.16.1
        assert 'current_release' not in production


async def test_identity_statuses(
    versioned: SandboxProcess, client: httpx.AsyncClient
) -> None:
    param = 'integration_slug' if versioned.api_version == '2.16' else 'plugin_slug'
    other = 'plugin_slug' if param == 'integration_slug' else 'integration_slug'
    found = await client.get(
        '/users/by-identity', params={param: 'github', 'subject': '7741952'}
    )
    assert (found.status_code, found.json()['email']) == (200, 'carol@example.com')
    none = await client.get(
        '/users/by-identity', params={param: 'github', 'subject': '0'}
    )
    assert none.status_code == 404
    wrong = await client.get(
        '/users/by-identity', params={other: 'github', 'subject': '1'}
    )
    assert wrong.status_code == 422
    assert wrong.json()['detail'][0]['loc'] == ['query', param]
    async with versioned.client() as toolkit:
        assert (
            await toolkit.find_user_by_identity('github', '7741952')
            == 'carol@example.com'
        )


async def test_version_shapes(
    versioned: SandboxProcess, client: httpx.AsyncClient, project: str
) -> None:
    spec = (await client.get('/openapi.json')).json()
    document = (
        await client.get(f'/organizations/engineering/projects/{project}')
    ).json()
    [service] = document['services']
    if versioned.api_version == '2.16':
        assert spec['info']['version'] == '2.16.1'
        assert service['integration_slug'] == 'github'
    else:
        assert spec['info']['version'] == '2.11.5'
        assert service['third_party_service_slug'] == 'github'
