"""Transport settings reach the wire: the proxy gets the requests."""

from __future__ import annotations

import pytest

from imbi_toolkit.api import Imbi, Settings

from ..fakes import CaptureServer


async def test_proxy_setting_routes_requests(
    capture_server: CaptureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = capture_server.server_address[1]
    monkeypatch.setenv('IMBI_CLIENT_API_BASE_URL', 'http://imbi.invalid/api')
    monkeypatch.setenv('IMBI_CLIENT_API_TOKEN', 'proxy-test-token')
    monkeypatch.setenv('IMBI_CLIENT_PROXY', f'http://user:pr0xy-pass@127.0.0.1:{port}')
    settings = Settings()
    async with Imbi.from_settings(settings) as client:
        assert 'pr0xy-pass' not in repr(client)
        response = await client.get('/organizations/')
    assert response.status_code == 200
    (request,) = capture_server.received
    # An HTTP proxy gets the absolute URL and its own credentials.
    assert request.startswith(b'GET http://imbi.invalid/api/organizations/ HTTP/1.1')
    assert b'proxy-authorization: basic ' in request.lower()
