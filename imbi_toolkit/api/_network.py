"""The default backend's transport: httpcore's pool on plain asyncio sockets.

httpx's own transport runs httpcore's connection pool and h11 over anyio
(`httpcore.AnyIOBackend`). Per request, anyio costs more client CPU than
anything else in the transport: every read and write of the socket runs in
an `anyio.fail_after` cancel scope plus a checkpoint, and before every
request the pool asks each idle connection whether the server closed it
(`get_extra_info('is_readable')`), which builds anyio's dict of socket
attributes and calls `select()`.

`AsyncioBackend` is an `httpcore.AsyncNetworkBackend` (httpcore's public
interface for this) written on an `asyncio.Protocol`: the event loop hands
each chunk of data to the protocol as it arrives, a read waits on one future
(its timeout is one `loop.call_later`), a write is `transport.write`, which
waits only when the kernel's buffer is full, and a connection is readable
when data or the end of the stream is already buffered (or, between two
turns of the event loop, when `poll()` says so). `AsyncioTransport` is
httpx's `AsyncHTTPTransport` rebuilt on public APIs only: the same
`httpcore.AsyncConnectionPool` with the same settings (TLS context from
`httpx.create_ssl_context`, limits, HTTP/1.1 and HTTP/2, connect retries),
given this backend, and the same mapping of httpcore's exceptions to httpx's.
For HTTP/1.1 alone (no HTTP/2) under asyncio, the connections are httpcore's
public `httpcore.AsyncHTTPConnection`, pooled by `_Http1Pool` instead: httpcore's
pool can give one idle connection to several requests at once, and all but one
then queue again (`ConnectionNotAvailable`). httpcore and h11 are unchanged:
the HTTP they speak is the same.

The exceptions are httpcore's for the same events as with anyio, so httpx
raises the same types (`httpx.ConnectError` when the connection is refused,
`httpx.ReadTimeout`, `httpx.ReadError` on a reset, `httpx.RemoteProtocolError`
when the server closes before answering...) and the retry rules and the
`sent` of `ImbiTransportError` decide as before. Only the text differs where
anyio gave none or its own: the operating system's reason (`[Errno 104]
Connection reset by peer` rather than an empty message, `[Errno 111] Connect
call failed ('127.0.0.1', 8000)` rather than `All connection attempts
failed`).

`Imbi` uses this transport for the default `http_backend='httpcore'` when
it is given no `transport` and no `proxy`, no proxy is set in the
environment (httpx routes those itself, with its own transport), and the
httpx shortcuts are on (`imbi_toolkit.api._lean`): with `IMBI_TOOLKIT_LEAN=0`
or an httpx version the suite has not covered, the client is plain httpx,
transport included. Outside asyncio (trio), `httpcore.AnyIOBackend` makes
the connections.
"""

from __future__ import annotations

import asyncio
import collections
import select
import socket
import ssl
import typing
import urllib.request
from collections import abc

import httpcore
import httpx

__all__ = [
    'DEFAULT_LIMITS',
    'AsyncioBackend',
    'AsyncioTransport',
    'environment_proxies',
]

# httpx's default pool size (`httpx._config.DEFAULT_LIMITS`, not exported).
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)

# anyio's happy-eyeballs delay: the next address is tried after 250 ms.
_HAPPY_EYEBALLS_DELAY = 0.25

# Past this many bytes received and not yet read (a large body read slowly),
# the socket is no longer read until the reader catches up.
_READ_HIGH_WATER = 256 * 1024

_CLOSED = 'the connection is closed'


def environment_proxies() -> bool:
    """Tell whether the environment sets a proxy httpx would route through.

    The same test as httpx's own (`urllib.request.getproxies()`, its `http`,
    `https` and `all` entries); `NO_PROXY` alone routes nothing.
    """
    found = urllib.request.getproxies()
    return any(found.get(scheme) for scheme in ('http', 'https', 'all'))


