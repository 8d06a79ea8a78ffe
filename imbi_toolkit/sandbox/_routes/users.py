"""``/users/me`` and ``/users/by-identity``."""

from __future__ import annotations

from starlette import requests, responses, routing

from imbi_toolkit.sandbox import _auth as auth
from imbi_toolkit.sandbox import _bodies as bodies
from imbi_toolkit.sandbox import _context as context
from imbi_toolkit.sandbox import _errors as errors
from imbi_toolkit.sandbox import _versions as versions
from imbi_toolkit.sandbox import _views as views


async def me(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    principal = sandbox.auth.authenticate(request)
    row = sandbox.store.user(principal.email)
    if row is None:
        raise errors.ApiError(401, 'User not found')
    memberships = sandbox.store.memberships(principal.email)
    if sandbox.config.features.membership_permissions:
        # What the role grants in that organisation (2.40.0).
        memberships = [
            {
                **membership,
                'permissions': sorted(
                    auth.ROLE_PERMISSIONS.get(membership['role'], ())
                ),
            }
            for membership in memberships
        ]
    body = views.user(row, memberships)
    body['permissions'] = sorted(principal.permissions)
    body['teams'] = sandbox.store.teams_of_user(principal.email)
    return responses.JSONResponse(body)


async def my_permissions(request: requests.Request) -> responses.Response:
    """`GET /users/me/permissions` (2.38.0): any principal, service accounts too."""
    principal = context.of(request).auth.authenticate(request)
    return responses.JSONResponse(
        {'is_admin': principal.is_admin, 'permissions': sorted(principal.permissions)}
    )


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


def routes(features: versions.Features) -> list[routing.BaseRoute]:
    """The user routes of an API line."""
    table: list[routing.BaseRoute] = [
        routing.Route('/users/me', me, methods=['GET']),
        routing.Route('/users/by-identity', by_identity, methods=['GET']),
    ]
    if features.me_permissions:
        table.append(
            routing.Route('/users/me/permissions', my_permissions, methods=['GET'])
        )
    return table
