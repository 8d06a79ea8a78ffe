"""Organisations and environments (docs/imbi-api.md#organizations)."""

from __future__ import annotations

import httpx
import pytest

# The 2.16 line's shapes and statuses (2.41's: test_generations.py).
pytestmark = pytest.mark.imbi_api_version('2.16')


async def test_organizations_are_listed_by_name(http: httpx.AsyncClient) -> None:
    response = await http.get('/organizations/')
    assert response.status_code == 200
    organizations = response.json()
    assert [o['slug'] for o in organizations] == ['engineering', 'research']
    engineering = organizations[0]
    assert engineering['created_at'].endswith('+00:00')  # a raw graph dict
    assert engineering['relationships']['projects'] == {
        'href': '/organizations/engineering/projects',
        'count': 25,
    }
    assert engineering['relationships']['teams']['count'] == 5


async def test_get_organization(http: httpx.AsyncClient) -> None:
    response = await http.get('/organizations/research')
    assert response.status_code == 200
    assert response.json()['name'] == 'Research'
    missing = await http.get('/organizations/nope')
    assert missing.status_code == 404
    assert missing.json() == {'detail': "Organization with slug 'nope' not found"}


async def test_environments_in_sort_order(http: httpx.AsyncClient) -> None:
    response = await http.get('/organizations/engineering/environments/')
    assert response.status_code == 200
    environments = response.json()
    assert [(e['slug'], e['sort_order']) for e in environments] == [
        ('testing', 10),
        ('staging', 20),
        ('production', 30),
    ]
    production = environments[2]
    assert production['label_color'] == '#DC2626'
    assert production['organization']['slug'] == 'engineering'
    assert production['relationships']['projects']['href'] == (
        '/organizations/engineering/projects/?environment=production'
    )
    assert production['relationships']['projects']['count'] == 23


async def test_environments_of_unknown_org_are_empty(http: httpx.AsyncClient) -> None:
    response = await http.get('/organizations/nope/environments/')
    assert (response.status_code, response.json()) == (200, [])


async def test_readonly_token_reads_organizations(readonly: httpx.AsyncClient) -> None:
    assert (await readonly.get('/organizations/')).status_code == 200
    assert (
        await readonly.get('/organizations/engineering/environments/')
    ).status_code == 200
