"""``/openapi.json``: what the sandbox serves, with the emulated version.

Clients probe ``info.version`` and whether ``/users/by-identity`` declares
``integration_slug`` or ``plugin_slug`` (docs/imbi-api.md#openapi), so both
follow ``--api-version``.
"""

from __future__ import annotations

import typing

from imbi_toolkit.sandbox import _config as sandbox_config
from imbi_toolkit.sandbox import _faults as faults
from imbi_toolkit.sandbox import _filters as filters
from imbi_toolkit.sandbox import _project_patch as project_patch
from imbi_toolkit.sandbox._routes import admin, releases

Json = dict[str, typing.Any]


def _path(name: str) -> Json:
    return {'name': name, 'in': 'path', 'required': True, 'schema': {'type': 'string'}}


_ORG = _path('org_slug')
_PROJECT = _path('project_id')
_RELEASE = _path('release_id')
_ENV = _path('env_slug')


def _query(name: str, kind: str = 'string', *, required: bool = False) -> Json:
    return {'name': name, 'in': 'query', 'required': required, 'schema': {'type': kind}}


def _op(
    summary: str,
    tag: str,
    parameters: list[Json],
    responses: dict[str, str],
    body: str | None = None,
    *,
    secured: bool = True,
) -> Json:
    operation: Json = {
        'summary': summary,
        'tags': [tag],
        'parameters': parameters,
        'responses': {code: {'description': text} for code, text in responses.items()},
    }
    if body is not None:
        operation['requestBody'] = {
            'required': True,
            'content': {
                'application/json': {'schema': {'$ref': f'#/components/schemas/{body}'}}
            },
        }
    if secured:
        operation['security'] = [{'HTTPBearer': []}]
    return operation


def _permission(path: str, method: str) -> str | None:
    """The permission an operation requires, as `x-imbi-permission` says."""
    if path.startswith(('/_sandbox/', '/status', '/users/me')):
        return None
    if path.startswith('/users/'):
        return 'user:read'
    if path.endswith('/environments/') and '/releases/' not in path:
        return 'environment:read'
    if '/projects/' in path:
        return 'project:read' if method == 'get' else 'project:write'
    return 'organization:read'


