"""The aiohttp transport, over real sockets against local servers.

Every test that can compares with httpx's own transport: the server must
see the same request, the caller the same response or the same kind of
httpx exception, so the seed's `httpx.RequestError` handling and the retry
rules keep working whichever backend sends the bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import gzip
import json
import logging
import socket
import traceback
import typing
import weakref
from collections import abc

import httpx
import pytest

from imbi_toolkit.api import Imbi, Settings, errors
from imbi_toolkit.api import _paths as paths
from imbi_toolkit.api._network import AsyncioTransport
from imbi_toolkit.api.transports import AiohttpTransport

from .servers import serve_in_thread

TOKEN = 'tok-3f9a1c77e2b54d0c'

Scope = dict[str, typing.Any]
Receive = abc.Callable[[], abc.Awaitable[dict[str, typing.Any]]]
Send = abc.Callable[[dict[str, typing.Any]], abc.Awaitable[None]]


async def _body(receive: Receive) -> bytes:
    body = b''
    more = True
    while more:
        message = await receive()
        body += message.get('body', b'')
        more = message.get('more_body', False)
    return body


async def _reply(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [*(headers or []), (b'content-length', str(len(body)).encode())]
    await send({'type': 'http.response.start', 'status': status, 'headers': headers})
    await send({'type': 'http.response.body', 'body': body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Echo the request, or misbehave on purpose, by path."""
    if scope['type'] != 'http':
        return
    path = scope['path']
    body = await _body(receive)
    if path.startswith('/status/'):
        await _reply(send, int(path.rsplit('/', 1)[1]), b'{"detail": "nope"}')
    elif path == '/slow':
        await asyncio.sleep(2)
        await _reply(send, 200, b'late')
    elif path == '/gzip':
        await _reply(
            send,
            200,
            gzip.compress(b'{"packed": true}'),
            [(b'content-encoding', b'gzip'), (b'content-type', b'application/json')],
        )
    elif path == '/moved':
        await _reply(send, 307, b'', [(b'location', b'/echo')])
    elif path == '/set-cookie':
        await _reply(send, 200, b'{}', [(b'set-cookie', b'session=abc; Path=/')])
    elif path == '/big':
        chunk = b'x' * 65536
        await send(
            {
                'type': 'http.response.start',
                'status': 200,
                'headers': [(b'content-type', b'application/octet-stream')],
            }
        )
        for _ in range(16):
            await send({'type': 'http.response.body', 'body': chunk, 'more_body': True})
        await send({'type': 'http.response.body', 'body': b''})
    else:
        echo = {
            'method': scope['method'],
            'raw_path': scope['raw_path'].decode('latin-1'),
            'query': scope['query_string'].decode('latin-1'),
            'headers': sorted(
                [k.decode('latin-1'), v.decode('latin-1')] for k, v in scope['headers']
            ),
            'body': body.decode('latin-1'),
        }
        await _reply(
            send,
            201,
            json.dumps(echo).encode(),
            [(b'content-type', b'application/json'), (b'x-echo', b'1')],
        )


@pytest.fixture(scope='module')
def base_url() -> abc.Iterator[str]:
    """A uvicorn (h11) server in a thread of its own, on a free port."""
    with serve_in_thread(app, http='h11', loop='asyncio') as port:
        yield f'http://127.0.0.1:{port}'


