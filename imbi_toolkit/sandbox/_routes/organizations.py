"""Organisations and their environments."""

from __future__ import annotations

from starlette import requests, responses, routing

from imbi_toolkit.sandbox import _context as context
from imbi_toolkit.sandbox import _errors as errors
from imbi_toolkit.sandbox import _views as views


async def list_organizations(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'organization:read')
    store = sandbox.store
    return responses.JSONResponse(
        [
            views.organization(
                row,
                store.organization_counts(row['id']),
                sandbox.config.features,
                sandbox.config.prefix,
            )
            for row in store.organizations()
        ]
    )


async def get_organization(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'organization:read')
    slug = request.path_params['org_slug']
    row = sandbox.store.organization(slug)
    if row is None:
        raise errors.ApiError(404, f'Organization with slug {slug!r} not found')
    return responses.JSONResponse(
        views.organization(
            row,
            sandbox.store.organization_counts(row['id']),
            sandbox.config.features,
            sandbox.config.prefix,
        )
    )


async def list_environments(request: requests.Request) -> responses.Response:
    sandbox = context.of(request)
    sandbox.auth.require(request, 'environment:read')
    org = sandbox.store.organization(request.path_params['org_slug'])
    if org is None:  # the real query simply matches nothing
        return responses.JSONResponse([])
    counts = sandbox.store.environment_project_counts(org['id'])
    return responses.JSONResponse(
        [
            views.environment(
                row,
                org,
                counts.get(row['slug'], 0),
                sandbox.config.features,
                sandbox.config.prefix,
            )
            for row in sandbox.store.environments(org['id'])
        ]
    )


ROUTES = [
    routing.Route('/organizations/', list_organizations, methods=['GET']),
    routing.Route('/organizations/{org_slug}', get_organization, methods=['GET']),
    routing.Route(
        '/organizations/{org_slug}/environments/', list_environments, methods=['GET']
    ),
]