def build(config: sandbox_config.SandboxConfig) -> Json:
    """Return the OpenAPI 3.1 document of a sandbox (served at the root)."""
    features = config.features
    identity = config.identity_param
    project = '/organizations/{org_slug}/projects/{project_id}'
    release = project + '/releases/{release_id}'
    list_parameters = [
        _ORG,
        _query('project_type'),
        _query('include_archived', 'boolean'),
        _query('slim', 'boolean'),
        _query(features.service_key),
        _query('identifier'),
    ]
    if features.filter_grammar:
        list_parameters.append(
            {
                'name': 'filter',
                'in': 'query',
                'required': False,
                'schema': {'type': 'array', 'items': {'type': 'string'}},
                'description': 'field:op[:value]; op is one of '
                + ', '.join(filters.OPERATORS),
            }
        )
    if features.project_id_filter:
        list_parameters.append(_query('project_id'))
    create_responses = (
        {
            '200': 'An existing release with this tag (or an adopted untagged one)',
            '201': 'Created',
            '404': 'Project not found',
            '422': 'Invalid body, or a tag that cannot be resolved',
        }
        if features.release_conflict == 'idempotent'
        else {
            '201': 'Created',
            '404': 'Project not found',
            '409': 'Already exists',
            '422': 'Invalid body',
        }
    )
    paths: Json = {
        '/status': {
            'get': _op('Service status', 'Status', [], {'200': 'OK'}, secured=False)
        },
        '/users/me': {'get': _op('The current user', 'Users', [], {'200': 'OK'})},
        '/users/by-identity': {
            'get': _op(
                'Find a user by an external identity subject',
                'Users',
                [_query(identity, required=True), _query('subject', required=True)],
                {
                    '200': 'OK',
                    '404': 'No (or more than one) user matches',
                    '422': 'Invalid query',
                },
            )
        },
        '/organizations/': {
            'get': _op('List organizations', 'Organizations', [], {'200': 'OK'})
        },
        '/organizations/{org_slug}': {
            'get': _op(
                'Get an organization',
                'Organizations',
                [_ORG],
                {'200': 'OK', '404': 'Not found'},
            )
        },
        '/organizations/{org_slug}/environments/': {
            'get': _op('List environments', 'Environments', [_ORG], {'200': 'OK'})
        },
        '/organizations/{org_slug}/projects/': {
            'get': _op(
                'List projects',
                'Projects',
                list_parameters,
                {'200': 'OK', '400': 'Invalid filter'},
            )
        },
        project: {
            'get': _op(
                'Get a project',
                'Projects',
                [_ORG, _PROJECT],
                {'200': 'OK', '404': 'Not found'},
            ),
            'patch': _op(
                'Apply a JSON Patch to a project',
                'Projects',
                [_ORG, _PROJECT, _query('transfer_repository', 'boolean')],
                {
                    '200': 'The updated project',
                    '400': 'Invalid patch or read-only path',
                    '404': 'Project not found',
                    '422': 'Test failed or unknown team, type or environment',
                },
                'PatchOperations',
            ),
        },
        project + '/releases/': {
            'get': _op(
                'List releases, newest first',
                'Releases',
                [_ORG, _PROJECT, _query('committish'), _query('tag')],
                {'200': 'OK'},
            ),
            'post': _op(
                'Create a release',
                'Releases',
                [_ORG, _PROJECT],
                create_responses,
                'ReleaseCreate',
            ),
        },
        release: {
            'get': _op(
                'Get a release',
                'Releases',
                [_ORG, _PROJECT, _RELEASE],
                {'200': 'OK', '404': 'Not found'},
            )
        },
        release + '/environments': {
            'get': _op(
                'List the deployment edges of a release',
                'Releases',
                [_ORG, _PROJECT, _RELEASE],
                {'200': 'OK', '404': 'Release not found'},
            )
        },
        release + '/environments/{env_slug}': {
            'get': _op(
                'Get one deployment edge',
                'Releases',
                [_ORG, _PROJECT, _RELEASE, _ENV],
                {'200': 'OK', '404': 'Not found'},
            ),
            'post': _op(
                'Record a deployment event',
                'Releases',
                [_ORG, _PROJECT, _RELEASE, _ENV],
                {
                    '200': 'The edge with every event',
                    '404': 'Release not found',
                    '422': 'Unknown environment',
                },
                'DeploymentEventInput',
            ),
        },
        '/_sandbox/faults': {
            'get': _op('List fault rules (sandbox only)', 'Sandbox', [], {'200': 'OK'}),
            'post': _op(
                'Add a fault rule (sandbox only)',
                'Sandbox',
                [],
                {'201': 'Created'},
                'FaultRule',
            ),
            'delete': _op(
                'Remove every fault rule (sandbox only)',
                'Sandbox',
                [],
                {'204': 'Removed'},
            ),
        },
        '/_sandbox/reset': {
            'post': _op(
                'Reload the seed data (sandbox only)', 'Sandbox', [], {'204': 'Reset'}
            )
        },
        '/_sandbox/projects/{project_id}/tags/{tag}': {
            'put': _op(
                "Set a tag in a project's repository (sandbox only)",
                'Sandbox',
                [_PROJECT, _path('tag')],
                {'204': 'Set', '404': 'Project not found'},
                'RepositoryTag',
            )
        },
    }
    paths['/_sandbox/projects/{project_id}/github-app'] = {
        'put': _op(
            "Install or uninstall the GitHub App on a project's repository "
            '(sandbox only)',
            'Sandbox',
            [_PROJECT],
            {'204': 'Set', '404': 'Project not found'},
            'GitHubApp',
        )
    }
    paths['/_sandbox/api-keys'] = {
        'post': _op(
            'Issue an API key for a seeded user, optionally scoped (sandbox only)',
            'Sandbox',
            [],
            {'201': 'The key', '404': 'User not found'},
            'ApiKeyRequest',
        )
    }
    if features.me_permissions:
        paths['/users/me/permissions'] = {
            'get': _op("The caller's permissions", 'Users', [], {'200': 'OK'})
        }
    if features.releases_current:
        paths[project + '/releases/current'] = {
            'get': _op(
                'The current release in each environment of the project',
                'Releases',
                [_ORG, _PROJECT],
                {'200': 'OK', '404': 'Project not found'},
            )
        }
    if features.project_schema:
        paths[project + '/schema'] = {
            'get': _op(
                "The project's blueprint attributes",
                'Projects',
                [_ORG, _PROJECT],
                {'200': 'OK', '404': 'Project not found'},
            )
        }
    if features.schema_required:
        paths['/organizations/{org_slug}/projects/schema'] = {
            'get': _op(
                'The blueprint attributes of a project not created yet',
                'Projects',
                [_ORG, _query('project_type'), _query('environment')],
                {'200': 'OK'},
            )
        }
    if features.permission_extension:
        for path, item in paths.items():
            for method, operation in item.items():
                permission = _permission(path, method)
                if permission is not None:
                    operation['x-imbi-permission'] = [permission]
    schemas: Json = {}
    for name, model in (
        (
            'ReleaseCreate',
            releases.ReleaseCreateByTag
            if features.release_conflict == 'idempotent'
            else releases.ReleaseCreate,
        ),
        (
            'DeploymentEventInput',
            releases.DeploymentEventInputWithUrl
            if features.external_run_url
            else releases.DeploymentEventInput,
        ),
        ('PatchOperation', project_patch.PatchOperation),
        ('FaultRule', faults.FaultRule),
        ('RepositoryTag', admin.RepositoryTag),
        ('GitHubApp', admin.GitHubApp),
        ('ApiKeyRequest', admin.ApiKeyRequest),
    ):
        schema = model.model_json_schema(ref_template='#/components/schemas/{model}')
        schemas.update(schema.pop('$defs', {}))
        schema['title'] = name
        schemas[name] = schema
    schemas['PatchOperations'] = {
        'type': 'array',
        'items': {'$ref': '#/components/schemas/PatchOperation'},
    }
    return {
        'openapi': '3.1.0',
        'info': {
            'title': 'Imbi API (imbi-toolkit sandbox)',
            'version': config.server_version,
        },
        # FastAPI lists routes with the prefix they are mounted under.
        'paths': {config.prefix + path: item for path, item in paths.items()},
        'components': {
            'schemas': schemas,
            'securitySchemes': {'HTTPBearer': {'type': 'http', 'scheme': 'bearer'}},
        },
    }