@contextlib.asynccontextmanager
async def raw_server(
    handle: abc.Callable[
        [asyncio.StreamReader, asyncio.StreamWriter], abc.Awaitable[None]
    ],
) -> abc.AsyncIterator[str]:
    """A TCP server that answers with whatever ``handle`` writes."""
    server = await asyncio.start_server(handle, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f'http://127.0.0.1:{port}'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


def both_backends(base_url: str, **kwargs: typing.Any) -> list[httpx.AsyncClient]:
    return [
        httpx.AsyncClient(base_url=base_url, **kwargs),
        httpx.AsyncClient(base_url=base_url, transport=AiohttpTransport(), **kwargs),
    ]


async def test_server_sees_the_same_request_from_both_transports(
    base_url: str,
) -> None:
    path = paths.build('/orgs/{org}/projects/{pid}', org='a b', pid='x/y%z')
    seen = []
    for client in both_backends(base_url, headers={'x-multi': 'one'}):
        async with client:
            response = await client.post(
                path,
                params={'q': 'ü 1', 'flag': ''},
                json={'title': 'café', 'n': 1},
                headers=[('x-multi', 'two'), ('x-multi', 'three')],
            )
        assert response.status_code == 201
        seen.append(response.json())
    httpcore_seen, aiohttp_seen = seen
    assert aiohttp_seen == httpcore_seen
    assert aiohttp_seen['raw_path'] == '/orgs/a%20b/projects/x%2Fy%25z'
    body = aiohttp_seen['body'].encode('latin-1')
    assert json.loads(body) == {'title': 'café', 'n': 1}


@pytest.mark.parametrize('value', ['plain', 'café'.encode()])
async def test_header_bytes_arrive_as_httpx_sends_them(
    base_url: str, value: str | bytes
) -> None:
    seen = []
    for client in both_backends(base_url):
        async with client:
            response = await client.get('/echo', headers={'x-note': value})
        seen.append(dict(response.json()['headers'])['x-note'])
    assert seen[1] == seen[0]


async def test_a_header_aiohttp_cannot_send_is_refused_by_name(base_url: str) -> None:
    secret = 'café-s3cret'.encode('latin-1')
    async with httpx.AsyncClient(base_url=base_url, transport=AiohttpTransport()) as c:
        with pytest.raises(httpx.LocalProtocolError) as caught:
            await c.get('/echo', headers={'x-note': secret})
    message = str(caught.value)
    assert "header 'x-note' is not UTF-8" in message
    assert 's3cret' not in message


async def test_response_status_headers_and_body(base_url: str) -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        response = await client.get(f'{base_url}/status/404')
    assert response.status_code == 404
    assert response.reason_phrase == 'Not Found'
    assert response.http_version == 'HTTP/1.1'
    assert response.json() == {'detail': 'nope'}
    assert response.headers['content-length'] == str(len(response.content))
    assert response.request.url == httpx.URL(f'{base_url}/status/404')


async def test_gzip_body_is_decoded_by_httpx(base_url: str) -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        response = await client.get(f'{base_url}/gzip')
    assert response.headers['content-encoding'] == 'gzip'
    assert response.json() == {'packed': True}


async def test_streamed_download_and_upload(base_url: str) -> None:
    async def upload() -> abc.AsyncIterator[bytes]:
        for part in (b'first,', b'second'):
            yield part

    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        async with client.stream('GET', f'{base_url}/big') as response:
            sizes = [len(chunk) async for chunk in response.aiter_raw()]
        echoed = await client.post(f'{base_url}/echo', content=upload())
    assert sum(sizes) == 16 * 65536
    assert echoed.json()['body'] == 'first,second'
    headers = dict(echoed.json()['headers'])
    assert headers['transfer-encoding'] == 'chunked'


async def test_connections_are_reused(base_url: str) -> None:
    transport = AiohttpTransport()
    async with httpx.AsyncClient(transport=transport) as client:
        for _ in range(5):
            response = await client.get(f'{base_url}/echo')
            assert response.status_code == 201
        session = transport._session
        assert session is not None
        connector = session.connector
        assert connector is not None
        # One keep-alive connection served all five requests.
        assert sum(len(c) for c in connector._conns.values()) == 1
    assert session.closed


async def test_cookies_stay_with_httpx(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, transport=AiohttpTransport()) as c:
        await c.get('/set-cookie')
        assert c.cookies['session'] == 'abc'
        echoed = await c.get('/echo')
    assert ['cookie', 'session=abc'] in echoed.json()['headers']


async def test_read_timeout(base_url: str) -> None:
    timeout = httpx.Timeout(5.0, read=0.2)
    for client in both_backends(base_url, timeout=timeout):
        async with client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get('/slow')


async def test_waiting_for_a_pooled_connection_times_out_as_never_sent(
    base_url: str,
) -> None:
    transport = AiohttpTransport(limits=httpx.Limits(max_connections=1))
    timeout = httpx.Timeout(5.0, pool=0.1)
    async with (
        httpx.AsyncClient(transport=transport, timeout=timeout) as client,
        client.stream('GET', f'{base_url}/big'),
    ):
        with pytest.raises(httpx.TimeoutException) as caught:
            await client.get(f'{base_url}/echo')
    assert errors.never_sent(caught.value)


async def test_connection_refused_is_a_connect_error() -> None:
    url = f'http://127.0.0.1:{free_port()}/'
    for client in both_backends(url):
        async with client:
            with pytest.raises(httpx.ConnectError) as caught:
                await client.get('/')
        assert caught.value.request.url == httpx.URL(url)
        assert errors.never_sent(caught.value)


async def _hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b'\r\n\r\n')
    writer.close()


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b'\r\n\r\n')
    writer.write(b'this is not HTTP\r\n\r\n')
    await writer.drain()
    writer.close()


