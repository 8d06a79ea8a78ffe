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
- URLs: joining a path to the base URL costs httpx two parses of the whole
  URL (~38 µs: every character is checked). A path that is already in
  httpx's normal form (only characters its parser keeps as they are, no dot
  segments, no query) is appended to the parsed base URL without a parse.
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
"""

from __future__ import annotations

import json as jsonlib
import typing
from collections import abc

import httpx
from httpx import _urlparse  # the parser's own character sets, to match it
from httpx._client import ClientState as _ClientState

# `http.cookiejar.CookieJar.extract_cookies` reads only Set-Cookie and
# Set-Cookie2; without them it stores nothing.
_COOKIE_HEADER = b'set-cookie'

# What httpx's URL parser leaves unchanged in a path: anything else (a
# space, non-ASCII, `?`, `#`...) it would encode or split off.
_PATH_CHARACTERS = _urlparse.UNRESERVED_CHARACTERS + _urlparse.PATH_SAFE

# Headers `httpx.Request` computes itself unless the client already has them.
_COMPUTED_HEADERS = frozenset(
    {b'host', b'content-length', b'content-type', b'transfer-encoding'}
)
_BODY_METHODS = frozenset({'POST', 'PUT', 'PATCH'})

# As `httpx._content.encode_json` encodes a body; one encoder for all
# (`json.dumps` with these options builds a new one per call).
_JSON = jsonlib.JSONEncoder(ensure_ascii=False, separators=(',', ':'), allow_nan=False)


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
    if path.rstrip(_PATH_CHARACTERS) or len(path) > _urlparse.MAX_URL_LENGTH // 2:
        return False
    if '.' in path:
        segments = path.split('/')
        return '.' not in segments and '..' not in segments
    return True


class LeanAsyncClient(httpx.AsyncClient):
    """`httpx.AsyncClient` with `LeanCookies` and shortcuts for plain requests.

    Everything else is httpx's; `client.cookies` reads and assigns as usual.
    """

    _lean_base: tuple[httpx.URL, typing.Any] | None = None

    def __init__(self, **kwargs: typing.Any) -> None:
        cookies = kwargs.pop('cookies', None)
        super().__init__(**kwargs)
        self.cookies = cookies

    @property
    def cookies(self) -> httpx.Cookies:
        """Cookie values to include when sending requests."""
        return self._lean_cookies

    @cookies.setter
    def cookies(self, cookies: typing.Any) -> None:
        self._lean_cookies = LeanCookies(cookies)

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
        if (
            stream
            or auth is not httpx.USE_CLIENT_DEFAULT
            or follow_redirects is not httpx.USE_CLIENT_DEFAULT
            or self.follow_redirects
            or self._auth is not None
            or request.url.userinfo  # httpx turns it into basic auth
            or self._event_hooks['request']
            or self._event_hooks['response']
            or self._state is _ClientState.CLOSED  # httpx raises
        ):
            response = await super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        else:
            self._state = _ClientState.OPENED
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
        if not stream:
            response.stream = httpx.ByteStream(response.content)
        return response

    def _merge_url(self, url: httpx.URL | str) -> httpx.URL:
        joined = self._join(url) if isinstance(url, str) else None
        return joined if joined is not None else super()._merge_url(url)

    def _join(self, url: str) -> httpx.URL | None:
        """Append ``url`` ('/path') to the base URL without parsing, or None.

        httpx appends a relative URL's path to the base URL's (which it
        keeps ending with '/'); for a path in normal form and a base URL
        with a host, no query, fragment or credentials, the result is the
        base's parsed form with the longer path.
        """
        if url[:1] != '/' or url[1:2] == '/':
            return None
        base = self.base_url
        cached = self._lean_base
        if cached is None or cached[0] is not base:
            whole = base._uri_reference
            plain = (
                whole.scheme
                and whole.host
                and not whole.userinfo
                and whole.query is None
                and whole.fragment is None
                and base.raw_path.endswith(b'/')  # '' reads as '/'
            )
            cached = self._lean_base = (base, whole if plain else None)
        parsed = cached[1]
        if parsed is None:
            return None
        path = (parsed.path or '/') + url[1:]
        if not _normal_path(path):
            return None
        joined = httpx.URL(base)  # shares the parse; no work
        joined._uri_reference = parsed._replace(path=path)
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
        request = None
        if (
            isinstance(url, str)
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
