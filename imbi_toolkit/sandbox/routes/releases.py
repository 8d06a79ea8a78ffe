"""Releases of a project and the deployment events on their environments."""

from __future__ import annotations

import typing

import pydantic
from starlette import requests, responses, routing

from imbi_toolkit.sandbox import bodies, clock, context, errors, ids, views
from imbi_toolkit.sandbox.store import Row

DeploymentStatus = typing.Literal[
    'pending', 'in_progress', 'success', 'failed', 'rolled_back'
]


class ReleaseLink(pydantic.BaseModel):
    type: str
    url: pydantic.HttpUrl
    label: str | None = None


class ReleaseCreate(pydantic.BaseModel):
    """The create-release body; unknown keys (such as `version`) are refused."""

    model_config = pydantic.ConfigDict(extra='forbid')

    tag: str | None = None
    committish: typing.Annotated[str, pydantic.Field(pattern=r'^[0-9a-f]{7}$')]
    title: str
    description: str | None = None
    links: list[ReleaseLink] = []
    created_by: str | None = None


class DeploymentEventInput(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra='forbid')

    status: DeploymentStatus
    note: str | None = None
    # Accepted and not stored, like the real endpoint.
    external_run_id: str | None = None


def _project(
    sandbox: context.Sandbox, request: requests.Request
) -> tuple[Row, Row] | None:
    org = sandbox.store.organization(request.path_params['org_slug'])
    if org is None:
        return None
    row = sandbox.store.project(org['id'], request.path_params['project_id'])
    return None if row is None else (org, row)


def _release_or_404(
    sandbox: context.Sandbox, request: requests.Request
) -> tuple[Row, Row]:
    project_id = request.path_params['project_id']
    release_id = request.path_params['release_id']
    found = _project(sandbox, request)
    release = sandbox.store.release(project_id, release_id) if found else None
    if found is None or release is None:
        raise errors.ApiError(
            404, f'Release {release_id!r} for project {project_id!r} not found'
        )
    return found[0], release


async def list_releases(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'project:read')
    found = _project(sandbox, request)
    if found is None:  # an unknown project lists as empty, not 404
        return responses.JSONResponse([])
    rows = sandbox.store.releases(
        found[1]['id'],
        committish=request.query_params.get('committish'),
        tag=request.query_params.get('tag'),
    )
    return responses.JSONResponse([views.release(row) for row in rows])


async def create_release(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    body = await bodies.read(request)
    principal = sandbox.auth.require(request, 'project:write')
    data = bodies.model(body, ReleaseCreate)
    project_id = request.path_params['project_id']
    if _project(sandbox, request) is None:
        raise errors.ApiError(404, f'Project {project_id!r} not found')
    store = sandbox.store
    with store.transaction():
        if store.release_exists(project_id, data.committish, data.tag):
            raise errors.ApiError(
                409,
                f'Release committish={data.committish!r} tag={data.tag!r}'
                f' already exists for project {project_id!r}',
            )
        now = clock.now()
        row = {
            'id': ids.nanoid(),
            'project_id': project_id,
            'committish': data.committish,
            'tag': data.tag,
            'title': data.title,
            'description': data.description,
            'links': [link.model_dump(mode='json') for link in data.links],
            'created_by': data.created_by or principal.email,
            'created_at': now,
            'updated_at': now,
        }
        store.insert_release(row)
    return responses.JSONResponse(views.release(row), status_code=201)


async def get_release(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'project:read')
    _, release = _release_or_404(sandbox, request)
    return responses.JSONResponse(views.release(release))


async def record_deployment(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    body = await bodies.read(request)
    sandbox.auth.require(request, 'project:write')
    data = bodies.model(body, DeploymentEventInput)
    org, release = _release_or_404(sandbox, request)
    env_slug = request.path_params['env_slug']
    store = sandbox.store
    environment = store.environment(org['id'], env_slug)
    if environment is None:
        raise errors.ApiError(
            422, f'Environment {env_slug!r} not found in organization {org["slug"]!r}'
        )
    with store.transaction():
        timestamp = clock.now()
        # No de-duplication: every POST appends an event, retries included.
        store.insert_deployment_event(
            {
                'release_id': release['id'],
                'environment_id': environment['id'],
                'timestamp': timestamp,
                'status': data.status,
                'note': data.note,
            }
        )
        if data.status == 'success' and sandbox.config.api_version != '2.11':
            # Since 2.16.1 a success moves the project's current release.
            store.set_current_release(
                release['project_id'], environment['id'], release['id'], timestamp
            )
    events = store.deployment_events(release['id'], environment['id'])
    return responses.JSONResponse(
        views.deployment_edge(environment['slug'], environment['name'], events)
    )


async def get_deployment(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'project:read')
    org, release = _release_or_404(sandbox, request)
    env_slug = request.path_params['env_slug']
    environment = sandbox.store.environment(org['id'], env_slug)
    events = (
        sandbox.store.deployment_events(release['id'], environment['id'])
        if environment is not None
        else []
    )
    if environment is None or not events:
        raise errors.ApiError(
            404,
            f'Deployment edge for release {release["id"]!r} in'
            f' environment {env_slug!r} not found',
        )
    return responses.JSONResponse(
        views.deployment_edge(environment['slug'], environment['name'], events)
    )


async def list_deployments(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'project:read')
    _, release = _release_or_404(sandbox, request)
    events = sandbox.store.deployment_events(release['id'])
    return responses.JSONResponse(views.deployment_edges(events))


_RELEASES = '/organizations/{org_slug}/projects/{project_id}/releases/'
_RELEASE = _RELEASES + '{release_id}'

ROUTES = [
    routing.Route(_RELEASES, list_releases, methods=['GET']),
    routing.Route(_RELEASES, create_release, methods=['POST']),
    routing.Route(_RELEASE, get_release, methods=['GET']),
    routing.Route(_RELEASE + '/environments', list_deployments, methods=['GET']),
    routing.Route(
        _RELEASE + '/environments/{env_slug}', get_deployment, methods=['GET']
    ),
    routing.Route(
        _RELEASE + '/environments/{env_slug}', record_deployment, methods=['POST']
    ),
]
