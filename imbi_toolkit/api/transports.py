"""An httpx transport that sends requests with aiohttp.

httpx's own transport (httpcore) spends ~450 µs of CPU per request on
loopback and slows down past ~10 requests in flight; aiohttp's C-accelerated
HTTP/1.1 client does the same work several times faster (see
`benchmarks/RESULTS.md`). `AiohttpTransport` keeps everything above the
transport as it is, so `Imbi` stays an `httpx.AsyncClient`: the same
request building, event hooks, cookies, redirects policy, retries and
logging. Only the bytes on the wire are handled by aiohttp.

It needs the optional extra: `pip install 'imbi-toolkit[aiohttp]'`. Choose
it with `Imbi(..., http_backend='aiohttp')` or
`IMBI_CLIENT_HTTP_BACKEND=aiohttp`.

Differences from httpx's default transport, all documented by aiohttp:

- HTTP/1.1 only (no HTTP/2), and no SOCKS proxies (`proxy=` on the client
  still works: httpx routes proxied requests through its own transport).
- httpx's *write* timeout has no aiohttp equivalent and is not enforced;
  the connect, read and pool timeouts are.

aiohttp's errors are raised as the httpx exceptions httpx's own transport
raises in the same situation (`httpx.ConnectError` when the connection is
refused, `httpx.ReadTimeout`, `httpx.RemoteProtocolError`...), so code
catching `httpx.RequestError` and the retry rules keep working.
"""

from __future__ import annotations

import ssl
import typing
from collections import abc

import httpx

try:
    import aiohttp
    import yarl
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "the 'aiohttp' HTTP backend needs aiohttp: pip install 'imbi-toolkit[aiohttp]'"
    ) from exc

__all__ = ['AiohttpTransport']

# aiohttp adds these when a request lacks them; httpx already decided which
# ones to send, so it must not add any (an octet-stream Content-Type, say).
_SKIP_AUTO_HEADERS = ('Accept', 'Accept-Encoding', 'Content-Type', 'User-Agent')

# Most specific first: the first match wins. Each maps to what httpcore
# raises in the same situation, which also decides whether the retry rules
# treat the request as never sent (ConnectError, ConnectTimeout).
_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientProxyConnectionError, httpx.ProxyError),
    (aiohttp.ClientHttpProxyError, httpx.ProxyError),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ClientOSError, httpx.ReadError),
    (aiohttp.ClientConnectionError, httpx.NetworkError),
    (aiohttp.ClientError, httpx.TransportError),
    (TimeoutError, httpx.ReadTimeout),
)


def _to_httpx_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    httpx_type = next(
        (mapped for caught, mapped in _ERRORS if isinstance(exc, caught)),
        httpx.TransportError,
    )
    # aiohttp's text names the host and the reason, never the headers.
    message = str(exc) or type(exc).__name__
    return httpx_type(message, request=request)


class _ResponseStream(httpx.AsyncByteStream):
    """The body of an aiohttp response, read as it arrives."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request):
        self._response = response
        self._request = request

    async def __aiter__(self) -> abc.AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _to_httpx_error(exc, self._request) from exc

    async def aclose(self) -> None:
        # Hands the connection back to the pool when the body was read
        # completely, closes it otherwise.
        self._response.release()


class _Body(httpx.AsyncByteStream):
    """The body of an aiohttp response that was read whole on arrival."""

    def __init__(self, body: bytes, response: aiohttp.ClientResponse):
        self._body = body
        self._response = response

    def __aiter__(self) -> abc.AsyncIterator[bytes]:
        # An iterator rather than an async generator: the event loop tracks
        # every async generator it starts (a weak set, two hook calls).
        return _Once(self._body)

    async def aclose(self) -> None:
        self._response.release()


class _Once(abc.AsyncIterator[bytes]):
    """Yields ``body`` once, if it is not empty."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    async def __anext__(self) -> bytes:
        body, self._body = self._body, b''
        if not body:
            raise StopAsyncIteration
        return body


