"""Fault injection: make chosen requests fail, over real sockets.

A rule matches requests by method and path (an ``fnmatch`` glob such as
``/organizations/*/projects/*/releases/``) and does one thing to them:

- ``status``: answer with ``status`` (default 503), optional ``headers``
  (e.g. ``{"Retry-After": "5"}``) and a body: ``body`` as JSON, ``text``
  as-is with ``content_type``, or ``{"detail": <reason phrase>}``;
- ``drop``: close the connection without answering;
- ``drop_after``: handle the request (a write happens), then close the
  connection without sending the answer: the client never learns;
- ``truncate``: send the headers and part of the body, then close;
- ``redirect``: answer 307 with ``Location: location`` (another host);
- ``delay``: wait ``delay_ms``, then answer normally (a slow response).

``delay_ms`` also delays the other actions. ``skip`` lets the first N
matching requests through; ``times`` limits how often the rule fires (unset:
always). Rules are added with ``POST /_sandbox/faults`` or ``--fault``;
routes under ``/_sandbox/`` are never faulted or delayed.
"""

from __future__ import annotations

import asyncio
import fnmatch
import http
import itertools
import json
import re
import time
import typing
from collections import abc

import pydantic

from imbi_toolkit.sandbox import _latency as latency

Scope = abc.MutableMapping[str, typing.Any]
Message = abc.MutableMapping[str, typing.Any]
Receive = abc.Callable[[], abc.Awaitable[Message]]
Send = abc.Callable[[Message], abc.Awaitable[None]]
ASGIApp = abc.Callable[[Scope, Receive, Send], abc.Awaitable[None]]

ADMIN_PREFIX = '/_sandbox/'

# Headers the rule's own answer sets: a second, different one would make
# the HTTP message itself invalid.
_FRAMING_HEADERS = frozenset({'content-length', 'transfer-encoding'})


def _header_name(name: str) -> str:
    if not re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", name):
        raise ValueError(f'{name!r} is not an HTTP header name')
    if name.lower() in _FRAMING_HEADERS:
        raise ValueError(f'{name} is set by the sandbox; leave it out')
    return name


def _header_value(value: str) -> str:
    # What HTTP/1.1 can send: visible Latin-1, spaces and tabs, no line breaks.
    if not re.fullmatch(r'[\t\x20-\x7e\x80-\xff]*', value):
        raise ValueError(
            f'{value!r} cannot be sent in an HTTP header: use printable '
            'Latin-1 characters without line breaks'
        )
    return value


_HeaderName = typing.Annotated[str, pydantic.AfterValidator(_header_name)]
_HeaderValue = typing.Annotated[str, pydantic.AfterValidator(_header_value)]


class FaultRule(pydantic.BaseModel):
    """One fault rule; see the module documentation for the fields."""

    model_config = pydantic.ConfigDict(extra='forbid')

    id: int = 0
    method: str = '*'
    path: str = '*'
    action: typing.Literal[
        'status', 'drop', 'drop_after', 'truncate', 'redirect', 'delay'
    ] = 'status'
    # A 1xx is not a final answer: the client would wait for another.
    status: int = pydantic.Field(503, ge=200, le=599)
    headers: dict[_HeaderName, _HeaderValue] = {}
    body: typing.Any = None
    text: str | None = None
    content_type: _HeaderValue = 'text/html; charset=utf-8'
    location: _HeaderValue = 'http://elsewhere.invalid/'
    delay_ms: int = pydantic.Field(0, ge=0, le=600_000)
    skip: int = pydantic.Field(0, ge=0)
    times: int | None = pydantic.Field(None, ge=1)
    matched: int = 0
    fired: int = 0

    @pydantic.field_validator('body', 'text')
    @classmethod
    def _sendable(cls, value: typing.Any) -> typing.Any:
        # Checked here too for `--fault` rules, which do not come through
        # a request body.
        try:
            json.dumps(value, allow_nan=False, ensure_ascii=False).encode()
        except (ValueError, TypeError) as exc:
            raise ValueError(
                'must be JSON without NaN, Infinity or lone surrogates'
            ) from exc
        return value

    def matches(self, method: str, path: str) -> bool:
        return (
            self.method == '*' or self.method.upper() == method
        ) and fnmatch.fnmatchcase(path, self.path)