class _Protocol(asyncio.Protocol):
    """Buffers what a connection receives, for `_Stream` to read."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.reading_paused = False
        # The end of the stream arrived, or the connection is gone (`error`
        # says why when it broke rather than closed).
        self.eof = False
        self.lost = False
        self.error: BaseException | None = None
        self.writing_paused = False
        self.tls = False
        # The futures a read and a write waiting to go on wait on.
        self.reader: asyncio.Future[bool] | None = None
        self.drained: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)
        # As anyio does: a write returns once its bytes are in the kernel's
        # buffer, so the write timeout covers a peer that stopped reading.
        self.transport.set_write_buffer_limits(0)

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _READ_HIGH_WATER and not self.reading_paused:
            self.reading_paused = True
            typing.cast(asyncio.Transport, self.transport).pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        # Keep a plain socket open for writing, as anyio does: httpcore
        # reads the end of the stream and closes the connection itself.
        # (asyncio's TLS transport ignores the answer and warns if True.)
        return not self.tls

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = True
        self.error = exc
        self._wake_reader()
        drained = self.drained
        if drained is not None and not drained.done():
            drained.set_result(None)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        drained = self.drained
        if drained is not None and not drained.done():
            drained.set_result(None)

    def _wake_reader(self) -> None:
        reader = self.reader
        if reader is not None and not reader.done():
            reader.set_result(True)


def _time_out(reader: asyncio.Future[bool]) -> None:
    if not reader.done():
        reader.set_result(False)


class _Stream(httpcore.AsyncNetworkStream):
    """One connection, as httpcore reads and writes it."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._closed = False
        self._poll: typing.Any = None

    async def read(
        self,
        max_bytes: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
    ) -> bytes:
        """Return up to ``max_bytes`` received bytes; b'' at the end of the stream.

        Raises:
            httpcore.ReadTimeout: When nothing arrived within ``timeout`` s.
            httpcore.ReadError: When the connection broke or was closed here.
        """
        protocol = self._protocol
        chunks = protocol.chunks
        if not chunks and not protocol.eof and not protocol.lost and not self._closed:
            loop = asyncio.get_running_loop()
            reader = protocol.reader = loop.create_future()
            timer = (
                None if timeout is None else loop.call_later(timeout, _time_out, reader)
            )
            try:
                arrived = await reader
            finally:
                protocol.reader = None
                if timer is not None:
                    timer.cancel()
            if not arrived and not chunks:
                raise httpcore.ReadTimeout(f'nothing received within {timeout} s')
        if chunks:
            chunk = chunks.popleft()
            if len(chunk) > max_bytes:
                chunks.appendleft(chunk[max_bytes:])
                chunk = chunk[:max_bytes]
            protocol.buffered -= len(chunk)
            if protocol.reading_paused and protocol.buffered <= _READ_HIGH_WATER:
                protocol.reading_paused = False
                self._transport.resume_reading()
            return chunk
        if self._closed:
            raise httpcore.ReadError(_CLOSED)
        if protocol.error is not None:
            raise httpcore.ReadError(_reason(protocol.error)) from protocol.error
        return b''

    async def write(
        self,
        buffer: bytes,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
    ) -> None:
        """Send ``buffer``; return once the kernel has taken all of it.

        Raises:
            httpcore.WriteTimeout: When the peer took too long to take it.
            httpcore.WriteError: When the connection broke or was closed here.
        """
        if not buffer:
            return
        protocol = self._protocol
        self._check_writable()
        self._transport.write(buffer)
        if not protocol.writing_paused:
            return
        drained = protocol.drained = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(timeout):
                await drained
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(f'not sent within {timeout} s') from exc
        finally:
            protocol.drained = None
        self._check_writable()

    def _check_writable(self) -> None:
        if self._closed:
            raise httpcore.WriteError(_CLOSED)
        error = self._protocol.error
        if error is not None:
            raise httpcore.WriteError(_reason(error)) from error

    async def aclose(self) -> None:
        """Close the connection (at once: unsent bytes are dropped under TLS)."""
        self._closed = True
        transport = self._transport
        transport.close()
        if self._protocol.tls:
            # asyncio would otherwise wait up to 30 s for the server's TLS
            # close_notify; anyio aborts too. Ours was sent by `close`.
            transport.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
    ) -> httpcore.AsyncNetworkStream:
        """Do the TLS handshake; the stream returned reads and writes through it.

        Raises:
            httpcore.ConnectTimeout: When the handshake took too long.
            httpcore.ConnectError: When it failed (the certificate, say).
        """
        loop = asyncio.get_running_loop()
        protocol = self._protocol
        protocol.tls = True
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport,
                    protocol,
                    ssl_context,
                    server_hostname=server_hostname,
                )
        except BaseException as exc:
            await self.aclose()
            if isinstance(exc, TimeoutError):
                raise httpcore.ConnectTimeout(f'no TLS within {timeout} s') from exc
            if isinstance(exc, OSError):  # ssl.SSLError included
                raise httpcore.ConnectError(_reason(exc)) from exc
            raise
        if transport is None:  # the connection was closed meanwhile
            await self.aclose()
            raise httpcore.ConnectError(_CLOSED)
        protocol.transport = transport
        transport.set_write_buffer_limits(0)
        return _Stream(transport, protocol)

    def get_extra_info(self, info: str) -> typing.Any:
        """What httpcore asks a stream: `is_readable`, `ssl_object`, addresses."""
        if info == 'is_readable':
            return self._readable()
        if info == 'ssl_object':
            return self._transport.get_extra_info('ssl_object')
        if info == 'client_addr':
            return self._transport.get_extra_info('sockname')
        if info == 'server_addr':
            return self._transport.get_extra_info('peername')
        if info == 'socket':
            return self._transport.get_extra_info('socket')
        return None

    def _readable(self) -> bool:
        """Whether a read would not wait: what httpcore asks of an idle connection.

        On an idle HTTP/1.1 connection that means the server closed it. The
        event loop has usually read that already (the buffered data or end);
        in the same turn of the loop it may have arrived in the kernel but
        not yet been read, which `poll()` (0.3 µs, no dict) tells.
        """
        protocol = self._protocol
        if protocol.chunks or protocol.eof or protocol.lost or self._closed:
            return True
        poll = self._poll
        if poll is None:
            sock = self._transport.get_extra_info('socket')
            if sock is None or sock.fileno() < 0:
                return True
            if not hasattr(select, 'poll'):  # Windows
                return bool(select.select([sock], [], [], 0)[0])
            poll = self._poll = select.poll()
            poll.register(sock.fileno(), select.POLLIN)
        return bool(poll.poll(0))


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _apply_options(
    transport: asyncio.BaseTransport,
    socket_options: abc.Iterable[httpcore.SOCKET_OPTION] | None,
    tcp: bool,
) -> None:
    sock = transport.get_extra_info('socket')
    if tcp:
        # asyncio sets it too; httpcore's anyio backend relies on that.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for option in socket_options or ():
        sock.setsockopt(*option)


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network operations on asyncio's transports and protocols.

    Under another event loop library (trio), `httpcore.AnyIOBackend`
    opens the connections instead.

    Examples:
        >>> pool = httpcore.AsyncConnectionPool(network_backend=AsyncioBackend())
    """

    def __init__(self) -> None:
        self._fallback: httpcore.AsyncNetworkBackend | None = None

    def _other(self) -> httpcore.AsyncNetworkBackend:
        if self._fallback is None:
            self._fallback = httpcore.AnyIOBackend()
        return self._fallback

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: abc.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Open a TCP connection to ``host``:``port``.

        Raises:
            httpcore.ConnectTimeout: When it took longer than ``timeout`` s.
            httpcore.ConnectError: When it failed (refused, unknown host...).
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return await self._other().connect_tcp(
                host, port, timeout, local_address, socket_options
            )
        options: dict[str, typing.Any] = {}
        if local_address is not None:
            options['local_addr'] = (local_address, 0)
        if isinstance(loop, asyncio.BaseEventLoop):  # uvloop has no such option
            options['happy_eyeballs_delay'] = _HAPPY_EYEBALLS_DELAY
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _Protocol, host, port, **options
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f'not connected within {timeout} s') from exc
        except OSError as exc:
            raise httpcore.ConnectError(_reason(exc)) from exc
        return self._stream(transport, protocol, socket_options, tcp=True)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: abc.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Open a connection to the Unix socket at ``path``.

        Raises:
            httpcore.ConnectTimeout: When it took longer than ``timeout`` s.
            httpcore.ConnectError: When it failed.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return await self._other().connect_unix_socket(
                path, timeout, socket_options
            )
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_unix_connection(_Protocol, path)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f'not connected within {timeout} s') from exc
        except OSError as exc:
            raise httpcore.ConnectError(_reason(exc)) from exc
        return self._stream(transport, protocol, socket_options, tcp=False)

    @staticmethod
    def _stream(
        transport: asyncio.Transport,
        protocol: _Protocol,
        socket_options: abc.Iterable[httpcore.SOCKET_OPTION] | None,
        tcp: bool,
    ) -> _Stream:
        try:
            _apply_options(transport, socket_options, tcp)
        except OSError as exc:
            transport.abort()
            raise httpcore.ConnectError(_reason(exc)) from exc
        return _Stream(transport, protocol)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (between connect retries)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            await self._other().sleep(seconds)
            return
        await asyncio.sleep(seconds)


# httpcore's exceptions and the httpx ones httpx's transport raises for them
# (`httpx._transports.default`), most specific first: the first match wins.
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


def _httpx_error(exc: Exception) -> httpx.TransportError | None:
    """The httpx exception for httpcore's ``exc`` (None: not one of them)."""
    for caught, mapped in _ERRORS:
        if isinstance(exc, caught):
            return mapped(str(exc))
    return None


