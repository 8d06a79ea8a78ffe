"""Contract tests over every emulated API line: 2.11, 2.16, 2.30 and 2.41.

Each test runs once per line (``imbi_api_version`` is parametrized, so
``imbi_sandbox`` and the ``http`` client talk to that line's sandbox) and
states what that release answers (docs/imbi-api.md#generations).
"""

from __future__ import annotations

import typing

import httpx
import pytest

from imbi_toolkit.testing import API_VERSIONS, SandboxProcess

Json = dict[str, typing.Any]

pytestmark = pytest.mark.parametrize('imbi_api_version', API_VERSIONS)

ENGINEERING = '/organizations/engineering'
PROJECTS = f'{ENGINEERING}/projects/'


def _releases(project: str) -> str:
    return f'{PROJECTS}{project}/releases/'


async def _create(
    http: httpx.AsyncClient, project: str, **body: object
) -> httpx.Response:
    return await http.post(_releases(project), json={'title': 'Release', **body})


async def _project_id(http: httpx.AsyncClient, slug: str) -> str:
    listed = (await http.get(PROJECTS)).json()
    return str(next(item['id'] for item in listed if item['slug'] == slug))


async def test_openapi_reports_the_emulated_version(
    http: httpx.AsyncClient, imbi_api_version: str
) -> None:
    spec = (await http.get('/openapi.json')).json()
    assert (
        spec['info']['version']
        == {
            '2.11': '2.11.5',
            '2.16': '2.16.1',
            '2.30': '2.30.0',
            '2.41': '2.41.0',
        }[imbi_api_version]
    )
    operation = spec['paths']['/organizations/{org_slug}/projects/{project_id}']
    if imbi_api_version in ('2.30', '2.41'):  # x-imbi-permission since 2.20.0
        assert operation['patch']['x-imbi-permission'] == ['project:write']
    else:
        assert 'x-imbi-permission' not in operation['patch']


async def test_create_the_same_release_again(
    http: httpx.AsyncClient, billing_api: str, imbi_api_version: str
) -> None:
    first = await _create(http, billing_api, committish='a1b2c3d', tag='7.0.0')
    assert first.status_code == 201
    again = await _create(http, billing_api, committish='a1b2c3d', tag='7.0.0')
    other_commit = await _create(
        http, billing_api, committish='f00ba47', tag='7.0.0', title='retry'
    )
    other_tag = await _create(http, billing_api, committish='a1b2c3d', tag='7.0.1')
    assert other_tag.status_code == 201  # the same commit may carry two tags
    prefix = 'Release '
    suffix = f' already exists for project {billing_api!r}'
    if imbi_api_version in ('2.11', '2.16'):  # keyed on (committish, tag)
        assert again.status_code == 409
        assert again.json() == {
            'detail': f"{prefix}committish='a1b2c3d' tag='7.0.0'{suffix}"
        }
        assert other_commit.status_code == 201
    elif imbi_api_version == '2.30':  # keyed on the tag, 2.26.0
        assert again.status_code == 409
        assert again.json() == {
            'detail': f"{prefix}tag='7.0.0' committish='a1b2c3d'{suffix}"
        }
        assert other_commit.status_code == 409
        assert other_commit.json() == {
            'detail': f"{prefix}tag='7.0.0' committish='f00ba47'{suffix}"
        }
    else:  # 2.32.3: the stored release, 200, whatever else the body says
        assert (again.status_code, again.json()) == (200, first.json())
        assert (other_commit.status_code, other_commit.json()) == (200, first.json())
    listed = (await http.get(_releases(billing_api), params={'tag': '7.0.0'})).json()
    assert len(listed) == (2 if imbi_api_version in ('2.11', '2.16') else 1)


