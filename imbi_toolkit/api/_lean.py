"""An `httpx.AsyncClient` that skips per-request work which changes nothing.

Every shortcut here produces exactly what httpx would, and is taken only
where that is known; anything else goes to httpx itself. The tests compare
the two over many inputs (`tests/api/test_lean.py`) and over real sockets
with both HTTP backends (`tests/api/test_transports.py`).

- Cookies: httpx hands every response to the standard library's cookie jar,
  which first builds a `urllib.request.Request` and an `email.message.Message`
  of all the headers (~27 µs), even though Imbi's API never sets a cookie.
  `LeanCookies` goes to the jar only when the response carries a cookie
  header, so the client keeps and sends cookies exactly as before.
- URLs: joining a path to the base URL costs httpx two parses (the path,
  then the whole URL again, ~50 µs). A path that is already in httpx's
  normal form (plain characters only, no dot segments, no query) is joined
  to the base URL's text and parsed once, through the public `httpx.URL`
  (~26 µs); the client keeps the last 512 such URLs by path, so a path
  used again costs a dict lookup.
- Requests: `build_request` for the helpers' requests (a path, an optional
  JSON body, nothing else per request) assembles the same headers, body and
  extensions directly, instead of merging and re-copying the client's
  headers twice and computing the defaults one by one (~35 µs to ~10 µs).
- Sending: without authentication, event hooks or redirects to follow,
  `send` calls httpx's single-request step directly, skipping the
  authentication flow and redirect loop that would do nothing (~7 µs), and
  a read response lets go of httpx's stream wrapper, which points back at
  it: without that reference cycle no garbage collection runs every ~30
  requests (~10-20 µs per request).

The sending and URL shortcuts use httpx names that are not public API. They
are switched on only for the httpx versions the test suite has covered
(`TESTED_HTTPX_VERSIONS`) and only when every one of these names exists;
otherwise, or with `IMBI_TOOLKIT_LEAN=0` in the environment, the client is
plain httpx (one DEBUG log line says why). The private names, all read or
called, never assigned:

- `httpx._client.ClientState` (`OPENED`, `CLOSED`): the client's state;
- `httpx.AsyncClient._state`, `._auth`, `._event_hooks`: read, to know
  whether the shortcut would skip anything;
- `httpx.AsyncClient._set_timeout`, `._send_single_request`,
  `._build_redirect_request`: the steps `send` runs for one request;
- `httpx.AsyncClient._merge_url`: overridden, as httpx's `build_request`
  calls it to join a URL to the base URL.

The same switch covers the default backend's transport: with the shortcuts
on, `Imbi` built without `transport` or `proxy` (and no proxy in the
environment) sends through `imbi_toolkit.api._network.AsyncioTransport`,
httpx's connection pool on plain asyncio sockets (public httpx and httpcore
APIs only); with them off (`IMBI_TOOLKIT_LEAN=0`, an untested httpx) the
client is plain httpx, transport included.

Whatever the mode, an error escaping `send` has the local variables of the
transport's frames (httpcore's, h11's, aiohttp's: some hold the request's
header bytes) cleared, so a traceback printed with its locals (Sentry,
`pytest -l`, IPython's verbose mode) cannot show the token.
"""

from __future__ import annotations

import functools
import json as jsonlib
import logging
import os
import string
import traceback
import typing
from collections import abc

import httpx

LOGGER = logging.getLogger(__name__)

# The httpx versions (prefixes of `httpx.__version__`) the tests have run
# against with the shortcuts on. A new httpx release is used plainly until
# the suite has passed with it and its version is added here.
TESTED_HTTPX_VERSIONS: tuple[str, ...] = ('0.28.',)

# `IMBI_TOOLKIT_LEAN=0` (or false/no/off) turns every shortcut off.
LEAN_VARIABLE = 'IMBI_TOOLKIT_LEAN'
_OFF = frozenset({'0', 'false', 'no', 'off'})

