"""``/_sandbox/``: controls for tests, admin token only (not part of Imbi)."""

from __future__ import annotations

import typing

import pydantic
from starlette import requests, responses, routing

from imbi_toolkit.sandbox import _bodies as bodies
from imbi_toolkit.sandbox import _context as context
from imbi_toolkit.sandbox import _errors as errors
from imbi_toolkit.sandbox import _faults as faults


def _require_admin(request: requests.Request) -> context.Sandbox:
    sandbox = context.of(request)
    principal = sandbox.auth.authenticate(request)
    if not principal.is_admin:
        raise errors.ApiError(403, 'Permission denied: sandbox:admin required')
    return sandbox


_Body = typing.TypeVar('_Body', bound=pydantic.BaseModel)


async def _project_setting(
    request: requests.Request, model: type[_Body]
) -> tuple[context.Sandbox, str, _Body]:
    """Read an admin request's body for a project that must exist."""
    body = await bodies.read(request)
    sandbox = _require_admin(request)
    data = bodies.model(body, model)
    project_id = request.path_params['project_id']
    if sandbox.store.project_by_id(project_id) is None:
        raise errors.ApiError(404, f'Project {project_id!r} not found')
    return sandbox, project_id, data


async def list_faults(request: requests.Request) -> responses.Response:
    sandbox = _require_admin(request)
    return responses.JSONResponse([rule.model_dump() for rule in sandbox.faults])


async def add_fault(request: requests.Request) -> responses.Response:
    body = await bodies.read(request)
    sandbox = _require_admin(request)
    rule = bodies.model(body, faults.FaultRule)
    stored = sandbox.faults.add(rule)
    return responses.JSONResponse(stored.model_dump(), status_code=201)


async def clear_faults(request: requests.Request) -> responses.Response:
    sandbox = _require_admin(request)
    sandbox.faults.clear()
    return responses.Response(status_code=204)


async def remove_fault(request: requests.Request) -> responses.Response:
    sandbox = _require_admin(request)
    raw = request.path_params['rule_id']
    try:
        rule_id = pydantic.TypeAdapter(int).validate_python(raw)
    except pydantic.ValidationError as exc:
        raise errors.from_pydantic(exc, ('path', 'rule_id')) from None
    if not sandbox.faults.remove(rule_id):
        raise errors.ApiError(404, f'Fault rule {rule_id} not found')
    return responses.Response(status_code=204)


class RepositoryTag(pydantic.BaseModel):
    """A tag in a project's repository, for a release created by tag alone."""

    model_config = pydantic.ConfigDict(extra='forbid')

    committish: str = pydantic.Field(pattern=r'^[0-9a-fA-F]{7,40}$')


async def set_repository_tag(request: requests.Request) -> responses.Response:
    sandbox, project_id, data = await _project_setting(request, RepositoryTag)
    with sandbox.store.transaction():
        sandbox.store.set_repository_tag(
            project_id, request.path_params['tag'], data.committish
        )
    return responses.Response(status_code=204)


class GitHubApp(pydantic.BaseModel):
    """Whether the GitHub App is installed on a project's repository."""

    model_config = pydantic.ConfigDict(extra='forbid')

    installed: bool


async def set_github_app(request: requests.Request) -> responses.Response:
    sandbox, project_id, data = await _project_setting(request, GitHubApp)
    with sandbox.store.transaction():
        sandbox.store.set_app_installed(project_id, data.installed)
    return responses.Response(status_code=204)


class ApiKeyRequest(pydantic.BaseModel):
    """An API key for a seeded user, optionally narrowed to some permissions."""

    model_config = pydantic.ConfigDict(extra='forbid')

    email: str
    scopes: list[str] = []


async def issue_api_key(request: requests.Request) -> responses.Response:
    body = await bodies.read(request)
    sandbox = _require_admin(request)
    data = bodies.model(body, ApiKeyRequest)
    if sandbox.store.user(data.email) is None:
        raise errors.ApiError(404, f'User {data.email!r} not found')
    token = sandbox.auth.issue(data.email, data.scopes)
    return responses.JSONResponse(
        {'key': token, 'email': data.email, 'scopes': data.scopes}, status_code=201
    )


async def reset(request: requests.Request) -> responses.Response:
    sandbox = _require_admin(request)
    sandbox.reset()
    return responses.Response(status_code=204)


ROUTES = [
    routing.Route('/_sandbox/faults', list_faults, methods=['GET']),
    routing.Route('/_sandbox/faults', add_fault, methods=['POST']),
    routing.Route('/_sandbox/faults', clear_faults, methods=['DELETE']),
    routing.Route('/_sandbox/faults/{rule_id}', remove_fault, methods=['DELETE']),
    routing.Route('/_sandbox/reset', reset, methods=['POST']),
    routing.Route(
        '/_sandbox/projects/{project_id}/tags/{tag}',
        set_repository_tag,
        methods=['PUT'],
    ),
    routing.Route(
        '/_sandbox/projects/{project_id}/github-app', set_github_app, methods=['PUT']
    ),
    routing.Route('/_sandbox/api-keys', issue_api_key, methods=['POST']),
]