async def test_untagged_duplicates(
    http: httpx.AsyncClient, billing_api: str, imbi_api_version: str
) -> None:
    first = await _create(http, billing_api, committish='c3d4e5f')
    assert (first.status_code, first.json()['tag']) == (201, None)
    again = await _create(http, billing_api, committish='c3d4e5f')
    suffix = f' already exists for project {billing_api!r}'
    expected = {
        '2.11': (409, f"Release committish='c3d4e5f' tag=None{suffix}"),
        '2.16': (409, f"Release committish='c3d4e5f' tag=None{suffix}"),
        '2.30': (409, f"Release tag=None committish='c3d4e5f'{suffix}"),
    }
    if imbi_api_version in expected:
        status, detail = expected[imbi_api_version]
        assert (again.status_code, again.json()) == (status, {'detail': detail})
    else:
        assert (again.status_code, again.json()['id']) == (200, first.json()['id'])


async def test_a_tagged_create_adopts_an_untagged_release_from_2_32_3(
    http: httpx.AsyncClient, billing_api: str, imbi_api_version: str
) -> None:
    untagged = (
        await _create(http, billing_api, committish='b2c3d4e', title='Deploy b2c3d4e')
    ).json()
    tagged = await _create(
        http, billing_api, committish='b2c3d4e', tag='7.1.0', title='Release 7.1.0'
    )
    if imbi_api_version == '2.41':
        assert tagged.status_code == 200
        adopted = tagged.json()
        assert adopted['id'] == untagged['id']
        assert (adopted['tag'], adopted['title']) == ('7.1.0', 'Deploy b2c3d4e')
        assert adopted['updated_at'] > untagged['updated_at']
        assert adopted['created_at'] == untagged['created_at']
    else:
        assert tagged.status_code == 201
        assert tagged.json()['id'] != untagged['id']


async def test_tag_only_create(
    imbi_sandbox: SandboxProcess,
    http: httpx.AsyncClient,
    billing_api: str,
    imbi_api_version: str,
) -> None:
    known = await _create(http, billing_api, tag='1.1.0')
    unknown = await _create(http, billing_api, tag='9.9.9')
    if imbi_api_version != '2.41':  # committish is required up to 2.32.2
        for response in (known, unknown):
            assert response.status_code == 422
            [error] = response.json()['detail']
            assert (error['type'], error['loc']) == ('missing', ['body', 'committish'])
        return
    # 1.1.0 is a tag of the repository (a release has it): the stored release.
    assert known.status_code == 200
    assert known.json()['tag'] == '1.1.0'
    assert unknown.status_code == 422
    assert unknown.json() == {
        'detail': f"Could not resolve tag '9.9.9' to a commit for project "
        f'{billing_api!r}; supply committish explicitly'
    }
    # A tag pushed to the repository resolves to its commit (7 lower-case hex).
    await _admin_tag(imbi_sandbox, billing_api, '9.9.9', 'ABCDEF0123456')
    created = await _create(http, billing_api, tag='9.9.9')
    assert created.status_code == 201
    assert (created.json()['committish'], created.json()['tag']) == (
        'abcdef0',
        '9.9.9',
    )
    # Adoption with the commit resolved from the tag.
    untagged = (await _create(http, billing_api, committish='d4e5f6a')).json()
    await _admin_tag(imbi_sandbox, billing_api, '8.0.0', 'd4e5f6a')
    adopted = await _create(http, billing_api, tag='8.0.0')
    assert (adopted.status_code, adopted.json()['id']) == (200, untagged['id'])


async def _admin_tag(
    sandbox: SandboxProcess, project: str, tag: str, committish: str
) -> None:
    async with httpx.AsyncClient(
        base_url=sandbox.base_url,
        headers={'authorization': f'Bearer {sandbox.token}'},
    ) as admin:
        response = await admin.put(
            f'/_sandbox/projects/{project}/tags/{tag}', json={'committish': committish}
        )
        assert response.status_code == 204