class _ResponseStream(httpx.AsyncByteStream):
    """httpcore's response body, with its errors raised as httpx's."""

    def __init__(self, stream: abc.AsyncIterable[bytes]) -> None:
        self._stream = stream

    def __aiter__(self) -> abc.AsyncIterator[bytes]:
        return _Chunks(self._stream.__aiter__())

    async def aclose(self) -> None:
        close = getattr(self._stream, 'aclose', None)
        if close is not None:
            await close()


class _Chunks(abc.AsyncIterator[bytes]):
    # An iterator rather than an async generator: the event loop tracks
    # every async generator it starts (a weak set, two hook calls).
    def __init__(self, chunks: abc.AsyncIterator[bytes]) -> None:
        self._chunks = chunks

    async def __anext__(self) -> bytes:
        try:
            return await self._chunks.__anext__()
        except Exception as exc:
            mapped = _httpx_error(exc)
            if mapped is None:
                raise
            raise mapped from exc


# An origin as a dict key (`httpcore.Origin` is not hashable).
_Key = tuple[bytes, bytes, int]


def _key(origin: httpcore.Origin) -> _Key:
    return (origin.scheme, origin.host, origin.port)


class _Http1Pool:
    """A pool of HTTP/1.1 `httpcore.AsyncHTTPConnection`s (asyncio only).

    httpcore's `AsyncConnectionPool` assigns a waiting request the first
    idle connection, but the connection stays idle until that request has
    taken its locks, and they yield: in between, other requests are assigned
    the same connection, lose, and queue again (`ConnectionNotAvailable`).
    Here taking an idle connection is synchronous (popped from its origin's
    list, most recently used first), so one connection serves one request.
    A connection goes back to the list when its response is closed and it is
    idle again; one the server closed meanwhile is found `has_expired` (it
    is readable) when it would be taken, and closed.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        limits: httpx.Limits,
        retries: int,
        network_backend: httpcore.AsyncNetworkBackend,
    ) -> None:
        self._ssl_context = ssl_context
        self._max_connections = (
            limits.max_connections
            if limits.max_connections is not None
            else float('inf')
        )
        self._max_keepalive = (
            limits.max_keepalive_connections
            if limits.max_keepalive_connections is not None
            else float('inf')
        )
        self._keepalive_expiry = limits.keepalive_expiry
        self._retries = retries
        self._network_backend = network_backend
        # Idle connections per origin, the most recently used last.
        self._idle: dict[_Key, list[httpcore.AsyncHTTPConnection]] = {}
        self._idle_count = 0
        # Every connection open or opening, and its origin (each connection
        # holds one of the slots).
        self._connections: dict[httpcore.AsyncHTTPConnection, _Key] = {}
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def handle_async_request(
        self, request: httpcore.Request
    ) -> httpcore.Response:
        """Send ``request`` on a connection of its own; the body streams."""
        timeouts = request.extensions.get('timeout', {})
        timeout: float | None = timeouts.get('pool')
        origin = request.url.origin
        while True:
            connection = await self._connection_for(origin, timeout)
            try:
                response = await connection.handle_async_request(request)
            except httpcore.ConnectionNotAvailable:
                # Closed by the server between the check and the request.
                await self._release(connection)
                continue
            except BaseException:
                await self._release(connection)
                raise
            return httpcore.Response(
                status=response.status,
                headers=response.headers,
                content=_PooledStream(
                    typing.cast(abc.AsyncIterable[bytes], response.stream),
                    self,
                    connection,
                ),
                extensions=response.extensions,
            )

    async def _connection_for(
        self, origin: httpcore.Origin, pool_timeout: float | None
    ) -> httpcore.AsyncHTTPConnection:
        """An idle connection to ``origin``, or a new one when a slot is free."""
        loop = asyncio.get_running_loop()
        deadline = None if pool_timeout is None else loop.time() + pool_timeout
        while True:
            closing: list[httpcore.AsyncHTTPConnection] = []
            connection = self._take_idle(origin, closing)
            if connection is None and len(self._connections) >= self._max_connections:
                # All slots taken: free one held by another origin's idle
                # connection, as httpcore's pool does.
                for others in self._idle.values():
                    if others:
                        other = others.pop(0)
                        self._idle_count -= 1
                        del self._connections[other]
                        closing.append(other)
                        break
            if connection is None and len(self._connections) < self._max_connections:
                connection = httpcore.AsyncHTTPConnection(
                    origin=origin,
                    ssl_context=self._ssl_context,
                    keepalive_expiry=self._keepalive_expiry,
                    http1=True,
                    http2=False,
                    retries=self._retries,
                    network_backend=self._network_backend,
                )
                self._connections[connection] = _key(origin)
            if closing:
                self._wake()
                try:
                    await _close_all(closing)
                except BaseException:
                    if connection is not None:
                        await self._release(connection)
                    raise
            if connection is not None:
                return connection
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                if deadline is None:
                    await waiter
                else:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        raise httpcore.PoolTimeout()
                    try:
                        async with asyncio.timeout(remaining):
                            await waiter
                    except TimeoutError:
                        raise httpcore.PoolTimeout() from None
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def _take_idle(
        self,
        origin: httpcore.Origin,
        closing: list[httpcore.AsyncHTTPConnection],
    ) -> httpcore.AsyncHTTPConnection | None:
        """Pop ``origin``'s newest usable idle connection (no await)."""
        idle = self._idle.get(_key(origin))
        while idle:
            connection = idle.pop()
            self._idle_count -= 1
            if connection.has_expired() or not connection.is_idle():
                self._connections.pop(connection, None)
                closing.append(connection)
                continue
            return connection
        return None

    async def _release(self, connection: httpcore.AsyncHTTPConnection) -> None:
        """Take ``connection`` back after a response: keep or close it."""
        origin = self._connections.get(connection)
        if (
            origin is not None
            and connection.is_idle()
            and not connection.is_closed()
            and self._idle_count < self._max_keepalive
        ):
            self._idle.setdefault(origin, []).append(connection)
            self._idle_count += 1
            self._wake()
            return
        self._connections.pop(connection, None)
        self._wake()
        await connection.aclose()

    def _wake(self) -> None:
        # Every waiter looks again: rare (all slots taken) and cannot miss.
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def aclose(self) -> None:
        """Close every connection, idle or in use."""
        connections = list(self._connections)
        self._connections.clear()
        self._idle.clear()
        self._idle_count = 0
        self._wake()
        await _close_all(connections)


