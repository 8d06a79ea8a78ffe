"""``/status`` and ``/openapi.json``: the two routes that need no token."""

from __future__ import annotations

import functools

from starlette import requests, responses, routing

from imbi_toolkit.sandbox import _config as sandbox_config
from imbi_toolkit.sandbox import _context as context
from imbi_toolkit.sandbox import _openapi as openapi


async def status(request: requests.Request) -> responses.Response:
    return responses.JSONResponse({'service': 'imbi', 'status': 'ok'})


@functools.cache
def _spec(config: sandbox_config.SandboxConfig) -> responses.JSONResponse:
    return responses.JSONResponse(openapi.build(config))


async def openapi_json(request: requests.Request) -> responses.Response:
    spec = _spec(context.of(request).config)
    return responses.Response(spec.body, media_type='application/json')


STATUS_ROUTES = [routing.Route('/status', status, methods=['GET'])]
OPENAPI_ROUTES = [routing.Route('/openapi.json', openapi_json, methods=['GET'])]
