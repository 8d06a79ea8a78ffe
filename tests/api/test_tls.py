"""HTTPS against a local TLS server: certificate checks with both backends.

The server's certificate comes from a throwaway local CA (`trustme`), so the
default trust store (certifi) must refuse it, and a client told to trust
that CA (`ca_bundle=`, `verify=` a context) must accept it.
"""

from __future__ import annotations

import pathlib
import ssl
import typing
from collections import abc

import httpx
import pytest
import trustme

from imbi_toolkit.api import Imbi

from .servers import serve_in_thread

BACKENDS = ('httpcore', 'aiohttp')
TOKEN = 'tok-tls-5f1e0c'


async def app(
    scope: dict[str, typing.Any], receive: typing.Any, send: typing.Any
) -> None:
    if scope['type'] != 'http':
        return
    body = b'{"email": "someone@example.com"}'
    headers = [(b'content-type', b'application/json'), (b'content-length', b'32')]
    await send({'type': 'http.response.start', 'status': 200, 'headers': headers})
    await send({'type': 'http.response.body', 'body': body})


@pytest.fixture(scope='module')
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope='module')
def https_url(
    authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> abc.Iterator[str]:
    """A uvicorn HTTPS server for 127.0.0.1, in a thread of its own."""
    folder = tmp_path_factory.mktemp('tls')
    certificate = authority.issue_cert('127.0.0.1')
    cert_file, key_file = folder / 'server.pem', folder / 'server.key'
    certificate.cert_chain_pems[0].write_to_path(str(cert_file))
    certificate.private_key_pem.write_to_path(str(key_file))
    with serve_in_thread(
        app,
        log_level='critical',  # the refused handshakes are expected
        ssl_certfile=str(cert_file),
        ssl_keyfile=str(key_file),
    ) as port:
        yield f'https://127.0.0.1:{port}'


@pytest.fixture(scope='module')
def ca_bundle(
    authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> pathlib.Path:
    path = tmp_path_factory.mktemp('ca') / 'ca.pem'
    authority.cert_pem.write_to_path(str(path))
    return path


@pytest.mark.parametrize('backend', BACKENDS)
async def test_the_default_trust_store_refuses_an_unknown_authority(
    https_url: str, backend: typing.Literal['httpcore', 'aiohttp']
) -> None:
    async with Imbi(base_url=https_url, token=TOKEN, http_backend=backend) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get('/users/me')
    assert 'CERTIFICATE_VERIFY_FAILED' in str(caught.value)


@pytest.mark.parametrize('backend', BACKENDS)
async def test_a_ca_bundle_is_trusted(
    https_url: str,
    ca_bundle: pathlib.Path,
    backend: typing.Literal['httpcore', 'aiohttp'],
) -> None:
    async with Imbi(
        base_url=https_url, token=TOKEN, ca_bundle=ca_bundle, http_backend=backend
    ) as client:
        email = await client.find_user_by_identity('github', 'someone')
        response = await client.get('/users/me')
    assert email == 'someone@example.com'
    assert response.status_code == 200


@pytest.mark.parametrize('backend', BACKENDS)
async def test_verification_can_be_turned_off_or_given_a_context(
    https_url: str,
    authority: trustme.CA,
    backend: typing.Literal['httpcore', 'aiohttp'],
) -> None:
    context = ssl.create_default_context()
    authority.configure_trust(context)
    for verify in (False, context):
        async with Imbi(
            base_url=https_url, token=TOKEN, verify=verify, http_backend=backend
        ) as client:
            assert (await client.get('/users/me')).status_code == 200
