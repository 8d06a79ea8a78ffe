"""Errors in the real server's shapes: ``{"detail": ...}`` like FastAPI.

A handler raises :class:`ApiError` for a string ``detail`` (401, 403, 404,
409, 400 and the string-detail 422s) and :class:`RequestValidationError` for
FastAPI's request-validation list (422).
"""

from __future__ import annotations

import json
import typing
from collections import abc

import pydantic
from starlette import exceptions, requests, responses

Loc = tuple[str | int, ...]


class ApiError(Exception):
    """An HTTP error answered as ``{"detail": detail}``.

    ``detail`` is a string, or (since API 2.31.0, on plugin-backed paths) an
    object with an ``error`` key, e.g. ``{"error": "app_not_installed", ...}``.
    """

    def __init__(
        self,
        status_code: int,
        detail: str | dict[str, typing.Any],
        headers: abc.Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail if isinstance(detail, str) else detail.get('error'))
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers or {})


class RequestValidationError(Exception):
    """A 422 with FastAPI's list of ``{type, loc, msg, input, ctx?}`` errors."""

    def __init__(self, errors: list[dict[str, typing.Any]]) -> None:
        super().__init__(f'{len(errors)} validation error(s)')
        self.errors = errors


def _jsonable_default(value: object) -> object:
    # FastAPI's jsonable_encoder renders an exception in ctx (a validator's
    # ValueError) as {} and anything else it does not know as text.
    if isinstance(value, BaseException):
        return {}
    return str(value)


def _jsonable(value: object) -> object:
    return json.loads(json.dumps(value, default=_jsonable_default))


def from_pydantic(
    error: pydantic.ValidationError, prefix: Loc
) -> RequestValidationError:
    """Turn a pydantic error into FastAPI's 422 list, locations under ``prefix``."""
    items = []
    for item in error.errors(include_url=False):
        entry: dict[str, typing.Any] = {
            'type': item['type'],
            'loc': [*prefix, *item['loc']],
            'msg': item['msg'],
            'input': _jsonable(item['input']),
        }
        if 'ctx' in item:
            entry['ctx'] = _jsonable(item['ctx'])
        items.append(entry)
    return RequestValidationError(items)


def missing(loc: Loc) -> dict[str, typing.Any]:
    """The error FastAPI reports for an absent required value."""
    return {'type': 'missing', 'loc': list(loc), 'msg': 'Field required', 'input': None}


def detail_response(
    status_code: int, detail: object, headers: abc.Mapping[str, str] | None = None
) -> responses.JSONResponse:
    """Answer ``{"detail": detail}`` with ``status_code``."""
    return responses.JSONResponse(
        {'detail': detail}, status_code=status_code, headers=headers
    )


async def handle_api_error(
    request: requests.Request, exc: Exception
) -> responses.Response:
    assert isinstance(exc, ApiError)
    return detail_response(exc.status_code, exc.detail, exc.headers)


async def handle_request_invalid(
    request: requests.Request, exc: Exception
) -> responses.Response:
    assert isinstance(exc, RequestValidationError)
    return detail_response(422, exc.errors)


async def handle_http_exception(
    request: requests.Request, exc: Exception
) -> responses.Response:
    # Starlette's own 404/405 (unknown route, wrong method), in FastAPI's body.
    assert isinstance(exc, exceptions.HTTPException)
    return detail_response(exc.status_code, exc.detail, exc.headers)


def internal_server_error() -> responses.Response:
    """The real server's answer to an unhandled exception: plain text."""
    return responses.PlainTextResponse('Internal Server Error', status_code=500)
