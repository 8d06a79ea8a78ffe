"""Releases of a project and the deployment events on their environments."""

from __future__ import annotations

import typing

import pydantic
from starlette import requests, responses, routing

from imbi_toolkit.sandbox import _bodies as bodies
from imbi_toolkit.sandbox import _clock as clock
from imbi_toolkit.sandbox import _context as context
from imbi_toolkit.sandbox import _errors as errors
from imbi_toolkit.sandbox import _ids as ids
from imbi_toolkit.sandbox import _versions as versions
from imbi_toolkit.sandbox import _views as views
from imbi_toolkit.sandbox._store import Row

DeploymentStatus = typing.Literal[
    'pending', 'in_progress', 'success', 'failed', 'rolled_back'
]
Committish = typing.Annotated[str, pydantic.Field(pattern=r'^[0-9a-f]{7}$')]


class ReleaseLink(pydantic.BaseModel):
    type: str
    url: pydantic.HttpUrl
    label: str | None = None


class ReleaseCreate(pydantic.BaseModel):
    """The create-release body; unknown keys (such as `version`) are refused."""

    model_config = pydantic.ConfigDict(extra='forbid')

    tag: str | None = None
    committish: Committish
    title: str
    description: str | None = None
    links: list[ReleaseLink] = []
    created_by: str | None = None


class ReleaseCreateByTag(pydantic.BaseModel):
    """The create-release body since 2.32.3: a tag may stand for the commit."""

    model_config = pydantic.ConfigDict(extra='forbid')

    tag: str | None = None
    committish: Committish | None = None
    title: str
    description: str | None = None
    links: list[ReleaseLink] = []
    created_by: str | None = None

    @pydantic.field_validator('tag', mode='before')
    @classmethod
    def _empty_tag_is_none(cls, value: object) -> object:
        return None if value == '' else value

    @pydantic.model_validator(mode='after')
    def _names_a_revision(self) -> ReleaseCreateByTag:
        if self.committish is None and self.tag is None:
            raise ValueError('one of committish or tag is required')
        return self


class DeploymentEventInput(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra='forbid')

    status: DeploymentStatus
    note: str | None = None
    # Accepted and not stored before 2.18.0.
    external_run_id: str | None = None


class DeploymentEventInputWithUrl(DeploymentEventInput):
    """The deployment event body since 2.18.0 (a free string, not a URL)."""

    external_run_url: str | None = None


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
    features = sandbox.config.features
    return responses.JSONResponse([views.release(row, features) for row in rows])


async def list_current_releases(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'project:read')
    project_id = request.path_params['project_id']
    found = _project(sandbox, request)
    if found is None:
        raise errors.ApiError(404, f'Project {project_id!r} not found')
    record = sandbox.store.project_record(found[1])
    return responses.JSONResponse(
        views.releases_current(sandbox.store, record, sandbox.config.features)
    )


def _resolve_tag(sandbox: context.Sandbox, project: Row, tag: str) -> str:
    """The commit a tag points at, as the project's deployment plugin says.

    The sandbox's repository knows the tags set with ``/_sandbox/`` and those
    of the project's releases; a project without an integration has no
    deployment plugin at all.

    Raises:
        ApiError: 422 when the tag does not resolve; 403 with a `detail`
            object when the GitHub App is not installed on the repository.
    """
    committish = None
    if project['services']:
        if not sandbox.store.app_installed(project['id']):
            raise _app_not_installed(project)
        committish = sandbox.store.repository_tag(project['id'], tag)
        if committish is None:
            tagged = sandbox.store.release_with_tag(project['id'], tag)
            committish = tagged['committish'] if tagged is not None else None
    if committish is None:
        raise errors.ApiError(
            422,
            f'Could not resolve tag {tag!r} to a commit for project '
            f'{project["id"]!r}; supply committish explicitly',
        )
    return committish[:7].lower()


