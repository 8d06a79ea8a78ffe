"""``/users/me`` and ``/users/by-identity``."""

from __future__ import annotations

from starlette import requests, responses, routing

from imbi_toolkit.sandbox import bodies, context, errors, views


async def me(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    principal = sandbox.auth.authenticate(request)
    row = sandbox.store.user(principal.email)
    if row is None:
        raise errors.ApiError(401, 'User not found')
    body = views.user(row, sandbox.store.memberships(principal.email))
    body['permissions'] = sorted(principal.permissions)
    body['teams'] = sandbox.store.teams_of_user(principal.email)
    return responses.JSONResponse(body)


async def by_identity(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'user:read')
    param = sandbox.config.identity_param
    integration, subject = bodies.required_queries(request, param, 'subject')
    emails = sandbox.store.users_by_identity(integration, subject)
    # No match and an ambiguous match look the same: "do not attribute".
    if len(emails) != 1:
        noun = 'integration' if param == 'integration_slug' else 'plugin'
        raise errors.ApiError(
            404, f'No user matches {noun} {integration!r} subject {subject!r}'
        )
    row = sandbox.store.user(emails[0])
    if row is None:  # pragma: no cover - foreign keys guarantee it
        raise errors.ApiError(404, f'User with id {emails[0]!r} not found')
    return responses.JSONResponse(views.user(row, sandbox.store.memberships(emails[0])))


ROUTES = [
    routing.Route('/users/me', me, methods=['GET']),
    routing.Route('/users/by-identity', by_identity, methods=['GET']),
]
