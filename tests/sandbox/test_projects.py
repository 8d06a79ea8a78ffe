"""Projects: listing, reading and the JSON Patch rules.

See docs/imbi-api.md#projects-patch.
"""

from __future__ import annotations

import typing

import httpx
import pytest

# The 2.16 line's shapes and statuses (2.41's: test_generations.py).
pytestmark = pytest.mark.imbi_api_version('2.16')

Json = dict[str, typing.Any]


async def test_list_is_ordered_by_name_without_archived(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get('/organizations/engineering/projects/')
    assert response.status_code == 200
    names = [item['name'] for item in response.json()]
    assert names == sorted(names)
    assert 'Legacy Billing' not in names
    assert len(names) == 24


async def test_list_includes_archived_on_request(http: httpx.AsyncClient) -> None:
    response = await http.get(
        '/organizations/engineering/projects/', params={'include_archived': 'true'}
    )
    archived = [item for item in response.json() if item['archived']]
    assert [item['slug'] for item in archived] == ['legacy-billing']
    assert archived[0]['archived_at'].endswith('Z')


async def test_list_filters_by_project_type(http: httpx.AsyncClient) -> None:
    response = await http.get(
        '/organizations/engineering/projects/', params={'project_type': 'library'}
    )
    assert {item['slug'] for item in response.json()} == {
        'python-commons',
        'http-client-lib',
    }


async def test_slim_list_has_only_the_list_fields(http: httpx.AsyncClient) -> None:
    response = await http.get(
        '/organizations/engineering/projects/', params={'slim': 'true'}
    )
    item = response.json()[0]
    assert set(item) == {
        'id',
        'name',
        'slug',
        'description',
        'archived',
        'score',
        'team',
        'project_types',
        'environments',
        'open_pr_count',
        'closed_pr_count',
        'viewer_open_pr_count',
        'viewer_closed_pr_count',
        'current_releases',
        'release_summary',
    }
    assert set(item['team']) == {'name', 'slug'}


async def test_list_by_integration_identifier(http: httpx.AsyncClient) -> None:
    url = '/organizations/engineering/projects/'
    everything = (await http.get(url, params={'integration_slug': 'github'})).json()
    assert len(everything) == 24
    repository = everything[0]['services'][0]['identifier']
    one = await http.get(
        url, params={'integration_slug': 'github', 'identifier': repository}
    )
    assert [p['id'] for p in one.json()] == [everything[0]['id']]
    assert (await http.get(url, params={'integration_slug': 'gitlab'})).json() == []
    alone = await http.get(url, params={'identifier': repository})
    assert alone.status_code == 422
    assert alone.json()['detail'].startswith('identifier requires integration_slug')


async def test_invalid_boolean_query_is_422(http: httpx.AsyncClient) -> None:
    response = await http.get(
        '/organizations/engineering/projects/', params={'slim': 'maybe'}
    )
    assert response.status_code == 422
    assert response.json()['detail'][0]['loc'] == ['query', 'slim']


async def test_unknown_org_lists_nothing(http: httpx.AsyncClient) -> None:
    response = await http.get('/organizations/nope/projects/')
    assert response.status_code == 200
    assert response.json() == []


async def test_get_project_shape(http: httpx.AsyncClient, billing_api: str) -> None:
    response = await http.get(f'/organizations/engineering/projects/{billing_api}')
    assert response.status_code == 200
    project = response.json()
    assert project['id'] == billing_api
    assert project['team']['slug'] == 'payments'
    assert project['team']['organization']['slug'] == 'engineering'
    assert [t['slug'] for t in project['project_types']] == ['api-service']
    assert [e['slug'] for e in project['environments']] == [
        'testing',
        'staging',
        'production',
    ]
    production = project['environments'][2]
    assert production['url'] == 'https://billing-api.example.com'
    assert production['current_release_at'].endswith('+00:00')
    assert (
        project['links']['github-repository']
        == 'https://github.com/example/billing-api'
    )
    assert project['framework'] == 'fastapi'
    assert project['created_at'].endswith('Z')
    assert set(project['current_releases']) == {'testing', 'staging', 'production'}


async def test_project_in_another_org_is_404(
    http: httpx.AsyncClient, project_id: typing.Any
) -> None:
    research = await project_id('ml-playground', org='research')
    response = await http.get(f'/organizations/engineering/projects/{research}')
    assert response.status_code == 404
    assert response.json() == {'detail': f'Project {research!r} not found'}


async def _patch(
    http: httpx.AsyncClient, project: str, ops: list[Json]
) -> httpx.Response:
    return await http.patch(f'/organizations/engineering/projects/{project}', json=ops)


async def test_patch_applies_to_the_patchable_document(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    response = await _patch(
        http,
        billing_api,
        [
            {'op': 'test', 'path': '/framework', 'value': 'fastapi'},
            {'op': 'replace', 'path': '/framework', 'value': 'LITESTAR'},
            {
                'op': 'add',
                'path': '/links/grafana',
                'value': 'https://grafana.example.com',
            },
            {
                'op': 'add',
                'path': '/environments/production/url',
                'value': 'https://pay.example.com',
            },
            {'op': 'replace', 'path': '/team_slug', 'value': 'platform'},
            {'op': 'add', 'path': '/project_type_slugs/-', 'value': 'consumer'},
        ],
    )
    assert response.status_code == 200
    project = response.json()
    assert project['framework'] == 'litestar'  # enum values are case-coerced
    assert project['links']['grafana'] == 'https://grafana.example.com/'  # normalised
    assert project['team']['slug'] == 'platform'
    assert [t['slug'] for t in project['project_types']] == ['api-service', 'consumer']
    assert project['lifecycle_results'] == []
    stored = (
        await http.get(f'/organizations/engineering/projects/{billing_api}')
    ).json()
    assert stored['environments'][2]['url'] == 'https://pay.example.com'
    assert stored['updated_at'] == project['updated_at']


async def test_patched_types_and_environments_are_what_later_reads_show(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    url = f'/organizations/engineering/projects/{billing_api}'
    changed = await _patch(
        http,
        billing_api,
        [
            {
                'op': 'replace',
                'path': '/project_type_slugs',
                'value': ['consumer', 'api-service'],
            },
            {'op': 'remove', 'path': '/environments/staging'},
            {'op': 'remove', 'path': '/environments/production/url'},
            {'op': 'add', 'path': '/environments/production/url', 'value': 'x'},
        ],
    )
    assert changed.status_code == 200
    # A later patch that touches neither keeps both as they are.
    kept = await _patch(
        http, billing_api, [{'op': 'replace', 'path': '/description', 'value': 'd'}]
    )
    stored = (await http.get(url)).json()
    for project in (changed.json(), kept.json(), stored):
        assert [t['slug'] for t in project['project_types']] == [
            'consumer',
            'api-service',
        ]
        assert [e['slug'] for e in project['environments']] == [
            'testing',
            'production',
        ]
        production = project['environments'][1]
        # The re-added key now comes last among the edge's properties.
        assert list(production)[-3:] == [
            'current_release',
            'current_release_at',
            'url',
        ]
        assert production['url'] == 'x'
        assert project['relationships']['environments']['count'] == 2
    assert kept.json()['description'] == stored['description'] == 'd'
    listed = (
        await http.get(
            '/organizations/engineering/projects/', params={'project_type': 'consumer'}
        )
    ).json()
    assert billing_api in [item['id'] for item in listed]


async def test_empty_patch_bumps_updated_at(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    before = (
        await http.get(f'/organizations/engineering/projects/{billing_api}')
    ).json()
    after = (await _patch(http, billing_api, [])).json()
    assert after['updated_at'] > before['updated_at']


@pytest.mark.parametrize(
    ('op', 'detail'),
    [
        (
            {'op': 'replace', 'path': '/id', 'value': 'x'},
            "Path '/id' is read-only and cannot be patched",
        ),
        (
            {'op': 'add', 'path': '/created_at', 'value': 'x'},
            "Path '/created_at' is read-only and cannot be patched",
        ),
        (
            {'op': 'remove', 'path': '/relationships/team'},
            "Path '/relationships/team' is read-only and cannot be patched",
        ),
        (
            {'op': 'copy', 'from': '/updated_at', 'path': '/x'},
            "Path '/updated_at' is read-only and cannot be patched",
        ),
        ({'op': 'replace', 'path': '', 'value': {}}, 'Root path cannot be patched'),
    ],
)
async def test_read_only_paths_are_400(
    http: httpx.AsyncClient, billing_api: str, op: Json, detail: str
) -> None:
    response = await _patch(http, billing_api, [op])
    assert response.status_code == 400
    assert response.json() == {'detail': detail}


@pytest.mark.parametrize(
    'op',
    [
        {'op': 'replace', 'path': '/team', 'value': 'x'},
        {'op': 'remove', 'path': '/nonexistent'},
        {'op': 'add', 'path': '/links/docs'},
        {'op': 'move', 'from': '/missing', 'path': '/x'},
    ],
    ids=[
        'replace-absent-key',
        'remove-missing',
        'add-without-value',
        'move-from-missing',
    ],
)
async def test_invalid_patch_is_400(
    http: httpx.AsyncClient, billing_api: str, op: Json
) -> None:
    response = await _patch(http, billing_api, [op])
    assert response.status_code == 400
    assert response.json()['detail'].startswith('Invalid patch: ')


async def test_failed_test_op_is_422_and_changes_nothing(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    response = await _patch(
        http,
        billing_api,
        [
            {'op': 'replace', 'path': '/name', 'value': 'Renamed'},
            {'op': 'test', 'path': '/framework', 'value': 'flask'},
        ],
    )
    assert response.status_code == 422
    assert response.json()['detail'].startswith('Patch test operation failed: ')
    stored = (
        await http.get(f'/organizations/engineering/projects/{billing_api}')
    ).json()
    assert stored['name'] == 'Billing API'


async def test_test_on_missing_path_is_422(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    response = await _patch(
        http, billing_api, [{'op': 'test', 'path': '/nope', 'value': 1}]
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ('op', 'detail'),
    [
        (
            {'op': 'replace', 'path': '/team_slug', 'value': 'ghosts'},
            "Team 'ghosts' not found in organization 'engineering'",
        ),
        (
            {'op': 'replace', 'path': '/team_slug', 'value': 'research-lab'},
            "Team 'research-lab' not found in organization 'engineering'",
        ),
        (
            {'op': 'add', 'path': '/project_type_slugs/-', 'value': 'robot'},
            "Project type slug(s) not found: ['robot']",
        ),
        (
            {'op': 'add', 'path': '/environments/prod', 'value': {}},
            "Environment slug(s) not found: ['prod']",
        ),
    ],
)
async def test_unknown_references_are_422(
    http: httpx.AsyncClient, billing_api: str, op: Json, detail: str
) -> None:
    response = await _patch(http, billing_api, [op])
    assert response.status_code == 422
    assert response.json() == {'detail': detail}


@pytest.mark.parametrize(
    'op',
    [
        {'op': 'add', 'path': 'framework', 'value': 'x'},
        {'op': 'add', 'path': '/links/a/b', 'value': 'https://x.example.com'},
        {
            'op': 'add',
            'path': '/environments/newenv/url',
            'value': 'https://x.example.com',
        },
    ],
    ids=['no-leading-slash', 'missing-parent', 'missing-environment'],
)
async def test_malformed_pointers_are_plain_text_500(
    http: httpx.AsyncClient, billing_api: str, op: Json
) -> None:
    response = await _patch(http, billing_api, [op])
    assert response.status_code == 500
    assert response.headers['content-type'].startswith('text/plain')
    assert response.text == 'Internal Server Error'


async def test_validation_failures_are_400(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    empty_types = await _patch(
        http,
        billing_api,
        [{'op': 'replace', 'path': '/project_type_slugs', 'value': []}],
    )
    assert empty_types.status_code == 400
    assert empty_types.json()['detail'].startswith('Validation error: [')
    bad_url = await _patch(
        http, billing_api, [{'op': 'add', 'path': '/links/docs', 'value': 'not a url'}]
    )
    assert bad_url.status_code == 400


async def test_quirks_of_the_real_server(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    response = await _patch(
        http,
        billing_api,
        [
            {'op': 'replace', 'path': '/description', 'value': None},  # kept
            {'op': 'replace', 'path': '/name', 'value': ''},  # ignored
            {'op': 'add', 'path': '/undeclared', 'value': 1},  # dropped
            {'op': 'add', 'path': '/archived', 'value': True},  # ignored
            {'op': 'remove', 'path': '/on_call'},  # remove does not clear
        ],
    )
    assert response.status_code == 200
    project = response.json()
    assert project['description'] == 'Invoices and payment webhooks'
    assert project['name'] == 'Billing API'
    assert 'undeclared' not in project
    assert project['archived'] is False
    assert project['on_call'] is True
    cleared = await _patch(
        http, billing_api, [{'op': 'replace', 'path': '/on_call', 'value': None}]
    )
    assert 'on_call' not in cleared.json()


async def test_patch_unknown_project_is_404(http: httpx.AsyncClient) -> None:
    response = await _patch(http, 'V1StGXR8_Z5jdHi6B-myT', [])
    assert response.status_code == 404
    assert response.json() == {'detail': "Project 'V1StGXR8_Z5jdHi6B-myT' not found"}


async def test_patch_body_must_be_a_list_of_operations(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    not_a_list = await http.patch(
        f'/organizations/engineering/projects/{billing_api}', json={'op': 'add'}
    )
    assert not_a_list.status_code == 422
    assert not_a_list.json()['detail'][0]['type'] == 'list_type'
    bad_op = await _patch(http, billing_api, [{'op': 'upsert', 'path': '/name'}])
    assert bad_op.status_code == 422
    assert bad_op.json()['detail'][0]['loc'] == ['body', 0, 'op']


async def test_patch_items_must_be_objects(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    response = await http.patch(
        f'/organizations/engineering/projects/{billing_api}', json=[1]
    )
    assert response.status_code == 422
    [error] = response.json()['detail']
    assert (error['type'], error['loc']) == ('model_attributes_type', ['body', 0])
