"""The default backend's network layer (`_network`), over real sockets.

Each edge case runs with httpx's own transport (httpcore on anyio) and with
`AsyncioTransport` (httpcore on plain asyncio): the caller must see the same
response or the same httpx exception, and whether the request may have been
sent (`errors.never_sent`) must read the same, since the retry rules and
`ImbiTransportError.sent` depend on it. The servers are plain sockets in
threads of their own, so a test may block the client's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import socketserver
import ssl
import struct
import threading
import time
import typing
from collections import abc

import httpcore
import httpx
import pytest
import trustme

from imbi_toolkit.api import Imbi, errors
from imbi_toolkit.api._network import DEFAULT_LIMITS, AsyncioBackend, AsyncioTransport

from ..fakes import CaptureServer

TOKEN = 'tok-net-9c2e41'
KINDS = ('anyio', 'asyncio')
Kind = typing.Literal['anyio', 'asyncio']
Handle = abc.Callable[[socket.socket], None]


def make_client(
    kind: Kind,
    *,
    verify: ssl.SSLContext | bool = True,
    limits: httpx.Limits = DEFAULT_LIMITS,
    **options: typing.Any,
) -> httpx.AsyncClient:
    """A plain httpx client on httpx's own transport or on ours."""
    transport: httpx.AsyncBaseTransport
    if kind == 'asyncio':
        transport = AsyncioTransport(verify=verify, limits=limits)
    else:
        transport = httpx.AsyncHTTPTransport(verify=verify, limits=limits)
    return httpx.AsyncClient(transport=transport, **options)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, handle: Handle) -> None:
        self.handle_connection = handle
        self.connections = 0
        super().__init__(('127.0.0.1', 0), _Handler)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server = typing.cast(_Server, self.server)
        server.connections += 1
        with contextlib.suppress(OSError):
            server.handle_connection(self.request)


@contextlib.contextmanager
def serve(handle: Handle) -> abc.Iterator[_Server]:
    """Run ``handle(sock)`` for every connection, in a thread of its own."""
    server = _Server(handle)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def url_of(server: _Server, scheme: str = 'http') -> str:
    return f'{scheme}://127.0.0.1:{server.server_address[1]}'


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """The request's head and what came after it; b'' heads at the end."""
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b'', b''
        data += chunk
    head, _, rest = data.partition(b'\r\n\r\n')
    return head, rest


def answer(sock: socket.socket, body: bytes = b'{}') -> None:
    sock.sendall(
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n'
        b'Content-Length: %d\r\n\r\n%s' % (len(body), body)
    )


def keep_alive(sock: socket.socket) -> None:
    """Answer every request on the connection until the client closes it."""
    while read_head(sock)[0]:
        answer(sock)


def answer_once_then_close(sock: socket.socket) -> None:
    """Answer one request as if keeping the connection, then close it."""
    if read_head(sock)[0]:
        answer(sock)
        time.sleep(0.05)


def never_answer(sock: socket.socket) -> None:
    read_head(sock)
    time.sleep(3)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


def test_errors_map_as_httpx_maps_them() -> None:
    from httpx._transports.default import map_httpcore_exceptions

    from imbi_toolkit.api._network import _httpx_error

    kinds = [
        value
        for value in vars(httpcore).values()
        if isinstance(value, type)
        and issubclass(value, Exception)
        and value.__module__.startswith('httpcore')
        and value is not httpcore.ConnectionNotAvailable
    ]
    assert len(kinds) >= 14
    for kind in kinds:
        with pytest.raises(Exception) as caught, map_httpcore_exceptions():
            raise kind('boom')
        ours = _httpx_error(kind('boom'))
        assert type(ours) is type(caught.value), kind
        assert str(ours) == str(caught.value) == 'boom'
    assert _httpx_error(ValueError('not httpcore')) is None


