"""A traceback printed with its local variables never shows the token.

Sentry, `pytest -l`, `traceback.TracebackException(capture_locals=True)` and
IPython's verbose mode print the repr of every local variable of every frame
of a failed call. Every error path of the client (HTTP status errors,
transport errors, timeouts, invalid URLs and arguments, plugin errors) is
rendered both ways here, with a canary token, over real sockets.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import sys
import threading
import traceback
import typing
from collections import abc

import httpx
import pytest
from IPython.core import ultratb
from IPython.testing import globalipapp

from imbi_toolkit import hookimpl
from imbi_toolkit.api import Imbi, errors
from imbi_toolkit.api import _redaction as redaction
from imbi_toolkit.plugins import PluginHookError, PluginManager, Toolkit
from imbi_toolkit.testing import SandboxProcess

pytestmark = pytest.mark.attack('tokens')

CANARY = 'ik_0123456789abcdef0123456789abcdef_TRACE-CANARY-s3cr3t'
BACKENDS = ['httpcore', 'aiohttp']


def rendered(exc: BaseException) -> str:
    """The traceback as `capture_locals=True` and IPython's VerboseTB print it."""
    with_locals = ''.join(
        traceback.TracebackException.from_exception(exc, capture_locals=True).format()
    )
    verbose = ultratb.VerboseTB(theme_name='nocolor').text(
        type(exc), exc, exc.__traceback__
    )
    return with_locals + '\n' + verbose


def assert_clean(exc: BaseException) -> str:
    text = rendered(exc)
    assert CANARY not in text
    assert 'TRACE-CANARY' not in text
    assert '0123456789abcdef0123456789abcdef' not in text
    # The rendering did show local variables (ours, at least).
    assert 'self = <Imbi' in text or 'client = <Imbi' in text
    return text


