"""Releases and deployment events.

See docs/imbi-api.md#releases-create and docs/imbi-api.md#deployment-events.
"""

from __future__ import annotations

import typing

import httpx
import pytest

# The 2.16 line's shapes and statuses (2.41's: test_generations.py).
pytestmark = pytest.mark.imbi_api_version('2.16')

Json = dict[str, typing.Any]


def _releases(project: str) -> str:
    return f'/organizations/engineering/projects/{project}/releases/'


async def test_create_release_is_201(http: httpx.AsyncClient, billing_api: str) -> None:
    body = {'committish': 'a1b2c3d', 'title': 'Release 2.0.0', 'tag': '2.0.0'}
    response = await http.post(_releases(billing_api), json=body)
    assert response.status_code == 201
    release = response.json()
    assert len(release['id']) == 21
    assert release['project_id'] == billing_api
    assert release['created_by'] == 'admin@example.com'
    assert release['links'] == []
    assert release['created_at'].endswith('Z')
    fetched = await http.get(_releases(billing_api) + release['id'])
    assert fetched.json() == release
    listed = await http.get(_releases(billing_api))
    assert listed.json()[0] == release  # newest first


async def test_duplicate_committish_and_tag_is_409(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    body = {'committish': 'a1b2c3d', 'title': 'x', 'tag': '2.0.0'}
    assert (await http.post(_releases(billing_api), json=body)).status_code == 201
    response = await http.post(_releases(billing_api), json=body)
    assert response.status_code == 409
    assert response.json() == {
        'detail': "Release committish='a1b2c3d' tag='2.0.0' already exists "
        f'for project {billing_api!r}'
    }
    other_tag = await http.post(_releases(billing_api), json={**body, 'tag': '2.0.1'})
    assert other_tag.status_code == 201


async def test_missing_tag_conflicts_with_empty_tag(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    assert (
        await http.post(
            _releases(billing_api), json={'committish': 'fffffff', 'title': 'x'}
        )
    ).status_code == 201
    response = await http.post(
        _releases(billing_api), json={'committish': 'fffffff', 'title': 'x', 'tag': ''}
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    ('body', 'error_type', 'loc'),
    [
        (
            {'committish': 'A1B2C3D', 'title': 'x'},
            'string_pattern_mismatch',
            ['body', 'committish'],
        ),
        (
            {'committish': 'a1b2c3d4e5', 'title': 'x'},
            'string_pattern_mismatch',
            ['body', 'committish'],
        ),
        (
            {'committish': 'a1b2c3d', 'title': 'x', 'version': '1.0'},
            'extra_forbidden',
            ['body', 'version'],
        ),
        ({'committish': 'a1b2c3d'}, 'missing', ['body', 'title']),
        (
            {
                'committish': 'a1b2c3d',
                'title': 'x',
                'links': [{'type': 'x', 'url': 'nope'}],
            },
            'url_parsing',
            ['body', 'links', 0, 'url'],
        ),
    ],
)
async def test_invalid_release_body_is_422(
    http: httpx.AsyncClient,
    billing_api: str,
    body: Json,
    error_type: str,
    loc: list[object],
) -> None:
    response = await http.post(_releases(billing_api), json=body)
    assert response.status_code == 422
    [error] = response.json()['detail']
    assert (error['type'], error['loc']) == (error_type, loc)


async def test_release_for_unknown_project_is_404(http: httpx.AsyncClient) -> None:
    response = await http.post(
        _releases('nope'), json={'committish': 'a1b2c3d', 'title': 'x'}
    )
    assert response.status_code == 404
    assert response.json() == {'detail': "Project 'nope' not found"}


async def test_listing_filters_and_unknown_project(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    releases = (await http.get(_releases(billing_api))).json()
    assert len(releases) == 3
    assert [r['created_at'] for r in releases] == sorted(
        (r['created_at'] for r in releases), reverse=True
    )
    oldest = releases[-1]
    by_tag = await http.get(_releases(billing_api), params={'tag': oldest['tag']})
    assert [r['id'] for r in by_tag.json()] == [oldest['id']]
    by_both = await http.get(
        _releases(billing_api), params={'tag': oldest['tag'], 'committish': '0000000'}
    )
    assert by_both.json() == []
    assert (await http.get(_releases('unknown'))).json() == []


async def test_unknown_release_is_404(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    response = await http.get(_releases(billing_api) + 'nope')
    assert response.status_code == 404
    assert response.json() == {
        'detail': f"Release 'nope' for project {billing_api!r} not found"
    }


async def test_recording_deployments_appends_without_deduplication(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    created = await http.post(
        _releases(billing_api), json={'committish': 'abcdef0', 'title': 'x'}
    )
    release = created.json()['id']
    url = f'{_releases(billing_api)}{release}/environments/production'
    assert (await http.get(url)).status_code == 404  # no events yet
    first = await http.post(
        url, json={'status': 'success', 'note': 'deployed', 'external_run_id': '98'}
    )
    second = await http.post(
        url, json={'status': 'success', 'note': 'deployed', 'external_run_id': '98'}
    )
    assert first.status_code == second.status_code == 200
    edge = second.json()
    assert edge['environment'] == {'slug': 'production', 'name': 'Production'}
    assert edge['current_status'] == 'success'
    assert len(edge['deployments']) == 2
    assert edge['deployments'][0]['external_run_id'] is None  # not stored
    assert (await http.get(url)).json() == edge
    edges = (await http.get(f'{_releases(billing_api)}{release}/environments')).json()
    assert [e['environment']['slug'] for e in edges] == ['production']
    project = (
        await http.get(f'/organizations/engineering/projects/{billing_api}')
    ).json()
    production = next(e for e in project['environments'] if e['slug'] == 'production')
    assert production['current_release'] == release


async def test_deployment_errors(http: httpx.AsyncClient, billing_api: str) -> None:
    missing = await http.post(
        f'{_releases(billing_api)}nope/environments/production',
        json={'status': 'success'},
    )
    assert missing.status_code == 404
    assert missing.json() == {
        'detail': f"Release 'nope' for project {billing_api!r} not found"
    }
    release = (await http.get(_releases(billing_api))).json()[0]['id']
    unknown_env = await http.post(
        f'{_releases(billing_api)}{release}/environments/prod',
        json={'status': 'success'},
    )
    assert unknown_env.status_code == 422
    assert unknown_env.json() == {
        'detail': "Environment 'prod' not found in organization 'engineering'"
    }
    bad_status = await http.post(
        f'{_releases(billing_api)}{release}/environments/production',
        json={'status': 'done'},
    )
    assert bad_status.status_code == 422
    assert bad_status.json()['detail'][0]['loc'] == ['body', 'status']