def test_default_limits_are_httpx_defaults() -> None:
    from httpx._config import DEFAULT_LIMITS as HTTPX_LIMITS

    assert DEFAULT_LIMITS == HTTPX_LIMITS


@pytest.mark.parametrize('kind', KINDS)
async def test_connections_are_kept_alive(kind: Kind) -> None:
    with serve(keep_alive) as server:
        async with make_client(kind, base_url=url_of(server)) as client:
            for _ in range(5):
                assert (await client.get('/')).json() == {}
    assert server.connections == 1


@pytest.mark.parametrize('kind', KINDS)
async def test_read_timeout(kind: Kind) -> None:
    with serve(never_answer) as server:
        timeout = httpx.Timeout(5.0, read=0.2)
        async with make_client(
            kind, base_url=url_of(server), timeout=timeout
        ) as client:
            started = time.monotonic()
            with pytest.raises(httpx.ReadTimeout) as caught:
                await client.get('/')
    assert 0.15 < time.monotonic() - started < 2
    assert not errors.never_sent(caught.value)


@pytest.mark.parametrize('kind', KINDS)
async def test_connection_refused(kind: Kind) -> None:
    url = f'http://127.0.0.1:{free_port()}/'
    async with make_client(kind) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get(url)
    assert errors.never_sent(caught.value)
    assert caught.value.request.url == httpx.URL(url)
    if kind == 'asyncio':  # the system's reason, not an empty text
        assert str(caught.value).startswith('[Errno 111] Connect call failed')


