"""Transport settings reach the wire: the proxy gets the requests."""

from __future__ import annotations

import socketserver
import threading
import typing
from collections import abc

import pytest

from imbi_toolkit.api import Imbi, Settings


class _Proxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.received: list[bytes] = []
        super().__init__(('127.0.0.1', 0), _ProxyHandler)


class _ProxyHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        data = b''
        while b'\r\n\r\n' not in data:
            chunk = self.request.recv(65536)
            if not chunk:
                break
            data += chunk
        typing.cast(_Proxy, self.server).received.append(data)
        self.wfile.write(
            b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]'
        )


@pytest.fixture
def proxy() -> abc.Iterator[_Proxy]:
    server = _Proxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


async def test_proxy_setting_routes_requests(
    proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = proxy.server_address[1]
    monkeypatch.setenv('IMBI_CLIENT_API_BASE_URL', 'http://imbi.invalid/api')
    monkeypatch.setenv('IMBI_CLIENT_API_TOKEN', 'proxy-test-token')
    monkeypatch.setenv('IMBI_CLIENT_PROXY', f'http://user:pr0xy-pass@127.0.0.1:{port}')
    settings = Settings()
    async with Imbi.from_settings(settings) as client:
        assert 'pr0xy-pass' not in repr(client)
        response = await client.get('/organizations/')
    assert response.status_code == 200
    (request,) = proxy.received
    # An HTTP proxy gets the absolute URL and its own credentials.
    assert request.startswith(b'GET http://imbi.invalid/api/organizations/ HTTP/1.1')
    assert b'proxy-authorization: basic ' in request.lower()