class _Handler(socketserver.BaseRequestHandler):
    """Reads a request, then answers as its path says."""

    def handle(self) -> None:
        data = b''
        while b'\r\n\r\n' not in data:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            data += chunk
        head = data.split(b'\r\n\r\n', 1)[0]
        target = head.split(b' ', 2)[1]
        if b'/silent/' in target:
            while self.request.recv(65536):  # until the client gives up
                pass
        elif b'/close/' in target:
            return
        else:  # a buggy server that echoes the request's headers in a 500
            body = head.replace(b'\r\n', b'\n')
            self.request.sendall(
                b'HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain'
                + b'\r\nContent-Length: '
                + str(len(body)).encode()
                + b'\r\nConnection: close\r\n\r\n'
                + body
            )


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture(scope='module')
def raw_server() -> abc.Iterator[str]:
    server = _Server(('127.0.0.1', 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


async def _failure(call: abc.Awaitable[object]) -> BaseException:
    try:
        await call
    except BaseException as exc:
        return exc
    raise AssertionError('the call did not fail')


def _raised(
    function: abc.Callable[..., object], *args: object, **kwargs: object
) -> BaseException:
    try:
        function(*args, **kwargs)
    except BaseException as exc:
        return exc
    raise AssertionError('the call did not fail')


@pytest.mark.parametrize('backend', BACKENDS)
async def test_transport_errors_and_timeouts(raw_server: str, backend: str) -> None:
    failures = []
    async with Imbi(
        base_url=f'http://127.0.0.1:{_closed_port()}',
        token=CANARY,
        http_backend=typing.cast(typing.Any, backend),
    ) as client:
        failures.append(await _failure(client.create_release('eng', 'p', {})))
    async with Imbi(
        base_url=raw_server,
        token=CANARY,
        timeout=0.3,
        http_backend=typing.cast(typing.Any, backend),
    ) as client:
        failures.append(await _failure(client.create_release('eng', 'silent', {})))
        failures.append(await _failure(client.post('/close/', json={'a': 1})))
        with errors.translate():
            failures.append(await _failure(client.get('/silent/')))
    kinds = [type(exc) for exc in failures]
    assert kinds[0] is httpx.ConnectError
    assert kinds[1] is httpx.ReadTimeout
    assert issubclass(kinds[2], httpx.RemoteProtocolError | httpx.ReadError)
    assert kinds[3] is httpx.ReadTimeout
    for exc in failures:
        assert_clean(exc)


@pytest.mark.parametrize('backend', BACKENDS)
async def test_transport_errors_with_retries_and_typed_errors(
    raw_server: str, backend: str
) -> None:
    async with Imbi(
        base_url=raw_server,
        token=CANARY,
        timeout=0.2,
        max_retries=1,
        http_backend=typing.cast(typing.Any, backend),
    ) as client:
        exc = await _failure(client.get('/silent/'))
        try:
            with errors.translate():
                await client.get('/silent/')
        except errors.ImbiTimeoutError as typed:
            assert_clean(typed)
    assert isinstance(exc, httpx.ReadTimeout)
    assert_clean(exc)


@pytest.mark.parametrize('backend', BACKENDS)
async def test_status_errors(
    raw_server: str, imbi_sandbox: SandboxProcess, backend: str
) -> None:
    async with Imbi(
        base_url=raw_server,
        token=CANARY,
        http_backend=typing.cast(typing.Any, backend),
    ) as client:
        response = await client.get('/echo/')
        assert 'TRACE-CANARY' in response.text  # the server did echo it
        typed = _raised(errors.raise_for_status, response)
        plain = _raised(response.raise_for_status)
        assert isinstance(typed, errors.ServerError)
        assert isinstance(plain, httpx.HTTPStatusError)
        for exc in (typed, plain):
            text = rendered(exc)
            assert CANARY not in text
            assert 'TRACE-CANARY' not in text
    async with Imbi(
        base_url=imbi_sandbox.base_url,
        token=CANARY,
        http_backend=typing.cast(typing.Any, backend),
    ) as client:
        response = await client.get('/organizations/')
        try:
            errors.raise_for_status(response)
        except errors.AuthenticationError as exc:
            assert_clean_or_client(exc)
        else:
            raise AssertionError('the sandbox accepted the canary token')


def assert_clean_or_client(exc: BaseException) -> None:
    text = rendered(exc)
    assert CANARY not in text
    assert 'TRACE-CANARY' not in text


async def test_invalid_urls_and_arguments(raw_server: str) -> None:
    async with Imbi(base_url=raw_server, token=CANARY) as client:
        failures = [
            await _failure(client.get('/a\x00b')),
            await _failure(client.get('http://[::1')),
            await _failure(client.patch_project('eng', '..', [])),
            await _failure(client.create_release('eng', 'p', {'n': float('nan')})),
            await _failure(client.post('/x', json={'n': object()})),
        ]
    assert [type(exc) for exc in failures] == [
        httpx.InvalidURL,
        httpx.InvalidURL,
        ValueError,
        ValueError,
        TypeError,
    ]
    for exc in failures:
        assert_clean(exc)


def _construct(case: int) -> Imbi:
    # Values come from calls, not names: IPython shows a name's value, and
    # the credentials must be seen nowhere but in the arguments passed.
    return Imbi(**{'base_url': 'http://imbi.test', 'token': _token(), **_case(case)})


def _token() -> str:
    return CANARY


def _case(number: int) -> dict[str, typing.Any]:
    return [
        {'ca_bundle': '/nonexistent.pem'},
        {'ca_bundle': '/nonexistent.pem', 'verify': False},
        {'http_backend': 'curl'},
        {'proxy': 'socks5://user:proxy-pw@127.0.0.1:1080'},
        {'base_url': 'http://user:base-pw@imbi.test'},
        {'base_url': 'http://[::1'},
    ][number]


def test_construction_errors() -> None:
    failures = []
    for case in range(6):
        with _no_socksio():
            failures.append(_raised(_construct, case))
    assert [type(exc) for exc in failures] == [ValueError] * 6
    for exc in failures:
        text = rendered(exc)
        assert CANARY not in text
        assert 'TRACE-CANARY' not in text
        assert 'proxy-pw' not in text
        assert 'base-pw' not in text
        assert "secret = Secret('[REDACTED]')" in text  # __init__'s locals shown


async def test_plugin_errors(raw_server: str) -> None:
    class Broken:
        @hookimpl
        def imbi_before_release_create(
            self, client: Imbi, body: dict[str, object]
        ) -> dict[str, object]:
            headers = client.headers.raw  # what a plugin might look at
            raise KeyError(f'no {len(headers)} header')

    manager = PluginManager()
    manager.register(Broken(), name='broken')
    async with Imbi(base_url=raw_server, token=CANARY) as client:
        exc = await _failure(
            Toolkit(client, plugin_manager=manager).create_release(
                'eng', 'p', {'committish': 'abc1234', 'title': 'T'}
            )
        )
    assert isinstance(exc, PluginHookError)
    text = assert_clean(exc)
    # The plugin's local list of raw headers shows, with the token masked.
    assert "(b'authorization', b'[REDACTED]')" in text


def test_ipython_verbose_mode_shows_no_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    globalipapp.start_ipython()
    shell = globalipapp.get_ipython()
    mode = shell.InteractiveTB.mode
    shell.run_line_magic('xmode', 'Verbose')
    shell.user_ns['TOKEN'] = redaction.Secret(CANARY)
    shell.user_ns['PORT'] = _closed_port()
    try:
        shell.run_cell(
            'import asyncio\n'
            'from imbi_toolkit.api import Imbi\n'
            'async def release():\n'
            '    async with Imbi(base_url=f"http://127.0.0.1:{PORT}",'
            ' token=TOKEN) as client:\n'
            '        await client.create_release("eng", "p", {"title": "T"})\n'
            'asyncio.run(release())\n',
            store_history=False,
        )
    finally:
        shell.run_line_magic('xmode', mode)
        shell.user_ns.pop('PORT', None)
        shell.user_ns.pop('TOKEN', None)
    out, err = capsys.readouterr()
    text = out + err
    assert 'ConnectError' in text
    assert 'client = <Imbi' in text or 'self = <Imbi' in text  # locals shown
    assert CANARY not in text
    assert 'TRACE-CANARY' not in text


@contextlib.contextmanager
def _no_socksio() -> abc.Iterator[None]:
    saved = sys.modules.get('socksio')
    sys.modules['socksio'] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if saved is None:
            sys.modules.pop('socksio', None)
        else:
            sys.modules['socksio'] = saved