async def _short_body(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    await reader.readuntil(b'\r\n\r\n')
    writer.write(b'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly a bit')
    await writer.drain()
    writer.close()


@pytest.mark.parametrize('handle', [_hang_up, _garbage, _short_body])
async def test_broken_responses_are_protocol_errors(
    handle: abc.Callable[
        [asyncio.StreamReader, asyncio.StreamWriter], abc.Awaitable[None]
    ],
) -> None:
    async with raw_server(handle) as url:
        for client in both_backends(url):
            async with client:
                with pytest.raises(httpx.RemoteProtocolError) as caught:
                    await client.get('/')
            # The server may have acted on it: never retried as unsent.
            assert not errors.never_sent(caught.value)


async def test_seed_error_handling_works_with_the_aiohttp_backend() -> None:
    async with Imbi(
        base_url=f'http://127.0.0.1:{free_port()}',
        token=TOKEN,
        http_backend='aiohttp',
    ) as client:
        assert isinstance(client._transport, AiohttpTransport)
        assert await client.find_user_by_identity('github', '42') is None
        with pytest.raises(errors.ImbiConnectionError) as caught:
            await client.find_release('eng', 'p1', tag='1.0')
    assert caught.value.sent is False


async def test_imbi_helpers_over_aiohttp(base_url: str) -> None:
    async with Imbi(base_url=base_url, token=TOKEN, http_backend='aiohttp') as client:
        response = await client.create_release('eng', 'p 1', {'committish': 'abc'})
    echo = response.json()
    assert echo['method'] == 'POST'
    assert echo['raw_path'] == '/organizations/eng/projects/p%201/releases/'
    headers = dict(echo['headers'])
    assert headers['authorization'] == f'Bearer {TOKEN}'
    assert headers['user-agent'].startswith('imbi-toolkit/')
    assert headers['content-type'] == 'application/json'


async def test_token_never_leaks(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts = []
    async with Imbi(base_url=base_url, token=TOKEN, http_backend='aiohttp') as client:
        await client.create_release('eng', 'p1', {'committish': 'abc'})
        await client.patch_project('eng', 'p1', [])
        texts.append(repr(client))
        texts.append(repr(client._transport))
    async with Imbi(
        base_url=f'http://127.0.0.1:{free_port()}', token=TOKEN, http_backend='aiohttp'
    ) as client:
        try:
            await client.get('/')
        except httpx.ConnectError as exc:
            texts.append(''.join(traceback.format_exception(exc)))
    assert len(texts) == 3
    texts.extend(record.getMessage() for record in caplog.records)
    assert not [text for text in texts if TOKEN in text]


async def test_settings_choose_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('IMBI_CLIENT_API_TOKEN', TOKEN)
    monkeypatch.setenv('IMBI_CLIENT_HTTP_BACKEND', 'aiohttp')
    async with Imbi.from_settings(Settings()) as client:
        assert isinstance(client._transport, AiohttpTransport)
    monkeypatch.setenv('IMBI_CLIENT_HTTP_BACKEND', 'httpcore')
    async with Imbi.from_settings(Settings()) as client:
        # httpcore's pool either way: on plain asyncio sockets (_network)
        # unless the shortcuts are off (`make pytest-plain`).
        default = AsyncioTransport if client.lean else httpx.AsyncHTTPTransport
        assert isinstance(client._transport, default)


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match='unknown http_backend'):
        Imbi(base_url='http://x', token=TOKEN, http_backend='curl')  # type: ignore[arg-type]


async def test_closed_transport_refuses_requests(base_url: str) -> None:
    transport = AiohttpTransport()
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get(f'{base_url}/echo')
    with pytest.raises(RuntimeError, match='closed'):
        await transport.handle_async_request(httpx.Request('GET', f'{base_url}/'))


async def test_head_and_empty_answers(base_url: str) -> None:
    for client in both_backends(base_url):
        async with client:
            head = await client.head('/status/200')
            empty = await client.delete('/status/204')
        assert (head.status_code, head.content) == (200, b'')
        assert head.headers['content-length'] == str(len(b'{"detail": "nope"}'))
        assert (empty.status_code, empty.content) == (204, b'')


async def test_an_explicit_transport_wins_over_the_backend(base_url: str) -> None:
    transport = httpx.AsyncHTTPTransport()
    async with Imbi(
        base_url=base_url, token=TOKEN, transport=transport, http_backend='aiohttp'
    ) as client:
        assert client._transport is transport


async def test_a_body_left_unread_does_not_spoil_the_next_request(
    base_url: str,
) -> None:
    transport = AiohttpTransport(limits=httpx.Limits(max_connections=1))
    async with httpx.AsyncClient(base_url=base_url, transport=transport) as client:
        async with client.stream('GET', '/big') as response:
            async for _ in response.aiter_raw():
                break
        echoed = await client.post('/echo', json={'after': 'break'})
    assert echoed.status_code == 201
    assert json.loads(echoed.json()['body']) == {'after': 'break'}


async def test_small_answers_read_whole_still_stream_to_the_caller(
    base_url: str,
) -> None:
    # A small answer is read whole when its headers arrive; a caller that
    # streams it still gets every byte, raw or decoded, exactly once.
    async with httpx.AsyncClient(base_url=base_url, transport=AiohttpTransport()) as c:
        async with c.stream('GET', '/echo') as echoed:
            raw = b''.join([chunk async for chunk in echoed.aiter_raw()])
            with pytest.raises(httpx.StreamConsumed):
                await echoed.aread()
        async with c.stream('GET', '/gzip') as packed:
            decoded = b''.join([chunk async for chunk in packed.aiter_bytes()])
    assert json.loads(raw)['method'] == 'GET'
    assert len(raw) == int(echoed.headers['content-length'])
    assert json.loads(decoded) == {'packed': True}


async def test_plain_http_builds_no_tls_context(base_url: str) -> None:
    # Loading the CA bundle costs ~20 ms: an http-only client never does it.
    transport = AiohttpTransport()
    async with httpx.AsyncClient(transport=transport) as client:
        assert (await client.get(f'{base_url}/echo')).status_code == 201
    assert transport._ssl is None


@pytest.mark.lean
async def test_read_responses_are_freed_without_the_garbage_collector(
    base_url: str,
) -> None:
    # httpx's stream wrapper points back at its response; once the body is
    # read, `Imbi` drops it, so nothing waits for a cyclic collection.
    for backend in ('httpcore', 'aiohttp'):
        async with Imbi(base_url=base_url, token=TOKEN, http_backend=backend) as client:
            gc.disable()
            try:
                response = await client.post('/echo', json={'n': 1})
                assert response.json()['method'] == 'POST'
                assert [c async for c in response.aiter_bytes()] == [response.content]
                with pytest.raises(httpx.StreamConsumed):
                    await response.aiter_raw().__anext__()
                assert response.elapsed.total_seconds() > 0
                alive = weakref.ref(response)
                del response
                assert alive() is None
            finally:
                gc.enable()


# `Imbi.send` goes straight to httpx's single-request step when there is
# nothing for the layers around it to do: callers must see what httpx gives.


def _lean_and_plain(
    base_url: str, backend: typing.Literal['httpcore', 'aiohttp']
) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    transport = AiohttpTransport() if backend == 'aiohttp' else None
    lean = Imbi(base_url=base_url, token=TOKEN, http_backend=backend)
    plain = httpx.AsyncClient(
        base_url=base_url,
        headers={
            'authorization': f'Bearer {TOKEN}',
            'user-agent': lean.headers['user-agent'],
        },
        transport=transport,
    )
    return lean, plain


def _same_response(a: httpx.Response, b: httpx.Response) -> None:
    assert a.status_code == b.status_code
    assert a.content == b.content
    assert a.request.headers.raw == b.request.headers.raw
    assert [k for k, _ in a.headers.raw] == [k for k, _ in b.headers.raw]
    assert a.is_closed and b.is_closed
    assert a.request.url == b.request.url
    assert [r.status_code for r in a.history] == [r.status_code for r in b.history]
    assert (a.next_request and a.next_request.url) == (
        b.next_request and b.next_request.url
    )
    assert a.elapsed.total_seconds() > 0


@pytest.mark.parametrize('backend', ['httpcore', 'aiohttp'])
@pytest.mark.parametrize(
    'options',
    [{}, {'follow_redirects': True}, {'auth': httpx.BasicAuth('user', 'pass')}],
)
@pytest.mark.parametrize('path', ['/status/404', '/moved', '/set-cookie'])
async def test_responses_match_httpx(
    base_url: str,
    backend: typing.Literal['httpcore', 'aiohttp'],
    options: dict[str, typing.Any],
    path: str,
) -> None:
    lean, plain = _lean_and_plain(base_url, backend)
    async with lean, plain:
        _same_response(
            await lean.get(path, **options), await plain.get(path, **options)
        )
        assert dict(lean.cookies) == dict(plain.cookies)


async def test_event_hooks_and_client_auth_still_run(base_url: str) -> None:
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.url.path)

    async with Imbi(base_url=base_url, token=TOKEN) as client:
        client.event_hooks = {'request': [hook], 'response': []}
        await client.get('/echo')
        client.event_hooks = {'request': [], 'response': []}
        client.auth = httpx.BasicAuth('user', 'pass')
        client.headers.pop('authorization')
        echoed = await client.get('/echo')
    assert seen == ['/echo']
    assert dict(echoed.json()['headers'])['authorization'].startswith('Basic ')


async def test_transport_errors_carry_the_request_and_closed_clients_refuse() -> None:
    url = f'http://127.0.0.1:{free_port()}'
    for backend in ('httpcore', 'aiohttp'):
        client = Imbi(base_url=url, token=TOKEN, http_backend=backend)  # type: ignore[arg-type]
        async with client:
            with pytest.raises(httpx.ConnectError) as caught:
                await client.get('/users/me')
        assert caught.value.request.url == httpx.URL(f'{url}/users/me')
        with pytest.raises(RuntimeError, match='client has been closed'):
            await client.get('/users/me')


async def test_a_streamed_response_is_left_to_the_caller(base_url: str) -> None:
    async with (
        Imbi(base_url=base_url, token=TOKEN) as client,
        client.stream('GET', '/big') as response,
    ):
        assert not response.is_closed
        size = sum([len(chunk) async for chunk in response.aiter_raw()])
    assert size == 16 * 65536
