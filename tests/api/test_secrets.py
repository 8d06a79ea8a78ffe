"""A canary token never shows up in reprs, log records or exception text."""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import pickle
import sys
import traceback
import typing

import httpx
import pydantic
import pytest

from imbi_toolkit.api import Imbi, Settings, errors
from imbi_toolkit.api import _redaction as redaction
from imbi_toolkit.sandbox import SandboxProcess

from ..fakes import Script

pytestmark = pytest.mark.attack('tokens')

CANARY = 'ik_0123456789abcdef0123456789abcdef_CANARY-s3cr3t'


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # root: ours, httpx's and httpcore's
    return caplog


def _assert_clean(text: str) -> None:
    assert CANARY not in text
    assert 'CANARY' not in text


def test_reprs_hide_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('IMBI_CLIENT_API_TOKEN', CANARY)
    settings = Settings()
    client = Imbi(base_url='http://imbi.test/api', token=CANARY)
    for text in (
        repr(client),
        str(client),
        repr(settings),
        str(settings),
        repr(client.headers),
        repr(settings.model_dump()),
    ):
        _assert_clean(text)
    assert repr(client) == "<Imbi base_url='http://imbi.test/api/'>"


@pytest.mark.parametrize('status', [200, 400, 404, 409, 422, 500])
async def test_logs_at_debug_hold_no_token(
    debug_logs: pytest.LogCaptureFixture, status: int
) -> None:
    recorder = Script(
        [lambda request: httpx.Response(status, text=str(request.headers))]
    )
    async with Imbi(
        base_url='http://imbi.test',
        token=CANARY,
        transport=httpx.MockTransport(recorder),
    ) as client:
        await client.patch_project('eng', 'p', [])
        await client.create_release('eng', 'p', {})
        await client.record_deployment('eng', 'p', 'r', 'prod', {})
        await client.find_user_by_identity('github', '1')
    assert recorder.requests[0].headers['authorization'] == f'Bearer {CANARY}'
    for record in debug_logs.records:
        _assert_clean(record.getMessage())


async def test_real_socket_logs_hold_no_token(
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    # A closed port on loopback: httpcore's DEBUG trace runs for real.
    async with Imbi(base_url='http://127.0.0.1:9', token=CANARY) as client:
        assert await client.find_user_by_identity('github', '1') is None
        with pytest.raises(httpx.ConnectError) as excinfo:
            await client.create_release('eng', 'p', {})
    _assert_clean(''.join(traceback.format_exception(excinfo.value)))
    assert debug_logs.records
    for record in debug_logs.records:
        _assert_clean(record.getMessage())


@pytest.mark.parametrize(
    'token', ['', '   ', f'{CANARY}\n', f'{CANARY} extra', f'{CANARY}\x00', 'tökén']
)
def test_bad_tokens_are_refused_without_echo(token: str) -> None:
    with pytest.raises(ValueError, match='token') as excinfo:
        Imbi(base_url='http://imbi.test', token=token)
    _assert_clean(str(excinfo.value))
    if token.strip():
        assert token.strip() not in str(excinfo.value)


# The token lives only in objects whose repr, str and pickle mask it.


def test_the_token_is_held_masked() -> None:
    client = Imbi(base_url='http://imbi.test', token=CANARY)
    raw = client.headers.raw
    for text in (repr(raw), str(raw), repr(pickle.dumps(raw)), repr(vars(client))):
        _assert_clean(text)
    request = client.build_request('POST', '/x', json={'a': 1})
    _assert_clean(repr(request.headers.raw))
    _assert_clean(repr(pickle.dumps(request.headers.raw)))
    # What is sent is the token itself.
    assert request.headers['authorization'] == f'Bearer {CANARY}'
    held = redaction.Secret(CANARY)
    assert repr(held) == str(held) == "Secret('[REDACTED]')"
    assert pickle.loads(pickle.dumps(held)).reveal() == '[REDACTED]'


@pytest.mark.parametrize('kind', ['Secret', 'SecretStr'])
async def test_a_token_holder_is_accepted(kind: str) -> None:
    holder: typing.Any = (
        redaction.Secret(CANARY) if kind == 'Secret' else pydantic.SecretStr(CANARY)
    )
    recorder = Script()
    async with Imbi(
        base_url='http://imbi.test',
        token=holder,
        transport=httpx.MockTransport(recorder),
    ) as client:
        await client.get('/x')
    assert recorder.last.headers['authorization'] == f'Bearer {CANARY}'


@pytest.mark.parametrize(
    'url', ['http://user:pw-s3cr3t@imbi.test/api', 'http://token-s3cr3t@imbi.test']
)
def test_credentials_in_the_base_url_are_refused(url: str) -> None:
    # httpx would send them as Basic authentication instead of the token.
    with pytest.raises(ValueError, match='must not contain credentials') as excinfo:
        Imbi(base_url=url, token=CANARY)
    assert 's3cr3t' not in str(excinfo.value)


def test_a_socks_proxy_without_socksio_is_a_one_line_value_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, 'socksio', None)  # not installed
    with pytest.raises(ValueError, match=r"pip install 'httpx\[socks\]'") as excinfo:
        Imbi(
            base_url='http://imbi.test',
            token=CANARY,
            proxy='socks5://user:proxy-s3cr3t@127.0.0.1:1080',
        )
    message = str(excinfo.value)
    assert message == (
        'proxy socks5://127.0.0.1:1080 is a SOCKS proxy, which needs the socksio '
        "package: pip install 'httpx[socks]'"
    )
    assert excinfo.value.__suppress_context__
    _assert_clean(
        ''.join(
            traceback.TracebackException.from_exception(
                excinfo.value, capture_locals=True
            ).format()
        )
    )