class FaultRules:
    """The active rules of one sandbox, first match wins."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        # Set by the server: closes the connection a request arrived on.
        self.abort_connection: abc.Callable[[Scope], bool] | None = None

    def add(self, rule: FaultRule) -> FaultRule:
        stored = rule.model_copy(
            update={'id': next(self._ids), 'matched': 0, 'fired': 0}
        )
        self._rules.append(stored)
        return stored

    def remove(self, rule_id: int) -> bool:
        before = len(self._rules)
        self._rules = [rule for rule in self._rules if rule.id != rule_id]
        return len(self._rules) != before

    def clear(self) -> None:
        self._rules.clear()

    def __iter__(self) -> abc.Iterator[FaultRule]:
        return iter(list(self._rules))

    def pick(self, method: str, path: str) -> FaultRule | None:
        """Return the rule to apply to this request, counting the match."""
        for rule in self._rules:
            if not rule.matches(method, path):
                continue
            rule.matched += 1
            if rule.matched <= rule.skip:
                return None
            if rule.times is not None and rule.fired >= rule.times:
                continue
            rule.fired += 1
            return rule
        return None


async def _discard(message: Message) -> None:
    """An ASGI `send` that loses the answer (for ``drop_after``)."""


async def _respond(
    send: Send, status: int, headers: dict[str, str], body: bytes
) -> None:
    raw_headers = [
        (k.lower().encode('latin-1'), v.encode('latin-1')) for k, v in headers.items()
    ]
    if status in (204, 304):
        # These answers have no body: bytes sent anyway would be read as the
        # start of the next answer on the connection.
        body = b''
    else:
        raw_headers.append((b'content-length', str(len(body)).encode()))
    await send(
        {'type': 'http.response.start', 'status': status, 'headers': raw_headers}
    )
    await send({'type': 'http.response.body', 'body': body})


def _status_body(rule: FaultRule) -> tuple[dict[str, str], bytes]:
    headers = dict(rule.headers)
    if rule.text is not None:
        headers.setdefault('content-type', rule.content_type)
        return headers, rule.text.encode()
    body = rule.body
    if body is None:
        try:
            body = {'detail': http.HTTPStatus(rule.status).phrase}
        except ValueError:
            body = {'detail': 'Error'}
    headers.setdefault('content-type', 'application/json')
    return headers, json.dumps(body).encode()


class FaultMiddleware:
    """ASGI middleware applying latency and fault rules before routing.

    Args:
        app: The application to protect.
        rules: The fault rules to apply.
        latency_ms: Delay added to the answer of every request outside
            `/_sandbox/` (and before a dropped connection closes).
        response_time_ms: The answer of every request outside `/_sandbox/`
            leaves no sooner than this long after the request arrived.
        admin_prefix: Where the never-faulted sandbox controls live.

    The latency is the way back: a request is handled when it arrives and
    its answer leaves ``latency_ms`` later, as over a network. Waiting before
    handling instead would make the requests whose timers fire in the same
    tick of the event loop queue behind each other's handling, since the
    sandbox handles one request at a time: a queue no network delay creates,
    which would be charged to the client in `benchmarks/bench_bulk.py`.

    A response time counts from the request's arrival, so the sandbox's own
    handling (a millisecond of Python, more while it waits for its event
    loop) is part of it rather than added to it: a server that answers in
    ``response_time_ms``, which is what a benchmark's ideal time
    (requests x response time / concurrency) assumes.
    """

    def __init__(
        self,
        app: ASGIApp,
        rules: FaultRules,
        latency_ms: int = 0,
        response_time_ms: int = 0,
        admin_prefix: str = ADMIN_PREFIX,
    ) -> None:
        self.app = app
        self.rules = rules
        self.latency = latency_ms / 1000
        self.response_time = response_time_ms / 1000
        self._delays = latency.DelayLine()
        self.admin_prefix = admin_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http' or scope['path'].startswith(self.admin_prefix):
            await self.app(scope, receive, send)
            return
        if self.latency or self.response_time:
            send = self._answer_later(send)
        rule = self.rules.pick(scope['method'], scope['path'])
        if rule is None:
            await self.app(scope, receive, send)
            return
        if rule.delay_ms:
            await asyncio.sleep(rule.delay_ms / 1000)
        if rule.action == 'delay':
            await self.app(scope, receive, send)
        elif rule.action == 'status':
            headers, body = _status_body(rule)
            await _respond(send, rule.status, headers, body)
        elif rule.action == 'redirect':
            headers = {**rule.headers, 'location': rule.location}
            await _respond(send, 307, headers, b'')
        elif rule.action == 'truncate':
            await self._truncate(scope, send)
        elif rule.action == 'drop_after':
            await self.app(scope, receive, _discard)
            await self._drop(scope, late=True)
        else:
            await self._drop(scope, late=True)

    def _answer_later(self, send: Send) -> Send:
        """Wrap ``send``: the answer starts ``latency`` after it is ready,
        and not before ``response_time`` from now (the request's arrival)."""
        latency = self.latency
        due = time.monotonic() + self.response_time
        waited = False

        async def send_later(message: Message) -> None:
            nonlocal waited
            if not waited:
                waited = True
                delay = max(latency, due - time.monotonic())
                if delay > 0:
                    await self._delays.sleep(delay)
            await send(message)

        return send_later

    async def _drop(self, scope: Scope, *, late: bool = False) -> None:
        if late and self.latency:  # the close reaches the client late too
            await self._delays.sleep(self.latency)
        if self.rules.abort_connection is None or not self.rules.abort_connection(
            scope
        ):
            raise RuntimeError('cannot drop the connection outside the sandbox server')
        # Let the server see the connection go before the app returns, so it
        # neither answers nor logs a missing response.
        for _ in range(3):
            await asyncio.sleep(0)

    async def _truncate(self, scope: Scope, send: Send) -> None:
        body = b'{"detail": "this body is cut short'
        await send(
            {
                'type': 'http.response.start',
                'status': 200,
                'headers': [
                    (b'content-type', b'application/json'),
                    (b'content-length', str(len(body) * 4).encode()),
                ],
            }
        )
        await send({'type': 'http.response.body', 'body': body, 'more_body': True})
        await self._drop(scope)