async def test_a_create_must_name_a_revision_and_an_empty_tag_is_none(
    http: httpx.AsyncClient, billing_api: str, imbi_api_version: str
) -> None:
    nothing = await http.post(_releases(billing_api), json={'title': 'x', 'tag': ''})
    assert nothing.status_code == 422
    empty_tag = await _create(http, billing_api, committish='e5f6a7b', tag='')
    assert empty_tag.status_code == 201
    if imbi_api_version == '2.41':
        assert nothing.json() == {
            'detail': [
                {
                    'type': 'value_error',
                    'loc': ['body'],
                    'msg': 'Value error, one of committish or tag is required',
                    'input': {'title': 'x', 'tag': ''},
                    'ctx': {'error': {}},
                }
            ]
        }
        assert empty_tag.json()['tag'] is None
    else:
        assert nothing.json()['detail'][0]['loc'] == ['body', 'committish']
        assert empty_tag.json()['tag'] == ''  # stored as sent until 2.32.2


async def test_release_drift_fields(
    http: httpx.AsyncClient, billing_api: str, imbi_api_version: str
) -> None:
    [release, *_] = (await http.get(_releases(billing_api))).json()
    if imbi_api_version in ('2.30', '2.41'):  # 2.26.0
        assert (release['drift_detected'], release['drift_checked_at']) == (None, None)
    else:
        assert 'drift_detected' not in release


async def _newest_release(http: httpx.AsyncClient, project: str) -> str:
    return str((await http.get(_releases(project))).json()[0]['id'])


async def test_external_run_url(
    http: httpx.AsyncClient, billing_api: str, imbi_api_version: str
) -> None:
    url = _releases(billing_api) + await _newest_release(http, billing_api)
    run_url = 'https://github.com/example/billing-api/actions/runs/98'
    response = await http.post(
        f'{url}/environments/testing',
        json={
            'status': 'success',
            'external_run_id': '98',
            'external_run_url': run_url,
        },
    )
    if imbi_api_version in ('2.11', '2.16'):  # 2.18.0
        assert response.status_code == 422
        [error] = response.json()['detail']
        assert (error['type'], error['loc']) == (
            'extra_forbidden',
            ['body', 'external_run_url'],
        )
        return
    assert response.status_code == 200
    event = response.json()['deployments'][-1]
    assert (event['external_run_id'], event['external_run_url']) == ('98', run_url)


async def test_events_are_deduplicated_on_the_run_id(
    http: httpx.AsyncClient, billing_api: str, imbi_api_version: str
) -> None:
    release = await _newest_release(http, billing_api)
    url = f'{_releases(billing_api)}{release}/environments/production'
    deduplicates = imbi_api_version in ('2.30', '2.41')
    first: Json = {'status': 'in_progress', 'note': 'run 98', 'external_run_id': '98'}
    if deduplicates:
        first['external_run_url'] = 'https://ci.example/98'
    one = (await http.post(url, json=first)).json()
    two = (
        await http.post(
            url, json={'status': 'success', 'note': 'run 98', 'external_run_id': '98'}
        )
    ).json()
    assert two['current_status'] == 'success'
    if not deduplicates:  # every POST appends; the run id is not stored
        assert len(two['deployments']) == len(one['deployments']) + 1
        assert {event['external_run_id'] for event in two['deployments']} == {None}
        return
    [event] = [e for e in two['deployments'] if e['external_run_id'] == '98']
    assert len(two['deployments']) == len(one['deployments'])
    # Updated in place: the URL is kept when a repeat leaves it out.
    assert (event['status'], event['external_run_url']) == (
        'success',
        'https://ci.example/98',
    )
    assert ('credential' in event) == (imbi_api_version == '2.41')  # 2.31.0
    # An identical replay writes nothing: the timestamp stays.
    three = (
        await http.post(
            url, json={'status': 'success', 'note': 'run 98', 'external_run_id': '98'}
        )
    ).json()
    assert three == two
    # A repeat without a note clears it.
    four = (
        await http.post(url, json={'status': 'success', 'external_run_id': '98'})
    ).json()
    [event] = [e for e in four['deployments'] if e['external_run_id'] == '98']
    assert event['note'] is None
    assert event['timestamp'] > three['deployments'][-1]['timestamp']