async def _close_all(connections: list[httpcore.AsyncHTTPConnection]) -> None:
    """Close ``connections``, each even when closing another failed."""
    for connection in connections:
        try:
            await connection.aclose()
        except Exception:  # noqa: S112 - closing: the socket is gone
            continue


class _PooledStream:
    """A response body that gives its connection back to the pool once closed."""

    def __init__(
        self,
        stream: abc.AsyncIterable[bytes],
        pool: _Http1Pool,
        connection: httpcore.AsyncHTTPConnection,
    ) -> None:
        self._stream = stream
        self._pool = pool
        self._connection: httpcore.AsyncHTTPConnection | None = connection

    def __aiter__(self) -> abc.AsyncIterator[bytes]:
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        try:
            close = getattr(self._stream, 'aclose', None)
            if close is not None:
                await close()
        finally:
            if connection is not None:
                await self._pool._release(connection)


class AsyncioTransport(httpx.AsyncBaseTransport):
    """httpx's `AsyncHTTPTransport` with httpcore's connections on `AsyncioBackend`.

    HTTP/1.1 connections are pooled by `_Http1Pool` (one idle connection is
    taken by one request, without yielding in between); with ``http2``, or
    outside asyncio, by `httpcore.AsyncConnectionPool`.

    Args:
        verify: TLS verification, as httpx takes it: `True` (certifi, or
            `SSL_CERT_FILE`/`SSL_CERT_DIR` with ``trust_env``), `False`, or
            an `ssl.SSLContext`.
        trust_env: Whether the TLS context may come from the environment.
        limits: The pool's size and keep-alive expiry (httpx's default).
        http1: Whether to speak HTTP/1.1.
        http2: Whether to offer HTTP/2 (needs the `h2` package).
        retries: How many times to retry a failed connect.

    Examples:
        >>> async with httpx.AsyncClient(transport=AsyncioTransport()) as client:
        ...     response = await client.get('http://127.0.0.1:8000/')
    """

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | bool = True,
        trust_env: bool = True,
        limits: httpx.Limits = DEFAULT_LIMITS,
        http1: bool = True,
        http2: bool = False,
        retries: int = 0,
    ) -> None:
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=trust_env)
        backend = AsyncioBackend()
        # HTTP/1.1 alone on asyncio: a pool that never gives one connection
        # to two requests (`_Http1Pool`); HTTP/2, or outside asyncio, httpcore's.
        self._http1_pool = (
            None
            if http2 or not http1
            else _Http1Pool(
                ssl_context=ssl_context,
                limits=limits,
                retries=retries,
                network_backend=backend,
            )
        )
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=http1,
            http2=http2,
            retries=retries,
            network_backend=backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the pool; the body is left to stream."""
        url = request.url
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme,
                host=url.raw_host,
                port=url.port,
                target=url.raw_path,
            ),
            headers=request.headers.raw,
            content=typing.cast(abc.AsyncIterable[bytes], request.stream),
            extensions=request.extensions,
        )
        # Plain try/except: a contextmanager costs ~1.5 us per request.
        pool: _Http1Pool | httpcore.AsyncConnectionPool = self._pool
        if self._http1_pool is not None and _in_asyncio():
            pool = self._http1_pool
        try:
            response = await pool.handle_async_request(core_request)
        except Exception as exc:
            mapped = _httpx_error(exc)
            if mapped is None:
                raise
            raise mapped from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(
                typing.cast(abc.AsyncIterable[bytes], response.stream)
            ),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close the pools and their connections."""
        try:
            if self._http1_pool is not None and _in_asyncio():
                await self._http1_pool.aclose()
        finally:
            await self._pool.aclose()


def _in_asyncio() -> bool:
    """Whether an asyncio event loop runs this task (not trio)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