def _app_not_installed(project: Row) -> errors.ApiError:
    # The app-wide handler's answer to PluginInstallationMissing (2.31.0).
    repository = str(project['links'].get('github-repository', ''))
    owner_repo = '/'.join(repository.rstrip('/').split('/')[-2:])
    integration = project['services'][0].get('integration_slug', 'github')
    return errors.ApiError(
        403,
        {
            'error': 'app_not_installed',
            'message': f'The GitHub App is not installed on {owner_repo}; '
            'install it on the repository and try again',
            'owner_repo': owner_repo,
            'integration_slug': integration,
        },
    )


def _conflict(
    sandbox: context.Sandbox, project_id: str, committish: str, tag: str | None
) -> Row | bool | None:
    """The existing release a create matches: a row, `True` when only known
    to exist, or `None`."""
    store = sandbox.store
    conflict = sandbox.config.features.release_conflict
    if conflict == 'committish_tag':
        return store.release_exists(project_id, committish, tag) or None
    if tag:
        return store.release_with_tag(project_id, tag) or (
            store.untagged_release(project_id, committish)
            if conflict == 'idempotent'
            else None
        )
    return store.untagged_release(project_id, committish)


async def create_release(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    features = sandbox.config.features
    body = await bodies.read(request)
    principal = sandbox.auth.require(request, 'project:write')
    data: ReleaseCreate | ReleaseCreateByTag
    if features.release_conflict == 'idempotent':
        data = bodies.model(body, ReleaseCreateByTag)
    else:
        data = bodies.model(body, ReleaseCreate)
    project_id = request.path_params['project_id']
    found = _project(sandbox, request)
    if found is None:
        raise errors.ApiError(404, f'Project {project_id!r} not found')
    committish = data.committish
    if committish is None:
        assert data.tag is not None  # the model requires one of them
        # Resolved before the duplicate check, as the real server does.
        committish = _resolve_tag(sandbox, found[1], data.tag)
    store = sandbox.store
    with store.transaction():
        existing = _conflict(sandbox, project_id, committish, data.tag)
        if existing is not None and features.release_conflict != 'idempotent':
            first, second = (
                (f'committish={committish!r}', f'tag={data.tag!r}')
                if features.release_conflict == 'committish_tag'
                else (f'tag={data.tag!r}', f'committish={committish!r}')
            )
            raise errors.ApiError(
                409,
                f'Release {first} {second} already exists for project {project_id!r}',
            )
        if isinstance(existing, dict):
            if data.tag and not existing['tag']:
                # An untagged release of the commit is adopted: it gets the tag.
                now = clock.now()
                store.set_release_tag(existing['id'], data.tag, now)
                existing = {**existing, 'tag': data.tag, 'updated_at': now}
            return responses.JSONResponse(views.release(existing, features))
        now = clock.now()
        row = {
            'id': ids.nanoid(),
            'project_id': project_id,
            'committish': committish,
            'tag': data.tag,
            'title': data.title,
            'description': data.description,
            'links': [link.model_dump(mode='json') for link in data.links],
            'created_by': data.created_by or principal.email,
            'created_at': now,
            'updated_at': now,
        }
        store.insert_release(row)
    return responses.JSONResponse(views.release(row, features), status_code=201)


async def get_release(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'project:read')
    _, release = _release_or_404(sandbox, request)
    return responses.JSONResponse(views.release(release, sandbox.config.features))


def _record_event(
    sandbox: context.Sandbox,
    release: Row,
    environment: Row,
    data: DeploymentEventInput,
) -> str | None:
    """Store one deployment event; return its timestamp, or `None` for a no-op."""
    store = sandbox.store
    features = sandbox.config.features
    url = getattr(data, 'external_run_url', None)
    run_id = data.external_run_id if features.external_run_url else None
    existing = (
        store.deployment_event_by_run(release['project_id'], run_id)
        if features.deployment_dedup == 'project' and run_id is not None
        else None
    )
    if existing is None:
        timestamp = clock.now()
        store.insert_deployment_event(
            {
                'release_id': release['id'],
                'environment_id': environment['id'],
                'timestamp': timestamp,
                'status': data.status,
                'note': data.note,
                'external_run_id': run_id,
                'external_run_url': url,
            }
        )
        return timestamp
    # One record per (project, run id): a repeat updates it, and may move it
    # to another environment or release (a tagged release keeps it).
    release_id = release['id']
    if existing['release_tag'] and not release['tag']:
        release_id = existing['release_id']
    changes = {
        'release_id': release_id,
        'environment_id': environment['id'],
        'status': data.status,
        'note': data.note,  # a missing note clears it
        # A missing URL keeps the stored one.
        'external_run_url': url if url is not None else existing['external_run_url'],
    }
    if all(existing[key] == value for key, value in changes.items()):
        return None  # an identical replay writes nothing
    changes['timestamp'] = clock.now()
    store.update_deployment_event(existing['seq'], changes)
    return typing.cast(str, changes['timestamp'])


def _edge_events(
    sandbox: context.Sandbox, release: Row, environment: Row | None = None
) -> list[Row]:
    """A release's events (in one environment), in the order the line keeps."""
    return sandbox.store.deployment_events(
        release['id'],
        None if environment is None else environment['id'],
        # Events updated in place (2.26.0) move to their new time.
        by_time=sandbox.config.features.deployment_dedup == 'project',
    )


def _edge_response(
    sandbox: context.Sandbox, environment: Row, events: list[Row]
) -> responses.Response:
    return responses.JSONResponse(
        views.deployment_edge(
            environment['slug'], environment['name'], events, sandbox.config.features
        )
    )


async def record_deployment(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    features = sandbox.config.features
    body = await bodies.read(request)
    sandbox.auth.require(request, 'project:write')
    data: DeploymentEventInput = bodies.model(
        body,
        DeploymentEventInputWithUrl
        if features.external_run_url
        else DeploymentEventInput,
    )
    org, release = _release_or_404(sandbox, request)
    env_slug = request.path_params['env_slug']
    store = sandbox.store
    environment = store.environment(org['id'], env_slug)
    if environment is None:
        raise errors.ApiError(
            422, f'Environment {env_slug!r} not found in organization {org["slug"]!r}'
        )
    with store.transaction():
        timestamp = _record_event(sandbox, release, environment, data)
        if (
            timestamp is not None
            and data.status == 'success'
            and features.moves_current_release
        ):
            # Since 2.16.1 a success moves the project's current release.
            store.set_current_release(
                release['project_id'], environment['id'], release['id'], timestamp
            )
    return _edge_response(
        sandbox, environment, _edge_events(sandbox, release, environment)
    )


async def get_deployment(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'project:read')
    org, release = _release_or_404(sandbox, request)
    env_slug = request.path_params['env_slug']
    environment = sandbox.store.environment(org['id'], env_slug)
    events = (
        _edge_events(sandbox, release, environment) if environment is not None else []
    )
    if environment is None or not events:
        raise errors.ApiError(
            404,
            f'Deployment edge for release {release["id"]!r} in'
            f' environment {env_slug!r} not found',
        )
    return _edge_response(sandbox, environment, events)


async def list_deployments(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'project:read')
    _, release = _release_or_404(sandbox, request)
    return responses.JSONResponse(
        views.deployment_edges(_edge_events(sandbox, release), sandbox.config.features)
    )


_RELEASES = '/organizations/{org_slug}/projects/{project_id}/releases/'
_RELEASE = _RELEASES + '{release_id}'


def routes(features: versions.Features) -> list[routing.BaseRoute]:
    """The release routes of an API line."""
    table: list[routing.BaseRoute] = [
        routing.Route(_RELEASES, list_releases, methods=['GET']),
        routing.Route(_RELEASES, create_release, methods=['POST']),
    ]
    if features.releases_current:
        # Before the release route, which would take `current` for an id.
        table.append(
            routing.Route(_RELEASES + 'current', list_current_releases, methods=['GET'])
        )
    table += [
        routing.Route(_RELEASE, get_release, methods=['GET']),
        routing.Route(_RELEASE + '/environments', list_deployments, methods=['GET']),
        routing.Route(
            _RELEASE + '/environments/{env_slug}', get_deployment, methods=['GET']
        ),
        routing.Route(
            _RELEASE + '/environments/{env_slug}', record_deployment, methods=['POST']
        ),
    ]
    return table
