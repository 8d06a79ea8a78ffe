"""``/openapi.json`` follows the emulated API version."""

from __future__ import annotations

import httpx
import pytest

from imbi_toolkit.testing import API_VERSIONS, SandboxProcess

# The 2.16 line's shapes and statuses (2.41's: test_generations.py).
pytestmark = pytest.mark.imbi_api_version('2.16')


def _identity_params(spec: dict[str, object]) -> list[str]:
    paths = spec['paths']
    assert isinstance(paths, dict)
    return [p['name'] for p in paths['/users/by-identity']['get']['parameters']]


async def test_openapi_2_16(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get('/openapi.json')
    assert response.status_code == 200
    spec = response.json()
    assert spec['info']['version'] == '2.16.1'
    assert _identity_params(spec) == ['integration_slug', 'subject']
    paths = spec['paths']
    assert set(paths['/organizations/{org_slug}/projects/{project_id}']) == {
        'get',
        'patch',
    }
    release_create = spec['components']['schemas']['ReleaseCreate']
    assert release_create['additionalProperties'] is False
    assert release_create['properties']['committish']['pattern'] == '^[0-9a-f]{7}$'


def test_openapi_2_11(sandbox_2_11: SandboxProcess) -> None:
    spec = httpx.get(sandbox_2_11.base_url + '/openapi.json').json()
    assert spec['info']['version'] == '2.11.5'
    assert _identity_params(spec) == ['plugin_slug', 'subject']


@pytest.mark.parametrize('imbi_api_version', API_VERSIONS)
async def test_every_documented_route_is_served(
    http: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    spec = (await anonymous.get('/openapi.json')).json()
    for path, operations in spec['paths'].items():
        concrete = (
            path.replace('{org_slug}', 'engineering')
            .replace('{project_id}', 'p')
            .replace('{release_id}', 'r')
            .replace('{env_slug}', 'production')
        )
        for method in operations:
            response = await http.request(method.upper(), concrete)
            # Served: never "no such route" (307, 405, or 404 Not Found).
            assert response.status_code not in (307, 405), (method, path)
            if response.status_code == 404:
                assert response.json() != {'detail': 'Not Found'}, (method, path)
