"""Projects: list, get and JSON Patch."""

from __future__ import annotations

import logging

from starlette import requests, responses, routing

from imbi_toolkit.sandbox import bodies, context, errors, project_patch, views
from imbi_toolkit.sandbox.store import ProjectRecord, Row

LOGGER = logging.getLogger(__name__)

# The query parameter (and services key) naming where a project exists.
SERVICE_PARAMS = {'2.16': 'integration_slug', '2.11': 'third_party_service_slug'}


async def list_projects(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'project:read')
    include_archived = bodies.query_bool(request, 'include_archived', False)
    slim = bodies.query_bool(request, 'slim', False)
    project_type = request.query_params.get('project_type') or None
    service_key = SERVICE_PARAMS[sandbox.config.api_version]
    service = request.query_params.get(service_key)
    identifier = request.query_params.get('identifier')
    if identifier is not None and service is None:
        raise errors.ApiError(
            422,
            f'identifier requires {service_key}; an external identifier is '
            'only meaningful for a specific integration',
        )
    store = sandbox.store
    org = store.organization(request.path_params['org_slug'])
    if org is None:
        return responses.JSONResponse([])
    rows = store.projects(
        org['id'], include_archived=include_archived, project_type=project_type
    )
    if service is not None:
        rows = [
            row
            for row in rows
            if any(
                entry.get(service_key) == service
                and (identifier is None or entry.get('identifier') == identifier)
                for entry in row['services']
            )
        ]
    if slim:
        return responses.JSONResponse([views.project_slim(store, row) for row in rows])
    items = []
    for row in rows:
        item = views.project(
            store, store.project_record(row), org, prefix=sandbox.config.prefix
        )
        item['release_summary'] = None
        items.append(item)
    return responses.JSONResponse(items)


def _project_or_404(
    sandbox: context.Sandbox, org_slug: str, project_id: str
) -> tuple[Row, ProjectRecord]:
    org = sandbox.store.organization(org_slug)
    row = sandbox.store.project(org['id'], project_id) if org is not None else None
    if org is None or row is None:
        raise errors.ApiError(404, f'Project {project_id!r} not found')
    return org, sandbox.store.project_record(row)


async def get_project(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'project:read')
    org, record = _project_or_404(
        sandbox, request.path_params['org_slug'], request.path_params['project_id']
    )
    return responses.JSONResponse(
        views.project(sandbox.store, record, org, prefix=sandbox.config.prefix)
    )


async def patch_project(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    body = await bodies.read(request)
    sandbox.auth.require(request, 'project:write')
    operations = bodies.adapter(body, project_patch.OPERATIONS)
    bodies.query_bool(request, 'transfer_repository', False)
    store = sandbox.store
    org, record = _project_or_404(
        sandbox, request.path_params['org_slug'], request.path_params['project_id']
    )
    try:
        with store.transaction():
            updated = project_patch.apply(store, org, record, operations)
    except project_patch.InternalError as exc:
        LOGGER.warning('PATCH failed like the real server does (500): %s', exc)
        return errors.internal_server_error()
    body = views.project(
        store, updated, org, with_current_releases=False, prefix=sandbox.config.prefix
    )
    body['lifecycle_results'] = []
    return responses.JSONResponse(body)


ROUTES = [
    routing.Route(
        '/organizations/{org_slug}/projects/', list_projects, methods=['GET']
    ),
    routing.Route(
        '/organizations/{org_slug}/projects/{project_id}',
        get_project,
        methods=['GET'],
    ),
    routing.Route(
        '/organizations/{org_slug}/projects/{project_id}',
        patch_project,
        methods=['PATCH'],
    ),
]
