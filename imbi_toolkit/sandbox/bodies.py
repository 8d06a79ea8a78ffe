"""Request bodies and query parameters, checked the way FastAPI checks them."""

from __future__ import annotations

import email.message
import functools
import json
import typing

import pydantic
from starlette import requests

from imbi_toolkit.sandbox import errors

T = typing.TypeVar('T')
M = typing.TypeVar('M', bound=pydantic.BaseModel)


class _Missing:
    def __repr__(self) -> str:
        return 'MISSING'


MISSING: typing.Final = _Missing()


# Clients send few distinct content types; parsing one costs more than a PATCH's
# own JSON.
@functools.lru_cache(maxsize=64)
def _is_json(content_type: str | None) -> bool:
    # FastAPI >= 0.132 accepts application/json and application/*+json only;
    # a missing content type no longer counts as JSON.
    if not content_type:
        return False
    message = email.message.Message()
    message['content-type'] = content_type
    if message.get_content_maintype() != 'application':
        return False
    subtype = message.get_content_subtype()
    return subtype == 'json' or subtype.endswith('+json')


async def read(request: requests.Request) -> object:
    """Read the body: parsed JSON, raw text for a non-JSON type, or `MISSING`.

    Call it before authentication: like the real server, malformed JSON is
    a 422 even for an unauthenticated request.

    Raises:
        RequestValidationError: When a JSON body does not parse (`json_invalid`).
    """
    raw = await request.body()
    if not raw:
        return MISSING
    if not _is_json(request.headers.get('content-type')):
        return raw.decode('utf-8', errors='replace')
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        position = exc.pos if isinstance(exc, json.JSONDecodeError) else exc.start
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else exc.reason
        raise errors.RequestValidationError(
            [
                {
                    'type': 'json_invalid',
                    'loc': ['body', position],
                    'msg': 'JSON decode error',
                    'input': {},
                    'ctx': {'error': message},
                }
            ]
        ) from None


def model(body: object, model_type: type[M]) -> M:
    """Validate an object body against a pydantic model.

    Raises:
        RequestValidationError: With FastAPI's errors under `body`.
    """
    if body is MISSING:
        raise errors.RequestValidationError([errors.missing(('body',))])
    try:
        # FastAPI validates with from_attributes: a non-object body is a
        # `model_attributes_type` error, not pydantic's `model_type`.
        return model_type.model_validate(body, from_attributes=True)
    except pydantic.ValidationError as exc:
        raise errors.from_pydantic(exc, ('body',)) from None


def adapter(body: object, type_adapter: pydantic.TypeAdapter[T]) -> T:
    """Validate a body against any type (e.g. a list of patch operations)."""
    if body is MISSING:
        raise errors.RequestValidationError([errors.missing(('body',))])
    try:
        return type_adapter.validate_python(body, from_attributes=True)
    except pydantic.ValidationError as exc:
        raise errors.from_pydantic(exc, ('body',)) from None


_BOOL = pydantic.TypeAdapter(bool)


def query_bool(request: requests.Request, name: str, default: bool) -> bool:
    """Parse a boolean query parameter like FastAPI (`true`, `1`, `yes`, ...)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return _BOOL.validate_python(raw)
    except pydantic.ValidationError as exc:
        raise errors.from_pydantic(exc, ('query', name)) from None


def required_queries(request: requests.Request, *names: str) -> list[str]:
    """Return required query parameters, or raise one 422 naming every missing one."""
    values = [request.query_params.get(name) for name in names]
    problems = [
        errors.missing(('query', name))
        for name, value in zip(names, values, strict=True)
        if value is None
    ]
    if problems:
        raise errors.RequestValidationError(problems)
    return [value for value in values if value is not None]
