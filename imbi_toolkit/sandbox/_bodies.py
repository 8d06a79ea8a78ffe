"""Request bodies and query parameters, checked the way FastAPI checks them."""

from __future__ import annotations

import dataclasses
import email.message
import functools
import json
import math
import re
import sys
import typing

import pydantic
from starlette import requests

from imbi_toolkit.sandbox import _errors as errors

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
    a 422 even for an unauthenticated request, and a body the JSON parser
    gives up on (an integer over Python's 4300 digits, deep nesting) a 400.
    A body that parses but holds values no JSON answer can carry (`NaN`,
    `Infinity`, lone surrogates) comes back as a marker that `model` and
    `adapter` turn into a 422 after authentication, where the real server
    validates bodies.

    Raises:
        RequestValidationError: When a JSON body does not parse (`json_invalid`).
        ApiError: 400 when the parser gives up on the body.
    """
    raw = await request.body()
    if not raw:
        return MISSING
    if not _is_json(request.headers.get('content-type')):
        return raw.decode('utf-8', errors='replace')
    return parse_json(raw)


class _NotFiniteError(Exception):
    """A number JSON cannot carry: `NaN`, `Infinity` or one overflowing a float."""


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NotFiniteError
    return value


def _refuse_constant(text: str) -> float:
    raise _NotFiniteError


# The standard decoder, with number hooks that notice what JSON cannot carry
# as it parses (a separate walk of every body would cost more).
_DECODER = json.JSONDecoder(parse_float=_finite_float, parse_constant=_refuse_constant)

MAX_DEPTH = 128
"""How deeply a request body may nest arrays and objects.

Far beyond any real Imbi body, and far below the depth at which encoding the
stored value into an answer would exceed Python's recursion limit.
"""

_SURROGATE = re.compile('[\ud800-\udfff]')


def _parse_error(reason: str) -> errors.ApiError:
    # FastAPI answers a parser failure other than a syntax error (its
    # `except Exception` around `request.json()`) with this 400; the reason
    # is the sandbox's addition.
    return errors.ApiError(400, f'There was an error parsing the body: {reason}')


def parse_json(raw: bytes) -> object:
    """Parse a JSON request body the way `read` does.

    Returns:
        The parsed value, or an `Unservable` marker for a value holding
        numbers or strings that no JSON answer can carry.

    Raises:
        RequestValidationError: `json_invalid` for malformed JSON.
        ApiError: 400 for an integer over Python's digit limit or a body
            nested more than `MAX_DEPTH` levels.
    """
    try:
        # Like json.loads(bytes): UTF-8/16/32 by sniffing, lone surrogates
        # kept (and refused below).
        text = raw.decode(json.detect_encoding(raw), 'surrogatepass')
    except UnicodeDecodeError as exc:
        raise _json_invalid(exc.start, exc.reason) from None
    suspect = False
    try:
        value = _decode(text, _DECODER)
    except _NotFiniteError:
        # Parsed again without the hooks, to say where.
        value = _decode(text, _PLAIN_DECODER)
        suspect = True
    # Only a body with that many brackets can nest that deep.
    if text.count('[') + text.count('{') > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise _too_deep()
    # A lone surrogate comes from a backslash-u escape or from bytes that are
    # not UTF-8 (decoded with surrogatepass).
    if suspect or '\\u' in text or _SURROGATE.search(text) is not None:
        problems = _unservable_errors(value)
        if problems:
            return Unservable(problems)
    return value


_PLAIN_DECODER = json.JSONDecoder()


def _decode(text: str, decoder: json.JSONDecoder) -> object:
    try:
        return decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise _json_invalid(exc.pos, exc.msg) from None
    except RecursionError:
        raise _too_deep() from None
    except _NotFiniteError:
        raise
    except ValueError:
        # The decoder's only other ValueError: int() refusing a literal
        # longer than Python's limit.
        raise _parse_error(
            f'a number has more than {sys.get_int_max_str_digits()} digits; '
            'send it as a string'
        ) from None


def _json_invalid(position: int, message: str) -> errors.RequestValidationError:
    return errors.RequestValidationError(
        [
            {
                'type': 'json_invalid',
                'loc': ['body', position],
                'msg': 'JSON decode error',
                'input': {},
                'ctx': {'error': message},
            }
        ]
    )


def _too_deep() -> errors.ApiError:
    return _parse_error(f'it nests arrays or objects more than {MAX_DEPTH} levels deep')


@dataclasses.dataclass(frozen=True)
class Unservable:
    """A parsed body holding values no JSON answer can carry.

    Attributes:
        errors: FastAPI-style 422 errors, one per value, with JSON-safe
            `loc` and `input`.
    """

    errors: list[dict[str, typing.Any]]


def _safe_text(text: str) -> str:
    # Show a lone surrogate as its escape: the answer itself must be JSON.
    return text.encode('utf-8', 'backslashreplace').decode('utf-8')


def _float_text(value: float) -> str:
    if math.isnan(value):
        return 'NaN'
    return 'Infinity' if value > 0 else '-Infinity'


def _unservable_errors(value: object) -> list[dict[str, typing.Any]]:
    """Every non-finite number and string with a lone surrogate, in order."""
    problems: list[dict[str, typing.Any]] = []
    # Iterative: the body may be nested up to the parser's limit.
    pending: list[tuple[object, tuple[str | int, ...]]] = [(value, ('body',))]
    while pending:
        item, loc = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            problems.append(
                {
                    'type': 'finite_number',
                    'loc': [_safe_text(p) if isinstance(p, str) else p for p in loc],
                    'msg': 'Input should be a finite number',
                    'input': _float_text(item),
                }
            )
        elif isinstance(item, str) and _SURROGATE.search(item):
            problems.append(_surrogate_error(loc, item))
        elif isinstance(item, dict):
            children: list[tuple[object, tuple[str | int, ...]]] = []
            for key, child in item.items():
                if _SURROGATE.search(key):
                    children.append((_KeyProblem(key), (*loc, key, '[key]')))
                children.append((child, (*loc, key)))
            pending.extend(reversed(children))
        elif isinstance(item, list):
            pending.extend(
                (child, (*loc, index))
                for index, child in reversed(list(enumerate(item)))
            )
        elif isinstance(item, _KeyProblem):
            problems.append(_surrogate_error(loc, item.key))
    return problems


@dataclasses.dataclass(frozen=True)
class _KeyProblem:
    key: str


def _surrogate_error(loc: tuple[str | int, ...], text: str) -> dict[str, typing.Any]:
    return {
        'type': 'string_unicode',
        'loc': [_safe_text(p) if isinstance(p, str) else p for p in loc],
        'msg': 'Input should be a valid string, unable to parse raw data as a '
        'unicode string (it holds a lone UTF-16 surrogate)',
        'input': _safe_text(text),
    }


def _depth(value: object) -> int:
    """How deeply ``value`` nests arrays and objects (a scalar is 0)."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            depth += 1
            deepest = max(deepest, depth)
            pending.extend((child, depth) for child in item)
    return deepest


def _check_servable(body: object) -> None:
    if body is MISSING:
        raise errors.RequestValidationError([errors.missing(('body',))])
    if isinstance(body, Unservable):
        # Refused before any write: a stored NaN or lone surrogate would make
        # every later answer showing it fail.
        raise errors.RequestValidationError(body.errors)


def model(body: object, model_type: type[M]) -> M:
    """Validate an object body against a pydantic model.

    Raises:
        RequestValidationError: With FastAPI's errors under `body`.
    """
    _check_servable(body)
    try:
        # FastAPI validates with from_attributes: a non-object body is a
        # `model_attributes_type` error, not pydantic's `model_type`.
        return model_type.model_validate(body, from_attributes=True)
    except pydantic.ValidationError as exc:
        raise errors.from_pydantic(exc, ('body',)) from None


def adapter(body: object, type_adapter: pydantic.TypeAdapter[T]) -> T:
    """Validate a body against any type (e.g. a list of patch operations)."""
    _check_servable(body)
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
