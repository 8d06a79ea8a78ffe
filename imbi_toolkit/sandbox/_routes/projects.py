"""Projects: list, get, JSON Patch and the blueprint schema."""

from __future__ import annotations

import logging
import typing
from collections import abc

from starlette import requests, responses, routing

from imbi_toolkit.sandbox import _bodies as bodies
from imbi_toolkit.sandbox import _context as context
from imbi_toolkit.sandbox import _errors as errors
from imbi_toolkit.sandbox import _filters as filters
from imbi_toolkit.sandbox import _project_patch as project_patch
from imbi_toolkit.sandbox import _versions as versions
from imbi_toolkit.sandbox import _views as views
from imbi_toolkit.sandbox._store import ProjectRecord, Row

LOGGER = logging.getLogger(__name__)


def _declared(rows: abc.Iterable[Row]) -> dict[str, dict[str, typing.Any]]:
    """Blueprint attributes declared by project types, by name."""
    declared: dict[str, dict[str, typing.Any]] = {}
    for row in rows:
        declared.update(row['attributes'])
    return declared


async def list_projects(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    features = sandbox.config.features
    sandbox.auth.require(request, 'project:read')
    include_archived = bodies.query_bool(request, 'include_archived', False)
    slim = bodies.query_bool(request, 'slim', False)
    project_type = request.query_params.get('project_type') or None
    service_key = features.service_key
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
    predicates: list[filters.Predicate] = []
    raw_filters = request.query_params.getlist('filter')
    if features.filter_grammar and raw_filters:
        types = store.project_types(org['id'])
        if project_type is not None:
            types = [row for row in types if row['slug'] == project_type]
        declared = _declared(types)
        predicates = [
            filters.parse(raw, declared, coerce=features.filter_coercion)
            for raw in raw_filters
        ]
    rows = store.projects(
        org['id'], include_archived=include_archived, project_type=project_type
    )
    wanted_id = request.query_params.get('project_id')
    if features.project_id_filter and wanted_id is not None:
        rows = [row for row in rows if row['id'] == wanted_id]
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
    if predicates:
        rows = [
            row
            for row in rows
            if all(predicate.matches(row['attributes']) for predicate in predicates)
        ]
    if slim:
        return responses.JSONResponse(
            [views.project_slim(store, row, features) for row in rows]
        )
    return responses.JSONResponse(
        [
            views.project(
                store,
                store.project_record(row),
                org,
                features,
                view='list',
                prefix=sandbox.config.prefix,
            )
            for row in rows
        ]
    )


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
        views.project(
            sandbox.store,
            record,
            org,
            sandbox.config.features,
            prefix=sandbox.config.prefix,
        )
    )


async def patch_project(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    body = await bodies.read(request)
    sandbox.auth.require(request, 'project:write')
    operations = bodies.adapter(body, project_patch.OPERATIONS)
    bodies.query_bool(request, 'transfer_repository', False)
    store = sandbox.store
    features = sandbox.config.features
    org, record = _project_or_404(
        sandbox, request.path_params['org_slug'], request.path_params['project_id']
    )
    try:
        with store.transaction():
            updated = project_patch.apply(store, org, record, operations, features)
    except project_patch.InternalError as exc:
        LOGGER.warning('PATCH failed like the real server does (500): %s', exc)
        return errors.internal_server_error()
    body = views.project(
        store, updated, org, features, view='mutation', prefix=sandbox.config.prefix
    )
    body['lifecycle_results'] = []
    return responses.JSONResponse(body)


def _schema(types: abc.Iterable[Row], features: versions.Features) -> dict[str, object]:
    """The blueprint schema of a project with ``types``: one section per type."""
    sections = []
    for row in types:
        properties = {}
        for name, rule in row['attributes'].items():
            properties[name] = {
                'type': rule.get('type', 'string'),
                'format': rule.get('format'),
                'title': rule.get('title'),
                'description': rule.get('description'),
                'enum': rule.get('enum'),
                'default': rule.get('default'),
                'minimum': rule.get('minimum'),
                'maximum': rule.get('maximum'),
                'x-ui': {'editable': True},
                'x-display': rule.get('x-display', {}),
            }
        section: dict[str, object] = {
            'name': row['name'],
            'slug': row['slug'],
            'description': row['description'],
            'scope': 'project',
            'properties': properties,
        }
        if features.schema_required:
            section['required'] = [
                name for name, rule in row['attributes'].items() if rule.get('required')
            ]
        sections.append(section)
    return {'sections': sections}


async def project_schema(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'project:read')
    _, record = _project_or_404(
        sandbox, request.path_params['org_slug'], request.path_params['project_id']
    )
    return responses.JSONResponse(_schema(record.types, sandbox.config.features))


async def new_project_schema(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'project:read')
    org = sandbox.store.organization(request.path_params['org_slug'])
    wanted = request.query_params.getlist('project_type')
    types = sandbox.store.project_types(org['id']) if org is not None else []
    # Unknown slugs just match fewer blueprints.
    by_slug = {row['slug']: row for row in types}
    chosen = [by_slug[slug] for slug in dict.fromkeys(wanted) if slug in by_slug]
    return responses.JSONResponse(_schema(chosen, sandbox.config.features))


_PROJECTS = '/organizations/{org_slug}/projects/'
_PROJECT = _PROJECTS + '{project_id}'


def routes(features: versions.Features) -> list[routing.BaseRoute]:
    """The project routes of an API line."""
    table: list[routing.BaseRoute] = [
        routing.Route(_PROJECTS, list_projects, methods=['GET'])
    ]
    if features.schema_required:
        # Before 2.40.0 this path reached GET project: 404 "Project 'schema'".
        table.append(
            routing.Route(_PROJECTS + 'schema', new_project_schema, methods=['GET'])
        )
    table += [
        routing.Route(_PROJECT, get_project, methods=['GET']),
        routing.Route(_PROJECT, patch_project, methods=['PATCH']),
    ]
    if features.project_schema:
        table.append(
            routing.Route(_PROJECT + '/schema', project_schema, methods=['GET'])
        )
    return table
