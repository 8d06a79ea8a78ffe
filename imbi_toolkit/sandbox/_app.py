"""Build the sandbox's ASGI application."""

from __future__ import annotations

from starlette import applications, exceptions, middleware, routing

from imbi_toolkit.sandbox import _auth as auth
from imbi_toolkit.sandbox import _config as sandbox_config
from imbi_toolkit.sandbox import _context as context
from imbi_toolkit.sandbox import _errors as errors
from imbi_toolkit.sandbox import _faults as faults
from imbi_toolkit.sandbox import _store as store
from imbi_toolkit.sandbox._routes import (
    admin,
    organizations,
    projects,
    releases,
    system,
    users,
)


def create_app(
    config: sandbox_config.SandboxConfig, data: store.Store
) -> applications.Starlette:
    """Return the sandbox application serving ``data``.

    Args:
        config: What to emulate: API version, tokens, latency.
        data: The store to serve; load a seed into it first.
    """
    sandbox = context.Sandbox(
        store=data,
        config=config,
        auth=auth.Authenticator(config, data),
        faults=faults.FaultRules(),
    )
    app = applications.Starlette(
        # Starlette's router answers a wrong trailing slash with a 307 to
        # the other form before any handler runs, exactly like Imbi.
        routes=_routes(config),
        exception_handlers={
            errors.ApiError: errors.handle_api_error,
            errors.RequestValidationError: errors.handle_request_invalid,
            exceptions.HTTPException: errors.handle_http_exception,
        },
        middleware=[
            middleware.Middleware(
                faults.FaultMiddleware,
                rules=sandbox.faults,
                latency_ms=config.latency_ms,
                response_time_ms=config.response_time_ms,
                admin_prefix=config.prefix + faults.ADMIN_PREFIX,
            )
        ],
    )
    app.state.sandbox = sandbox
    return app


def _routes(config: sandbox_config.SandboxConfig) -> list[routing.BaseRoute]:
    prefix = config.prefix
    api: list[routing.BaseRoute] = [
        *system.STATUS_ROUTES,
        *users.routes(config.features),
        *organizations.ROUTES,
        *projects.routes(config.features),
        *releases.routes(config.features),
        *admin.ROUTES,
    ]
    # Like Imbi behind IMBI_API_URL: the API under the prefix, the OpenAPI
    # document at the root.
    mounted = [routing.Mount(prefix, routes=api)] if prefix else api
    return [*system.OPENAPI_ROUTES, *mounted]