# Methods of httpx.AsyncClient the shortcuts call or override.
_PRIVATE_METHODS = (
    '_set_timeout',
    '_send_single_request',
    '_build_redirect_request',
    '_merge_url',
)
# Attributes of an httpx.AsyncClient instance the shortcuts read.
_PRIVATE_ATTRIBUTES = ('_state', '_auth', '_event_hooks')

# `http.cookiejar.CookieJar.extract_cookies` reads only Set-Cookie and
# Set-Cookie2; without them it stores nothing.
_COOKIE_HEADER = b'set-cookie'

# Characters httpx's URL parser keeps as they are in a path (a subset of
# its unreserved and path-safe sets; '%' starts an escape it keeps, or is
# escaped the same way whether the path is parsed once or twice).
_PATH_CHARACTERS = string.ascii_letters + string.digits + "-._~/!$&'()*+,;=:@%"
# Longer paths (rare) go to httpx, which has its own length limit.
_MAX_PATH = 2048
# How many joined URLs a client keeps (by path) before starting afresh.
_JOINED_URLS = 512

# Headers `httpx.Request` computes itself unless the client already has them.
_COMPUTED_HEADERS = frozenset(
    {b'host', b'content-length', b'content-type', b'transfer-encoding'}
)
_BODY_METHODS = frozenset({'POST', 'PUT', 'PATCH'})

# As `httpx._content.encode_json` encodes a body; one encoder for all
# (`json.dumps` with these options builds a new one per call).
_JSON = jsonlib.JSONEncoder(ensure_ascii=False, separators=(',', ':'), allow_nan=False)


@functools.cache
def _client_state() -> typing.Any:
    """httpx's `ClientState` enum, or None when it is not where it was."""
    try:
        from httpx._client import ClientState
    except ImportError:
        return None
    if not all(hasattr(ClientState, name) for name in ('OPENED', 'CLOSED')):
        return None
    return ClientState


@functools.cache
def _why_plain(version: str, setting: str) -> str | None:
    """Why the shortcuts stay off (None: they may be used); logged once."""
    reason = None
    if setting.strip().lower() in _OFF:
        reason = f'{LEAN_VARIABLE}={setting}'
    elif not version.startswith(TESTED_HTTPX_VERSIONS):
        reason = (
            f'httpx {version} is not among the versions tested with them '
            f'({", ".join(TESTED_HTTPX_VERSIONS)})'
        )
    elif _client_state() is None or not all(
        callable(getattr(httpx.AsyncClient, name, None)) for name in _PRIVATE_METHODS
    ):
        reason = f'httpx {version} lacks the internals they use'
    if reason is not None:
        LOGGER.debug('httpx shortcuts off, the client is plain httpx: %s', reason)
    return reason


def shortcuts_enabled() -> bool:
    """Tell whether new clients will take the shortcuts (see the module doc)."""
    return _why_plain(httpx.__version__, os.environ.get(LEAN_VARIABLE, '1')) is None


def _clear_locals(exc: BaseException) -> None:
    """Drop the locals of the finished frames of ``exc`` and its chain.

    Frames still running (the caller's) are left alone: `clear_frames`
    skips them.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        traceback.clear_frames(error.__traceback__)
        pending.extend((error.__cause__, error.__context__))


class LeanCookies(httpx.Cookies):
    """`httpx.Cookies` that skips the cookie jar for responses without cookies."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Store the response's cookies, if it sets any."""
        # One pass over the raw names (case-insensitive) is cheaper than
        # two `in` lookups, which encode the key and scan the list each.
        if any(
            name.lower().startswith(_COOKIE_HEADER) for name, _ in response.headers.raw
        ):
            super().extract_cookies(response)


def _normal_path(path: str) -> bool:
    """Whether httpx's parser would keep ``path`` exactly as it is."""
    if path.rstrip(_PATH_CHARACTERS) or len(path) > _MAX_PATH:
        return False
    if '.' in path:
        segments = path.split('/')
        return '.' not in segments and '..' not in segments
    return True


