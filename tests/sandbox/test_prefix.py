"""``--prefix``: the API under a path, as deployments mount it.

See docs/imbi-api.md#paths.
"""

from __future__ import annotations

from collections import abc

import httpx
import pytest

from imbi_toolkit.testing import SandboxProcess, SandboxStartError


@pytest.fixture(scope='module')
def prefixed(imbi_sandbox_factory: abc.Callable[..., SandboxProcess]) -> SandboxProcess:
    return imbi_sandbox_factory(prefix='/api')


async def test_the_toolkit_client_works_under_a_prefix(
    prefixed: SandboxProcess,
) -> None:
    prefixed.reset()
    assert prefixed.base_url.endswith('/api')
    async with prefixed.client() as client:
        listed = await client.get('/organizations/engineering/projects/')
        assert listed.status_code == 200
        project = listed.json()[0]
        assert project['relationships']['href'].startswith(
            '/api/organizations/engineering/projects/'
        )
        patched = await client.patch_project(
            'engineering',
            project['id'],
            [{'op': 'replace', 'path': '/description', 'value': 'x'}],
        )
        assert patched.status_code == 200
        created = await client.create_release(
            'engineering', project['id'], {'committish': 'abcdef1', 'title': 'x'}
        )
        assert created.status_code == 201
        assert (
            await client.find_user_by_identity('github', '583231')
            == 'alice@example.com'
        )


async def test_openapi_stays_at_the_root(prefixed: SandboxProcess) -> None:
    root = prefixed.base_url.removesuffix('/api')
    async with httpx.AsyncClient(base_url=root) as http:
        spec = (await http.get('/openapi.json')).json()
        assert '/api/organizations/{org_slug}/projects/' in spec['paths']
        assert (await http.get('/api/openapi.json')).status_code == 404
        assert (await http.get('/api/status')).json() == {
            'service': 'imbi',
            'status': 'ok',
        }
        assert (await http.get('/organizations/')).status_code == 404
        redirect = await http.get('/api/organizations')
        assert redirect.status_code == 307
        assert redirect.headers['location'] == f'{root}/api/organizations/'


async def test_faults_match_the_full_path(prefixed: SandboxProcess) -> None:
    prefixed.add_fault(path='/api/users/me', status=503, times=1)
    async with prefixed.client() as client:
        assert (await client.get('/users/me')).status_code == 503
        assert (await client.get('/users/me')).status_code == 200
    prefixed.clear_faults()


def test_bad_prefix_is_refused(
    imbi_sandbox_factory: abc.Callable[..., SandboxProcess],
) -> None:
    with pytest.raises(
        SandboxStartError, match='prefix must be empty or a path like /api'
    ):
        imbi_sandbox_factory(prefix='api/')