# Answers announcing at most this many bytes are read whole as soon as their
# headers are in (the body is usually in the same packets): one read instead
# of a chunk iterator, and the connection goes back to the pool at once.
# Larger and chunked answers stream as they arrive.
_READ_WHOLE_BYTES = 256 * 1024


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Send an `httpx.AsyncClient`'s requests with an `aiohttp.ClientSession`.

    The session (and its connection pool) is created on the first request,
    inside the running event loop, and closed by `aclose` (which the client
    calls when it is closed). Cookies, redirects and decompression stay
    httpx's job: aiohttp keeps no cookies, follows no redirect and passes
    the body through as it came.

    Args:
        verify: `True` to verify TLS certificates with httpx's default
            context (certifi), `False` to skip verification, or an
            `ssl.SSLContext` to use as is.
        limits: The pool size: `max_connections` (None: no limit) and
            `keepalive_expiry` of httpx's `Limits`.
        trust_env: Whether aiohttp may read proxy settings and `.netrc` from
            the environment; httpx already does that for the client, so it
            defaults to False.

    Examples:
        >>> transport = AiohttpTransport()
        >>> async with httpx.AsyncClient(transport=transport) as client:
        ...     response = await client.get('http://127.0.0.1:8000/')
    """

    def __init__(
        self,
        *,
        verify: bool | ssl.SSLContext = True,
        limits: httpx.Limits | None = None,
        trust_env: bool = False,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100)
        self._verify = verify
        self._limit = limits.max_connections or 0  # aiohttp: 0 means no limit
        self._keepalive_expiry = limits.keepalive_expiry
        self._trust_env = trust_env
        self._ssl: bool | ssl.SSLContext | None = None
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}
        self._closed = False

    def _ssl_option(self, request: httpx.Request) -> bool | ssl.SSLContext:
        # Building the default context costs ~16-22 ms: only for the first
        # https request (aiohttp ignores the option for http).
        if request.url.scheme != 'https':
            return True
        if self._ssl is None:
            if isinstance(self._verify, ssl.SSLContext):
                self._ssl = self._verify
            elif self._verify:
                self._ssl = httpx.create_ssl_context()
            else:
                self._ssl = False
        return self._ssl

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            if self._closed:
                raise RuntimeError('the transport was closed; create a new client')
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                keepalive_timeout=self._keepalive_expiry,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=_SKIP_AUTO_HEADERS,
                auto_decompress=False,
                trust_env=self._trust_env,
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return self._session

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        values = request.extensions.get('timeout') or {}
        key = (values.get('connect'), values.get('read'), values.get('pool'))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            # aiohttp's `connect` covers waiting for a pooled connection and
            # opening a new one; httpx times the two separately.
            whole = None if connect is None or pool is None else connect + pool
            timeout = aiohttp.ClientTimeout(
                total=None, connect=whole, sock_connect=connect, sock_read=read
            )
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return the response with its body unread."""
        session = self._get_session()
        headers = request.headers
        data: bytes | abc.AsyncIterator[bytes] | None
        if isinstance(request.stream, httpx.ByteStream):
            data = request.read() or None  # a redirect's copy is not read yet
        else:  # a streaming upload: aiohttp sends it chunked itself
            data = _iterate(request.stream)
            headers = headers.copy()
            headers.pop('transfer-encoding', None)
        try:
            response = await session.request(
                request.method,
                # httpx has already percent-encoded the URL: keep it as is.
                yarl.URL(str(request.url), encoded=True),
                headers=_text_headers(headers, request),
                data=data,
                allow_redirects=False,
                timeout=self._timeout(request),
                server_hostname=_sni_hostname(request),
                ssl=self._ssl_option(request),
            )
            length = response.content_length
            stream: httpx.AsyncByteStream
            if length is not None and length <= _READ_WHOLE_BYTES:
                stream = _Body(await response.read(), response)
            else:
                stream = _ResponseStream(response, request)
        except (TimeoutError, aiohttp.ClientError) as exc:
            # Plain try/except: a contextmanager costs ~1.5 us per request.
            raise _to_httpx_error(exc, request) from exc
        extensions: dict[str, typing.Any] = {'http_version': b'HTTP/1.1'}
        if response.reason:
            extensions['reason_phrase'] = response.reason.encode('ascii', 'replace')
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=stream,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        """Close the aiohttp session and its connections."""
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def _text_headers(
    headers: httpx.Headers, request: httpx.Request
) -> list[tuple[str, str]]:
    """The request's headers as text, for aiohttp, which sends them as UTF-8.

    Raises:
        httpx.LocalProtocolError: When a header is not UTF-8 (httpx's own
            transport sends such bytes as they are; aiohttp cannot).
    """
    raw = headers.raw
    try:
        return [(key.decode(), value.decode()) for key, value in raw]
    except UnicodeDecodeError:
        name = next(key for key, value in raw if not _is_utf8(key + value))
    raise httpx.LocalProtocolError(
        f'header {name.decode("latin-1")!r} is not UTF-8, which the aiohttp '
        "backend cannot send: encode it as UTF-8 or use http_backend='httpcore'",
        request=request,
    )


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


def _sni_hostname(request: httpx.Request) -> str | None:
    value = request.extensions.get('sni_hostname')
    return value.decode('ascii') if isinstance(value, bytes) else value


async def _iterate(stream: typing.Any) -> abc.AsyncIterator[bytes]:
    async for chunk in stream:
        yield chunk