class LeanAsyncClient(httpx.AsyncClient):
    """`httpx.AsyncClient` with `LeanCookies` and shortcuts for plain requests.

    Everything else is httpx's; `client.cookies` reads and assigns as usual.
    The shortcuts are on when `shortcuts_enabled()` says so at construction
    (`lean` tells); otherwise the client behaves as `httpx.AsyncClient`.
    """

    # The base URL, its text when paths may be joined to it, and the URLs
    # joined so far (by path).
    _lean_base: tuple[httpx.URL, str | None, dict[str, httpx.URL]] | None = None

    def __init__(self, **kwargs: typing.Any) -> None:
        self._lean = shortcuts_enabled()
        cookies = kwargs.pop('cookies', None)
        super().__init__(**kwargs)
        if self._lean and not all(hasattr(self, name) for name in _PRIVATE_ATTRIBUTES):
            LOGGER.debug('httpx shortcuts off: the client lacks the attributes read')
            self._lean = False
        self.cookies = cookies

    @property
    def lean(self) -> bool:
        """Whether this client takes the shortcuts (see the module doc)."""
        return self._lean

    @property
    def cookies(self) -> httpx.Cookies:
        """Cookie values to include when sending requests."""
        return self._lean_cookies

    @cookies.setter
    def cookies(self, cookies: typing.Any) -> None:
        self._lean_cookies = (
            LeanCookies(cookies) if self._lean else httpx.Cookies(cookies)
        )

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: typing.Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: typing.Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        """Send a request, as `httpx.AsyncClient.send` does.

        Without authentication, event hooks or redirects to follow (the
        helpers' requests), the request goes straight to httpx's own
        single-request step, without the authentication flow and redirect
        loop around it, which would do nothing.

        httpx wraps each response's stream in an object that points back at
        the response (to time it): a reference cycle, which only the cyclic
        garbage collector frees, every ~30 requests. Once the body is read
        and the stream closed, nothing uses that stream again: it is swapped
        for the body itself, so the response is freed when no longer used.
        """
        try:
            if not self._lean:
                return await super().send(
                    request, stream=stream, auth=auth, follow_redirects=follow_redirects
                )
            response = await self._lean_send(request, stream, auth, follow_redirects)
        except BaseException as exc:
            _clear_locals(exc)
            raise
        if not stream:
            response.stream = httpx.ByteStream(response.content)
        return response

    async def _lean_send(
        self,
        request: httpx.Request,
        stream: bool,
        auth: typing.Any,
        follow_redirects: typing.Any,
    ) -> httpx.Response:
        if (
            stream
            or auth is not httpx.USE_CLIENT_DEFAULT
            or follow_redirects is not httpx.USE_CLIENT_DEFAULT
            or self.follow_redirects
            or self._auth is not None
            or request.url.userinfo  # httpx turns it into basic auth
            or self._event_hooks['request']
            or self._event_hooks['response']
            # httpx opens the client on its first request (and refuses a
            # closed one): it takes that path until the client is open.
            or self._state is not _client_state().OPENED
        ):
            return await super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        self._set_timeout(request)
        response = await self._send_single_request(request)
        response.history = []
        if response.has_redirect_location:  # not followed: say where to
            response.next_request = self._build_redirect_request(request, response)
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        return response

    def _merge_url(self, url: httpx.URL | str) -> httpx.URL:
        joined = self._join(url) if self._lean and isinstance(url, str) else None
        return joined if joined is not None else super()._merge_url(url)

    def _join(self, url: str) -> httpx.URL | None:
        """Join ``url`` ('/path') to the base URL with one parse, or None.

        httpx appends a relative URL's path to the base URL's (which it
        keeps ending with '/'); for a path in normal form and a base URL
        with a host, no query, fragment or credentials, the result is the
        URL parsed from the base URL's text followed by the path.
        """
        base = self.base_url
        cached = self._lean_base
        if cached is None or cached[0] is not base:
            text = str(base)
            plain = (
                base.scheme
                and base.host
                and not base.userinfo
                and '?' not in text
                and '#' not in text
                and base.raw_path.endswith(b'/')  # '' reads as '/'
            )
            if not text.endswith('/'):  # an empty path, which reads as '/'
                text += '/'
            cached = self._lean_base = (base, text if plain else None, {})
        joined = cached[2].get(url)
        if joined is not None:
            return joined
        prefix = cached[1]
        if prefix is None or url[:1] != '/' or url[1:2] == '/' or not _normal_path(url):
            return None
        joined = httpx.URL(prefix + url[1:])
        # `httpx.URL` is immutable: requests to the same path (a bulk run's
        # repeated endpoints, a lookup then a write) share one parse.
        if len(cached[2]) >= _JOINED_URLS:
            cached[2].clear()
        cached[2][url] = joined
        return joined

    def build_request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: typing.Any = None,
        data: typing.Any = None,
        files: typing.Any = None,
        json: typing.Any | None = None,
        params: typing.Any = None,
        headers: typing.Any = None,
        cookies: typing.Any = None,
        timeout: typing.Any = httpx.USE_CLIENT_DEFAULT,
        extensions: abc.Mapping[str, typing.Any] | None = None,
    ) -> httpx.Request:
        """Build a request, as `httpx.AsyncClient.build_request` does.

        A request with only a path and an optional JSON body (what the
        helpers send) is assembled directly: the same method, URL, headers
        in the same order, body and extensions as httpx builds.
        """
        try:
            return self._build_request(
                method,
                url,
                content=content,
                data=data,
                files=files,
                json=json,
                params=params,
                headers=headers,
                cookies=cookies,
                timeout=timeout,
                extensions=extensions,
            )
        except BaseException as exc:
            # As in `send`: an invalid URL or body fails deep in httpx, whose
            # frames (a half-built `httpx.URL` whose repr fails, say) are of
            # no use in a traceback printed with its locals.
            _clear_locals(exc)
            raise

    def _build_request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: typing.Any,
        data: typing.Any,
        files: typing.Any,
        json: typing.Any | None,
        params: typing.Any,
        headers: typing.Any,
        cookies: typing.Any,
        timeout: typing.Any,
        extensions: abc.Mapping[str, typing.Any] | None,
    ) -> httpx.Request:
        request = None
        if (
            self._lean
            and isinstance(url, str)
            and content is None
            and data is None
            and files is None
            and params is None
            and headers is None
            and cookies is None
            and timeout is httpx.USE_CLIENT_DEFAULT
        ):
            request = self._plain_request(method, url, json, extensions)
        if request is None:
            request = super().build_request(
                method,
                url,
                content=content,
                data=data,
                files=files,
                json=json,
                params=params,
                headers=headers,
                cookies=cookies,
                timeout=timeout,
                extensions=extensions,
            )
        return request

    def _plain_request(
        self,
        method: str,
        url: str,
        json: typing.Any | None,
        extensions: abc.Mapping[str, typing.Any] | None,
    ) -> httpx.Request | None:
        if self.params or self.cookies or (extensions and 'timeout' in extensions):
            return None
        client_headers = self.headers.raw
        if any(name.lower() in _COMPUTED_HEADERS for name, _ in client_headers):
            return None
        joined = self._join(url)
        if joined is None:
            return None
        method = method.upper()
        # The order httpx gives them: Host (and `Content-Length: 0` for an
        # empty POST, PUT or PATCH) first, then the client's, then the body's.
        raw = [(b'Host', joined.netloc), *client_headers]
        if json is not None:
            body = _JSON.encode(json).encode('utf-8')
            raw.append((b'Content-Length', str(len(body)).encode('ascii')))
            raw.append((b'Content-Type', b'application/json'))
        else:
            body = b''
            if method in _BODY_METHODS:
                raw.insert(1, (b'Content-Length', b'0'))
        request = httpx.Request(
            method,
            joined,
            headers=raw,
            stream=httpx.ByteStream(body),
            extensions={**(extensions or {}), 'timeout': self.timeout.as_dict()},
        )
        request.read()
        return request