def test_settings_mask_url_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('IMBI_CLIENT_API_TOKEN', CANARY)
    monkeypatch.setenv('IMBI_CLIENT_API_BASE_URL', 'http://u:base-s3cr3t@imbi.test')
    monkeypatch.setenv('IMBI_CLIENT_PROXY', 'http://p:proxy-s3cr3t@proxy.test:3128')
    settings = Settings()
    for text in (
        repr(settings),
        str(settings),
        repr(settings.model_dump()),
        repr(settings.model_dump(mode='python')),
        settings.model_dump_json(),
    ):
        _assert_clean(text)
        assert 's3cr3t' not in text
    assert settings.model_dump()['api_base_url'] == 'http://***@imbi.test/'
    assert settings.model_dump()['proxy'] == 'http://***@proxy.test:3128'
    # The attributes keep the values the client needs.
    assert settings.proxy == 'http://p:proxy-s3cr3t@proxy.test:3128'
    assert settings.api_base_url.password == 'base-s3cr3t'


def _raise_status_error(token: str) -> None:
    client = Imbi(base_url='http://imbi.test', token=token)
    request = client.build_request('GET', '/organizations/')
    response = httpx.Response(
        401, json={'detail': f'bad token Bearer {token}'}, request=request
    )
    errors.raise_for_status(response)


def test_typed_errors_pickle_without_the_token() -> None:
    with pytest.raises(errors.AuthenticationError) as excinfo:
        _raise_status_error(CANARY)
    data = pickle.dumps(excinfo.value)
    assert CANARY.encode() not in data
    assert b'CANARY' not in data
    copy = pickle.loads(data)
    assert type(copy) is errors.AuthenticationError
    assert str(copy) == str(excinfo.value)
    assert (copy.status, copy.method, copy.url) == (
        401,
        'GET',
        'http://imbi.test/organizations/',
    )
    assert copy.response is None
    assert copy.detail == 'bad token Bearer [REDACTED]'
    for error in (
        errors.ImbiTimeoutError('GET x timed out', method='GET', url='x', sent=False),
        errors.ReleaseNotFoundError('no release v1', method='GET', url='x'),
        errors.ImbiError('plain'),
        errors.ReleaseMismatchError('v1 is abc', release={'id': 'r1', 'tag': 'v1'}),
        errors.UnexpectedResponseError(
            'not JSON', method='GET', url='x', status=200, content_type='text/html'
        ),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), str(copy), vars(copy)) == (
            type(error),
            str(error),
            vars(error),
        )


def test_typed_errors_cross_a_process_pool() -> None:
    context = multiprocessing.get_context('spawn')
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        future = pool.submit(_raise_status_error, CANARY)
        with pytest.raises(errors.AuthenticationError) as excinfo:
            future.result(timeout=60)
    assert excinfo.value.status == 401
    text = ''.join(traceback.format_exception(excinfo.value))
    assert '401 Unauthorized from GET http://imbi.test/organizations/' in text
    _assert_clean(text)


@pytest.mark.parametrize(
    'url', ['http://user:pw-s3cr3t@imbi.test/api', 'http://token-s3cr3t@imbi.test']
)
async def test_credentials_in_a_base_url_assigned_later_are_refused(
    imbi_sandbox: SandboxProcess, url: str
) -> None:
    async with Imbi(base_url=imbi_sandbox.base_url, token=imbi_sandbox.token) as client:
        with pytest.raises(ValueError, match='must not contain credentials') as excinfo:
            client.base_url = url
        assert 's3cr3t' not in str(excinfo.value)
        # Nothing changed: requests still go to the sandbox, with the token.
        assert str(client.base_url).rstrip('/') == imbi_sandbox.base_url.rstrip('/')
        assert (await client.get_me())['email'] == 'admin@example.com'


async def test_a_base_url_assigned_later_is_used(imbi_sandbox: SandboxProcess) -> None:
    async with Imbi(base_url='http://127.0.0.1:9/', token=imbi_sandbox.token) as client:
        client.base_url = imbi_sandbox.base_url
        assert (await client.get_me())['email'] == 'admin@example.com'