async def test_a_run_id_is_unique_per_project(
    http: httpx.AsyncClient, billing_api: str, imbi_api_version: str
) -> None:
    old, new = [r['id'] for r in (await http.get(_releases(billing_api))).json()[:2]]
    body = {'status': 'success', 'external_run_id': '77'}
    await http.post(f'{_releases(billing_api)}{old}/environments/staging', json=body)
    await http.post(f'{_releases(billing_api)}{new}/environments/staging', json=body)
    staging = (
        await http.get(f'{_releases(billing_api)}{old}/environments/staging')
    ).json()
    runs = [event['external_run_id'] for event in staging['deployments']]
    if imbi_api_version in ('2.30', '2.41'):  # 2.26.0: the record moved
        assert '77' not in runs
    else:
        assert '77' not in runs and None in runs  # not stored at all


async def test_sending_credential_or_performed_by_is_refused(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    url = _releases(billing_api) + await _newest_release(http, billing_api)
    for key in ('credential', 'performed_by'):
        response = await http.post(
            f'{url}/environments/testing', json={'status': 'success', key: 'x'}
        )
        assert response.status_code == 422
        assert response.json()['detail'][0]['loc'] == ['body', key]


FILTER_ERRORS = [
    ('framework', "Invalid filter 'framework'; expected field:op[:value]"),
    (
        'framework:like:fast',
        "Unknown filter operator 'like'; valid operators are eq, exists, in, ne, "
        'not_exists, not_in',
    ),
    ('owner:eq:alice', "Attribute 'owner' is not filterable for this project type"),
    (
        'framework:exists:yes',
        "Filter 'framework:exists:yes' does not accept a value for operator 'exists'",
    ),
    ('framework:eq:', "Filter 'framework:eq:' requires a value"),
    ('framework:in:,', "Filter 'framework:in:,' requires a value"),
]


async def test_filter_grammar(http: httpx.AsyncClient, imbi_api_version: str) -> None:
    everything = {p['slug'] for p in (await http.get(PROJECTS)).json()}
    response = await http.get(PROJECTS, params={'filter': 'framework:in:gin,vue'})
    assert response.status_code == 200
    found = {p['slug'] for p in response.json()}
    if imbi_api_version == '2.11':  # the sandbox's 2.11 ignores filter=
        assert found == everything
        return
    assert found == {'payment-gateway', 'feature-flags', 'onboarding-frontend'}
    for raw, detail in FILTER_ERRORS:
        refused = await http.get(
            PROJECTS, params={'project_type': 'api-service', 'filter': raw}
        )
        assert (refused.status_code, refused.json()) == (400, {'detail': detail})
    # ne leaves out projects without the attribute; filters are ANDed.
    combined = await http.get(
        PROJECTS,
        params=[('filter', 'framework:ne:fastapi'), ('filter', 'framework:exists')],
    )
    slugs = {p['slug'] for p in combined.json()}
    assert 'invoice-consumer' not in slugs and 'billing-api' not in slugs
    assert 'payment-gateway' in slugs


async def test_filter_values_are_coerced_from_2_26(
    http: httpx.AsyncClient, imbi_api_version: str
) -> None:
    on_call = await http.get(PROJECTS, params={'filter': 'on_call:eq:true'})
    yes = await http.get(PROJECTS, params={'filter': 'on_call:eq:yes'})
    if imbi_api_version == '2.11':  # ignored
        assert len(on_call.json()) == len(yes.json()) == 24
        return
    if imbi_api_version == '2.16':  # strings never equal a boolean
        assert on_call.json() == []
        assert (yes.status_code, yes.json()) == (200, [])
        return
    assert {p['slug'] for p in on_call.json()} == {
        'billing-api',
        'payment-gateway',
        'auth-service',
    }
    assert (yes.status_code, yes.json()) == (
        400,
        {
            'detail': "Filter 'on_call:eq:yes' requires a true/false value for "
            "boolean attribute 'on_call'"
        },
    )


async def test_project_id_narrows_the_list_from_2_40(
    http: httpx.AsyncClient, billing_api: str, imbi_api_version: str
) -> None:
    listed = (await http.get(PROJECTS, params={'project_id': billing_api})).json()
    if imbi_api_version == '2.41':
        assert [p['id'] for p in listed] == [billing_api]
        assert (await http.get(PROJECTS, params={'project_id': 'nope'})).json() == []
    else:
        assert len(listed) == 24


async def test_releases_current(
    http: httpx.AsyncClient, billing_api: str, imbi_api_version: str
) -> None:
    url = _releases(billing_api) + 'current'
    response = await http.get(url)
    if imbi_api_version == '2.11':  # `current` is taken for a release id
        assert response.status_code == 404
        assert response.json() == {
            'detail': f"Release 'current' for project {billing_api!r} not found"
        }
        return
    assert response.status_code == 200
    by_env = {item['environment']['slug']: item for item in response.json()}
    assert list(by_env) == ['testing', 'staging', 'production']
    # The demo's newest release failed in staging: 1.1.1 still serves.
    staging = by_env['staging']
    if imbi_api_version == '2.16':  # the newest event of any status
        assert staging['release']['tag'] == '1.2.0'
        assert staging['current_status'] == 'failed'
        assert 'latest_deployment' not in staging
    else:  # 2.29.0: the newest success, and the newer attempt beside it
        assert staging['release']['tag'] == '1.1.1'
        assert staging['current_status'] == 'success'
        assert staging['latest_deployment']['status'] == 'failed'
        assert staging['latest_deployment']['tag'] == '1.2.0'
        assert by_env['production']['latest_deployment'] is None
    assert set(staging) >= {
        'last_event_at',
        'external_run_url',
        'ci_status',
        'performed_by',
        'performed_by_email',
    }
    missing = await http.get(_releases('nope') + 'current')
    assert missing.status_code == 404
    assert missing.json() == {'detail': "Project 'nope' not found"}


async def test_current_and_latest_deployments(
    http: httpx.AsyncClient, billing_api: str, imbi_api_version: str
) -> None:
    [item] = [p for p in (await http.get(PROJECTS)).json() if p['id'] == billing_api]
    single = (await http.get(PROJECTS + billing_api)).json()
    if imbi_api_version in ('2.30', '2.41'):
        assert item['current_releases']['staging']['tag'] == '1.1.1'
        assert item['latest_deployments'] == {
            'staging': {
                'status': 'failed',
                'deployed_at': item['latest_deployments']['staging']['deployed_at'],
                'tag': '1.2.0',
                'committish': item['latest_deployments']['staging']['committish'],
            }
        }
        assert item['drift_ranges'] == {}
        # Slim items only, in the 2.41.0 recording.
        assert ('release_summary' in item) == (imbi_api_version == '2.30')
        # The single GET leaves both to the list and releases/current.
        assert (single['current_releases'], single['latest_deployments']) == ({}, {})
    else:
        assert item['current_releases']['staging']['tag'] == '1.2.0'
        assert 'latest_deployments' not in item
        assert 'latest_deployments' not in single
        assert single['current_releases'] == item['current_releases']


async def test_environment_fields(
    http: httpx.AsyncClient, billing_api: str, imbi_api_version: str
) -> None:
    project = (await http.get(PROJECTS + billing_api)).json()
    production = project['environments'][2]
    listed = (await http.get(f'{ENGINEERING}/environments/')).json()
    testing = listed[0]
    slim = (await http.get(PROJECTS, params={'slim': 'true'})).json()[0]
    if imbi_api_version in ('2.30', '2.41'):
        assert production['terminal'] is True
        assert testing['terminal'] is False
        assert 'terminal' in slim['environments'][0]
    else:
        assert 'terminal' not in production and 'terminal' not in testing
        assert 'terminal' not in slim['environments'][0]
    if imbi_api_version == '2.41':
        assert production['allow_autonomous'] is False
        assert testing['allow_autonomous'] is True
    else:
        assert 'allow_autonomous' not in production
    # Raw graph dicts have no null description or icon; the list's
    # organization is the raw organisation, tag_formats included.
    assert 'icon' not in testing and 'description' not in testing
    assert 'icon' not in testing['organization']
    assert testing['organization']['tag_formats'][0]['label'] == 'Semver'
    [org] = [
        o
        for o in (await http.get('/organizations/')).json()
        if o['slug'] == 'engineering'
    ]
    assert 'icon' not in org and org['description']
    # Raw timestamps: `+00:00` as stored, `Z` in the 2.41.0 recording.
    zulu = imbi_api_version == '2.41'
    assert org['created_at'].endswith('Z') == zulu
    assert testing['created_at'].endswith('Z') == zulu
    assert ('document_analytics_identities' in org) == (
        imbi_api_version in ('2.30', '2.41')
    )
    # Response models keep their nulls.
    assert production['icon'] is None
    embedded = project['team']['organization']
    assert embedded['icon'] is None
    assert ('document_analytics_identities' in embedded) == (
        imbi_api_version in ('2.30', '2.41')
    )


async def test_what_the_patchable_document_holds(
    http: httpx.AsyncClient, billing_api: str, imbi_api_version: str
) -> None:
    async def passes(path: str, value: object) -> bool:
        response = await http.patch(
            PROJECTS + billing_api, json=[{'op': 'test', 'path': path, 'value': value}]
        )
        assert response.status_code in (200, 422), response.text
        return response.status_code == 200

    env = '/environments/production'
    # The real server leaks can_deploy/can_promote from the node until 2.30.0
    # protects them; the sandbox leaves that out (see versions.py).
    assert not await passes(f'{env}/can_deploy', True)
    assert not await passes(f'{env}/terminal', True)
    # allow_autonomous (2.31.0) is not protected: it leaks.
    assert await passes(f'{env}/allow_autonomous', False) == (
        imbi_api_version == '2.41'
    )
    assert await passes('/service_edges/0/slug', 'github') == (
        imbi_api_version != '2.11'
    )
    # Patching service_edges is accepted and dropped.
    dropped = await http.patch(
        PROJECTS + billing_api,
        json=[{'op': 'add', 'path': '/service_edges/-', 'value': {'slug': 'x'}}],
    )
    if imbi_api_version != '2.11':
        assert dropped.status_code == 200
        assert await passes('/service_edges/1', {'slug': 'x'}) is False


async def test_project_schema(http: httpx.AsyncClient, imbi_api_version: str) -> None:
    project = await _project_id(http, 'cert-renewer')
    response = await http.get(f'{PROJECTS}{project}/schema')
    new = await http.get(PROJECTS + 'schema', params={'project_type': 'scheduled-job'})
    if imbi_api_version == '2.11':
        assert (response.status_code, response.json()) == (404, {'detail': 'Not Found'})
    else:
        assert response.status_code == 200
        [section] = response.json()['sections']
        assert (section['slug'], section['scope']) == ('scheduled-job', 'project')
        language = section['properties']['programming_language']
        assert language['type'] == 'string'
        assert 'Go 1.22' in language['enum']
        assert language['x-ui'] == {'editable': True}
        assert set(section['properties']) == {'programming_language', 'schedule'}
    if imbi_api_version == '2.41':  # required and the new-project form, 2.40.0
        assert section['required'] == ['schedule']
        assert new.status_code == 200
        assert new.json() == response.json()
    else:
        if imbi_api_version != '2.11':
            assert 'required' not in section
        assert (new.status_code, new.json()) == (
            404,
            {'detail': "Project 'schema' not found"},
        )


async def test_a_required_attribute_cannot_be_cleared(http: httpx.AsyncClient) -> None:
    project = await _project_id(http, 'cert-renewer')
    response = await http.patch(
        PROJECTS + project, json=[{'op': 'replace', 'path': '/schedule', 'value': None}]
    )
    assert response.status_code == 400
    assert response.json()['detail'].startswith("Validation error: [{'type': 'missing'")


async def test_team_slugs_are_unique_install_wide(
    http: httpx.AsyncClient, billing_api: str
) -> None:
    # research-lab is the research organisation's team: not one of engineering.
    response = await http.patch(
        PROJECTS + billing_api,
        json=[{'op': 'replace', 'path': '/team_slug', 'value': 'research-lab'}],
    )
    assert response.status_code == 422
    assert response.json() == {
        'detail': "Team 'research-lab' not found in organization 'engineering'"
    }


async def test_a_plugin_call_without_the_github_app_has_a_detail_object(
    imbi_sandbox: SandboxProcess,
    http: httpx.AsyncClient,
    billing_api: str,
    imbi_api_version: str,
) -> None:
    async with httpx.AsyncClient(
        base_url=imbi_sandbox.base_url,
        headers={'authorization': f'Bearer {imbi_sandbox.token}'},
    ) as admin:
        uninstalled = await admin.put(
            f'/_sandbox/projects/{billing_api}/github-app', json={'installed': False}
        )
        assert uninstalled.status_code == 204
    response = await _create(http, billing_api, tag='1.1.0')
    if imbi_api_version != '2.41':  # no plugin call: committish is required
        assert response.status_code == 422
        return
    assert response.status_code == 403
    assert response.json() == {
        'detail': {
            'error': 'app_not_installed',
            'message': 'The GitHub App is not installed on example/billing-api; '
            'install it on the repository and try again',
            'owner_repo': 'example/billing-api',
            'integration_slug': 'github',
        }
    }
    # Naming the commit needs no plugin call.
    named = await _create(http, billing_api, tag='1.1.0', committish='0000000')
    assert named.status_code == 200


async def test_permissions_of_the_caller(
    http: httpx.AsyncClient, readonly: httpx.AsyncClient, imbi_api_version: str
) -> None:
    me = (await readonly.get('/users/me')).json()
    [engineering] = me['organizations']
    mine = await readonly.get('/users/me/permissions')
    if imbi_api_version == '2.41':
        assert engineering['permissions'] == me['permissions']  # one role
        assert mine.json() == {'is_admin': False, 'permissions': me['permissions']}
        admin = (await http.get('/users/me/permissions')).json()
        assert admin['is_admin'] is True
    else:
        assert 'permissions' not in engineering
        assert mine.status_code == 404


async def test_admins_bypass_key_scopes(
    imbi_sandbox: SandboxProcess,
    http: httpx.AsyncClient,
    billing_api: str,
    imbi_api_version: str,
) -> None:
    async def key(email: str, scopes: list[str]) -> httpx.AsyncClient:
        issued = await http.post(
            '/_sandbox/api-keys', json={'email': email, 'scopes': scopes}
        )
        assert issued.status_code == 201
        return httpx.AsyncClient(
            base_url=imbi_sandbox.base_url,
            headers={'authorization': f'Bearer {issued.json()["key"]}'},
        )

    patch = [{'op': 'replace', 'path': '/framework', 'value': 'flask'}]
    url = PROJECTS + billing_api
    async with (
        await key('admin@example.com', ['project:read']) as admin,
        await key('alice@example.com', ['project:read']) as alice_read,
        await key('alice@example.com', []) as alice,
    ):
        # An admin passes every check whatever the key's scopes say.
        assert (await admin.patch(url, json=patch)).status_code == 200
        # Anyone else gets what the role grants, narrowed by the scopes.
        assert (await alice_read.get(url)).status_code == 200
        refused = await alice_read.patch(url, json=patch)
        assert (refused.status_code, refused.json()) == (
            403,
            {'detail': 'Permission denied: project:write required'},
        )
        assert (await alice.patch(url, json=patch)).status_code == 200
        me = (await alice_read.get('/users/me')).json()
        assert (me['email'], me['permissions']) == (
            'alice@example.com',
            ['project:read'],
        )