@pytest.mark.parametrize('kind', KINDS)
async def test_connect_timeout(kind: Kind) -> None:
    # A listening socket that never accepts, its backlog full: the kernel
    # drops further connection attempts, which then wait in vain.
    with socket.socket() as listener:
        listener.bind(('127.0.0.1', 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(('127.0.0.1', port))
            fillers.append(filler)
        try:
            timeout = httpx.Timeout(5.0, connect=0.3)
            async with make_client(kind, timeout=timeout) as client:
                with pytest.raises(httpx.ConnectTimeout) as caught:
                    await client.get(f'http://127.0.0.1:{port}/')
        finally:
            for filler in fillers:
                filler.close()
    assert errors.never_sent(caught.value)


@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('idle', ['awaiting', 'loop blocked'])
async def test_a_connection_the_server_closed_is_replaced(
    kind: Kind, idle: str
) -> None:
    # The pool asks an idle connection whether it is readable before reusing
    # it: closed by the server, it is dropped and a new one is opened, with
    # no error. 'loop blocked': the server's close reached the kernel while
    # the event loop was busy, so only the socket itself can tell.
    with serve(answer_once_then_close) as server:
        async with make_client(kind, base_url=url_of(server)) as client:
            for _ in range(3):
                assert (await client.get('/')).status_code == 200
                if idle == 'awaiting':
                    await asyncio.sleep(0.2)
                else:
                    time.sleep(0.2)  # noqa: ASYNC251 - on purpose
    assert server.connections == 3


def _reset_after_part_of_the_head(sock: socket.socket) -> None:
    read_head(sock)
    sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Len')
    time.sleep(0.05)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    sock.close()


def _reset_mid_body(sock: socket.socket) -> None:
    read_head(sock)
    sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a bit')
    time.sleep(0.05)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    sock.close()


def _close_mid_body(sock: socket.socket) -> None:
    read_head(sock)
    sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a bit')


def _close_without_answer(sock: socket.socket) -> None:
    read_head(sock)


@pytest.mark.parametrize(
    ('handle', 'expected'),
    [
        (_reset_after_part_of_the_head, httpx.ReadError),
        (_reset_mid_body, httpx.ReadError),
        (_close_mid_body, httpx.RemoteProtocolError),
        (_close_without_answer, httpx.RemoteProtocolError),
    ],
)
@pytest.mark.parametrize('kind', KINDS)
async def test_broken_connections(
    kind: Kind, handle: Handle, expected: type[httpx.TransportError]
) -> None:
    with serve(handle) as server:
        async with make_client(kind, base_url=url_of(server)) as client:
            with pytest.raises(httpx.TransportError) as caught:
                await client.get('/')
    assert type(caught.value) is expected
    # The server may have acted on it: never retried as unsent.
    assert not errors.never_sent(caught.value)


def _read_slowly_and_digest(sock: socket.socket) -> None:
    head, body = read_head(sock)
    length = int(head.lower().split(b'content-length: ')[1].split(b'\r\n')[0])
    digest = hashlib.sha256(body)
    received = len(body)
    while received < length:
        chunk = sock.recv(65536)
        if not chunk:
            return
        digest.update(chunk)
        received += len(chunk)
        time.sleep(0.0005)
    answer(sock, b'"%s"' % digest.hexdigest().encode())


@pytest.mark.parametrize('kind', KINDS)
async def test_a_large_upload_waits_for_the_server_to_read(kind: Kind) -> None:
    # 24 MiB is more than the kernel buffers on both ends hold: the writes
    # wait for the server to read, and every byte arrives in order.
    body = bytes(range(256)) * (24 * 4096)
    with serve(_read_slowly_and_digest) as server:
        async with make_client(kind, base_url=url_of(server), timeout=30) as client:
            response = await client.post('/', content=body)
    assert response.json() == hashlib.sha256(body).hexdigest()


def _never_read(sock: socket.socket) -> None:
    time.sleep(3)


@pytest.mark.parametrize('kind', KINDS)
async def test_write_timeout(kind: Kind) -> None:
    body = b'x' * (64 * 1024 * 1024)
    with serve(_never_read) as server:
        timeout = httpx.Timeout(5.0, write=0.3)
        async with make_client(
            kind, base_url=url_of(server), timeout=timeout
        ) as client:
            with pytest.raises(httpx.WriteTimeout) as caught:
                await client.post('/', content=body)
    assert not errors.never_sent(caught.value)


def _large_download(sock: socket.socket) -> None:
    read_head(sock)
    body = bytes(range(256)) * (16 * 4096)
    sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n' % len(body) + body)
    read_head(sock)


@pytest.mark.parametrize('kind', KINDS)
async def test_a_large_download_read_slowly(kind: Kind) -> None:
    # 16 MiB read in small steps: what arrives meanwhile waits (in the
    # kernel once our buffer is full) and nothing is lost or reordered.
    expected = hashlib.sha256(bytes(range(256)) * (16 * 4096)).hexdigest()
    with serve(_large_download) as server:
        async with (
            make_client(kind, base_url=url_of(server), timeout=30) as client,
            client.stream('GET', '/') as response,
        ):
            digest = hashlib.sha256()
            async for chunk in response.aiter_raw():
                digest.update(chunk)
                await asyncio.sleep(0)
    assert digest.hexdigest() == expected


async def test_a_cancelled_read_is_a_cancellation_and_the_client_goes_on() -> None:
    with serve(never_answer) as silent, serve(keep_alive) as good:
        async with make_client('asyncio', timeout=0.5) as client:
            task = asyncio.create_task(client.get(url_of(silent)))
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(0.6)  # past the read timeout: nothing fires
            assert (await client.get(url_of(good))).status_code == 200


async def test_socket_options_local_address_and_addresses() -> None:
    with serve(keep_alive) as server:
        port = server.server_address[1]
        stream = await AsyncioBackend().connect_tcp(
            '127.0.0.1',
            port,
            timeout=5,
            local_address='127.0.0.1',
            socket_options=[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)],
        )
        try:
            sock = stream.get_extra_info('socket')
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            assert stream.get_extra_info('client_addr')[0] == '127.0.0.1'
            assert stream.get_extra_info('server_addr') == ('127.0.0.1', port)
            assert stream.get_extra_info('ssl_object') is None
            assert stream.get_extra_info('is_readable') is False
            await stream.write(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n', timeout=5)
            reply = await stream.read(65536, timeout=5)
            assert reply.startswith(b'HTTP/1.1 200 OK')
        finally:
            await stream.aclose()
        with pytest.raises(httpcore.ReadError):
            await stream.read(10)
        with pytest.raises(httpcore.WriteError):
            await stream.write(b'x')
        assert stream.get_extra_info('is_readable') is True


async def test_a_unix_socket(tmp_path: typing.Any) -> None:
    path = str(tmp_path / 'api.sock')

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b'\r\n\r\n')
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
        await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(handle, path)
    async with (
        server,
        httpcore.AsyncConnectionPool(
            uds=path, network_backend=AsyncioBackend()
        ) as pool,
    ):
        response = await pool.request('GET', 'http://localhost/')
    assert (response.status, response.content) == (200, b'ok')


def test_under_uvloop(authority: trustme.CA) -> None:
    # uvloop's transports and sockets differ from asyncio's (no happy
    # eyeballs option, a pseudo-socket): the same cases must hold there.
    import uvloop

    async def scenario() -> None:
        with (
            serve(answer_once_then_close) as closing,
            serve(never_answer) as silent,
            serve_tls(authority, keep_alive) as secure,
        ):
            async with make_client('asyncio', verify=trusting(authority)) as client:
                for _ in range(2):
                    assert (await client.get(url_of(closing))).status_code == 200
                    time.sleep(0.2)  # noqa: ASYNC251 - the loop misses the close
                for _ in range(2):
                    assert (await client.get(url_of(secure, 'https'))).json() == {}
                with pytest.raises(httpx.ReadTimeout):
                    await client.get(url_of(silent), timeout=0.2)
        assert (closing.connections, secure.connections) == (2, 1)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(scenario())


# -- TLS ----------------------------------------------------------------------


@pytest.fixture(scope='module')
def authority() -> trustme.CA:
    return trustme.CA()


@contextlib.contextmanager
def serve_tls(authority: trustme.CA, handle: Handle) -> abc.Iterator[_Server]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert('127.0.0.1').configure_cert(context)

    def handle_tls(sock: socket.socket) -> None:
        sock.settimeout(5)
        with context.wrap_socket(sock, server_side=True) as wrapped:
            handle(wrapped)

    with serve(handle_tls) as server:
        yield server


def trusting(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    authority.configure_trust(context)
    return context


@pytest.mark.parametrize('kind', KINDS)
async def test_tls(kind: Kind, authority: trustme.CA) -> None:
    with serve_tls(authority, keep_alive) as server:
        async with make_client(
            kind, verify=trusting(authority), base_url=url_of(server, 'https')
        ) as client:
            for _ in range(3):
                response = await client.get('/')
                assert response.json() == {}
                stream = response.extensions['network_stream']
                assert isinstance(stream.get_extra_info('ssl_object'), ssl.SSLObject)
    assert server.connections == 1


@pytest.mark.parametrize('kind', KINDS)
async def test_tls_connection_closed_by_the_server_is_replaced(
    kind: Kind, authority: trustme.CA
) -> None:
    with serve_tls(authority, answer_once_then_close) as server:
        async with make_client(
            kind, verify=trusting(authority), base_url=url_of(server, 'https')
        ) as client:
            for _ in range(3):
                assert (await client.get('/')).status_code == 200
                await asyncio.sleep(0.2)
    assert server.connections == 3


@pytest.mark.parametrize('kind', KINDS)
async def test_tls_unknown_authority_is_a_connect_error(
    kind: Kind, authority: trustme.CA
) -> None:
    with serve_tls(authority, keep_alive) as server:
        async with make_client(kind, base_url=url_of(server, 'https')) as client:
            with pytest.raises(httpx.ConnectError) as caught:
                await client.get('/')
    assert 'CERTIFICATE_VERIFY_FAILED' in str(caught.value)
    assert errors.never_sent(caught.value)


@pytest.mark.parametrize('kind', KINDS)
async def test_tls_handshake_timeout_is_a_connect_timeout(kind: Kind) -> None:
    with serve(never_answer) as server:  # takes the connection, never any TLS
        timeout = httpx.Timeout(5.0, connect=0.3)
        async with make_client(kind, timeout=timeout) as client:
            with pytest.raises(httpx.ConnectTimeout) as caught:
                await client.get(url_of(server, 'https'))
    assert errors.never_sent(caught.value)


# -- which transport `Imbi` gets ------------------------------------------------


@pytest.mark.lean
async def test_imbi_sends_through_the_asyncio_transport_by_default() -> None:
    with serve(keep_alive) as server:
        async with Imbi(base_url=url_of(server), token=TOKEN) as client:
            assert isinstance(client._transport, AsyncioTransport)
            assert (await client.get('/')).json() == {}


async def test_imbi_is_plain_httpx_with_the_shortcuts_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv('IMBI_TOOLKIT_LEAN', '0')
    async with Imbi(base_url='http://127.0.0.1:1', token=TOKEN) as client:
        assert not client.lean
        assert isinstance(client._transport, httpx.AsyncHTTPTransport)


@pytest.mark.parametrize('variable', ['HTTP_PROXY', 'ALL_PROXY'])
async def test_a_proxy_in_the_environment_still_gets_the_requests(
    variable: str, capture_server: CaptureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ('HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY'):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv(variable, f'http://127.0.0.1:{capture_server.server_address[1]}')
    async with Imbi(base_url='http://imbi.invalid/api', token=TOKEN) as client:
        response = await client.get('/organizations/')
    assert response.json() == []
    (request,) = capture_server.received
    assert request.startswith(b'GET http://imbi.invalid/api/organizations/ HTTP/1.1')


# The pool: one idle connection per request, the limits of httpx.Limits.


class _Closed:
    """Counts the connections the client closed (the server read EOF)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.closed = 0
        self.lock = threading.Lock()

    def __call__(self, sock: socket.socket) -> None:
        while read_head(sock)[0]:
            time.sleep(self.delay)
            answer(sock)
        with self.lock:
            self.closed += 1


async def _until(condition: abc.Callable[[], bool], seconds: float = 2.0) -> None:
    """Wait at most ``seconds`` until ``condition()`` (the server saw a close)."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)


def _count_unavailable(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the requests an HTTP/1.1 connection refused: already taken."""
    count = [0]
    send = httpcore.AsyncHTTP11Connection.handle_async_request

    async def counting(
        self: httpcore.AsyncHTTP11Connection, request: httpcore.Request
    ) -> httpcore.Response:
        try:
            return await send(self, request)
        except httpcore.ConnectionNotAvailable:
            count[0] += 1
            raise

    monkeypatch.setattr(
        httpcore.AsyncHTTP11Connection, 'handle_async_request', counting
    )
    return count


async def _in_flight(client: httpx.AsyncClient, total: int, width: int) -> None:
    async def worker(share: int) -> None:
        for _ in range(share):
            assert (await client.get('/')).json() == {}

    await asyncio.gather(*(worker(total // width) for _ in range(width)))


async def test_no_connection_is_given_to_two_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused = _count_unavailable(monkeypatch)
    with serve(keep_alive) as server:
        async with make_client('asyncio', base_url=url_of(server)) as client:
            await _in_flight(client, 1000, 10)
    assert refused[0] == 0
    assert server.connections <= 10


@pytest.mark.parametrize('kind', KINDS)
async def test_connections_are_reused_at_ten_in_flight(kind: Kind) -> None:
    with serve(keep_alive) as server:
        async with make_client(kind, base_url=url_of(server)) as client:
            await _in_flight(client, 1000, 10)
    assert server.connections <= 10


@pytest.mark.parametrize('kind', KINDS)
async def test_max_connections_and_pool_timeout(kind: Kind) -> None:
    limits = httpx.Limits(max_connections=2)
    with serve(_Closed(delay=0.3)) as server:
        async with make_client(kind, base_url=url_of(server), limits=limits) as client:
            first = [asyncio.create_task(client.get('/')) for _ in range(2)]
            await asyncio.sleep(0.1)
            with pytest.raises(httpx.PoolTimeout):
                await client.get('/', timeout=httpx.Timeout(5, pool=0.05))
            # A request that may wait gets a connection when one is free.
            late = await client.get('/', timeout=httpx.Timeout(5, pool=2))
            assert [r.status_code for r in await asyncio.gather(*first)] == [200, 200]
            assert late.status_code == 200
            await _in_flight(client, 6, 6)
    assert server.connections == 2


@pytest.mark.parametrize('kind', KINDS)
async def test_idle_connections_beyond_the_keep_alive_limit_are_closed(
    kind: Kind,
) -> None:
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=2)
    handle = _Closed(delay=0.1)
    with serve(handle) as server:
        async with make_client(kind, base_url=url_of(server), limits=limits) as client:
            await _in_flight(client, 5, 5)
            await _until(lambda: handle.closed == 3)
            assert handle.closed == 3
            await _in_flight(client, 5, 5)
            assert server.connections == 8


@pytest.mark.parametrize('kind', KINDS)
async def test_an_expired_idle_connection_is_not_reused(kind: Kind) -> None:
    limits = httpx.Limits(keepalive_expiry=0.1)
    handle = _Closed()
    with serve(handle) as server:
        async with make_client(kind, base_url=url_of(server), limits=limits) as client:
            await client.get('/')
            await client.get('/')
            await asyncio.sleep(0.2)
            await client.get('/')
            await _until(lambda: handle.closed == 1)
            assert handle.closed == 1
    assert server.connections == 2


@pytest.mark.parametrize('kind', KINDS)
async def test_idle_connections_the_server_closed_at_ten_in_flight(
    kind: Kind,
) -> None:
    with serve(answer_once_then_close) as server:
        async with make_client(kind, base_url=url_of(server)) as client:
            for _ in range(3):
                await _in_flight(client, 10, 10)
                await asyncio.sleep(0.1)  # the server has closed them all
    assert server.connections == 30


def _first_never_answers(first: threading.Event, closed: threading.Event) -> Handle:
    def handle(sock: socket.socket) -> None:
        if not first.is_set():
            first.set()
            read_head(sock)
            sock.settimeout(5)
            if sock.recv(1) == b'':  # the client closed it
                closed.set()
            return
        keep_alive(sock)

    return handle


@pytest.mark.parametrize('kind', KINDS)
async def test_a_cancelled_request_frees_its_slot_and_closes_its_connection(
    kind: Kind,
) -> None:
    first, closed = threading.Event(), threading.Event()
    limits = httpx.Limits(max_connections=1)
    with serve(_first_never_answers(first, closed)) as server:
        async with make_client(kind, base_url=url_of(server), limits=limits) as client:
            task = asyncio.create_task(client.get('/'))
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            response = await client.get('/', timeout=httpx.Timeout(2, pool=0.5))
            assert response.status_code == 200
            await _in_flight(client, 5, 5)
            assert await asyncio.to_thread(closed.wait, 2)
    assert server.connections == 2


@pytest.mark.parametrize('kind', KINDS)
async def test_aclose_closes_every_connection(kind: Kind) -> None:
    handle = _Closed(delay=0.1)
    with serve(handle) as server:
        client = make_client(kind, base_url=url_of(server))
        await _in_flight(client, 3, 3)
        assert server.connections == 3
        await client.aclose()
        await _until(lambda: handle.closed == 3)
        assert handle.closed == 3
