"""A canary token never shows up in reprs, log records or exception text."""

from __future__ import annotations

import logging
import traceback

import httpx
import pytest

from imbi_toolkit.api import Imbi, Settings

from .conftest import Recorder

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
    recorder = Recorder(
        lambda request: httpx.Response(status, text=str(request.headers))
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
