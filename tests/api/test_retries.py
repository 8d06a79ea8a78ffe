"""The retry policy per operation, with MockTransport edge cases."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from imbi_toolkit.api import Imbi, Settings, errors, retries
from imbi_toolkit.operations import Toolkit
from imbi_toolkit.plugins import PluginManager

from ..fakes import FAST, Script

RELEASE = {
    'id': 'R' * 21,
    'committish': 'abc1234',
    'tag': '1.0.0',
    'title': 'v1',
}


def _client(script: Script, max_retries: int = 3) -> Imbi:
    return Imbi(
        base_url='http://imbi.test/api',
        token='t0ken-value',
        transport=httpx.MockTransport(script),
        max_retries=max_retries,
        retry_policy=FAST,
    )


def _status(code: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(code, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize('status', [429, 502, 503, 504])
async def test_reads_retry_listed_statuses(status: int) -> None:
    script = Script([_status(status), _status(200, json={'ok': 1})])
    async with _client(script) as client:
        response = await client.get('/organizations/')
    assert response.status_code == 200
    assert len(script.requests) == 2


@pytest.mark.parametrize('status', [400, 401, 403, 404, 409, 422, 500])
async def test_reads_do_not_retry_other_statuses(status: int) -> None:
    script = Script([_status(status), _status(200)])
    async with _client(script) as client:
        response = await client.get('/organizations/')
    assert response.status_code == status
    assert len(script.requests) == 1


async def test_retries_are_bounded_and_last_response_is_returned() -> None:
    script = Script([_status(503, json={'detail': 'Plugin timed out'})])
    async with _client(script, max_retries=2) as client:
        response = await client.get('/organizations/')
    assert response.status_code == 503
    assert response.json() == {'detail': 'Plugin timed out'}
    assert len(script.requests) == 3


async def test_direct_construction_sends_once() -> None:
    script = Script([_status(503), _status(200)])
    async with Imbi(
        base_url='http://imbi.test', token='t', transport=httpx.MockTransport(script)
    ) as client:
        assert client.retry_policy.max_retries == 0
        response = await client.get('/organizations/')
    assert response.status_code == 503
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    'exc',
    [
        httpx.ConnectError('refused'),
        httpx.ConnectTimeout('slow'),
        httpx.ReadError('reset'),
        httpx.ReadTimeout('slow'),
        httpx.RemoteProtocolError('gone'),
    ],
)
async def test_reads_retry_transport_errors(exc: Exception) -> None:
    script = Script([exc, _status(200, json=[])])
    async with _client(script) as client:
        response = await client.get('/organizations/')
    assert response.status_code == 200
    assert len(script.requests) == 2


async def test_transport_error_raised_after_last_retry() -> None:
    script = Script([httpx.ConnectError('refused')])
    async with _client(script, max_retries=2) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get('/organizations/')
    assert len(script.requests) == 3


# -- record_deployment: the server appends an event per POST ----------------


@pytest.mark.parametrize(
    'exc', [httpx.ReadError('reset'), httpx.ReadTimeout('slow'), httpx.WriteError('x')]
)
async def test_deployment_not_retried_once_sent(exc: Exception) -> None:
    script = Script([exc, _status(200, json={})])
    async with _client(script) as client:
        with pytest.raises(type(exc)):
            await client.record_deployment('eng', 'p1', 'r1', 'prod', {'status': 'x'})
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    'exc',
    [
        httpx.ConnectError('refused'),
        httpx.ConnectTimeout('slow'),
        httpx.PoolTimeout('busy'),
    ],
)
async def test_deployment_retried_when_never_sent(exc: Exception) -> None:
    script = Script([exc, _status(200, json={'current_status': 'success'})])
    async with _client(script) as client:
        response = await client.record_deployment(
            'eng', 'p1', 'r1', 'prod', {'status': 'success'}
        )
    assert response.status_code == 200
    assert len(script.requests) == 2


@pytest.mark.parametrize('status', [429, 502, 503, 504])
async def test_deployment_statuses_not_retried(status: int) -> None:
    script = Script([_status(status), _status(200)])
    async with _client(script) as client:
        response = await client.record_deployment(
            'eng', 'p1', 'r1', 'prod', {'status': 'success'}
        )
    assert response.status_code == status
    assert len(script.requests) == 1


# -- create_release: a repeat that meets 409 means it worked ---------------


async def test_create_release_retried_and_conflict_resolved() -> None:
    def lookup(request: httpx.Request) -> httpx.Response:
        assert request.method == 'GET'
        # By tag alone: the key of the 409 from API 2.26 on.
        assert dict(request.url.params) == {'tag': '1.0.0'}
        return httpx.Response(200, json=[RELEASE])

    script = Script(
        [
            httpx.ReadTimeout('plugin enrichment took too long'),
            _status(409, json={'detail': 'Release already exists'}),
            lookup,
        ]
    )
    async with _client(script) as client:
        release = await Toolkit(client, plugin_manager=PluginManager()).create_release(
            'eng', 'p1', {'committish': 'abc1234', 'title': 'v1', 'tag': '1.0.0'}
        )
    assert release == RELEASE
    assert [r.method for r in script.requests] == ['POST', 'POST', 'GET']


async def test_conflict_is_not_retried() -> None:
    script = Script([_status(409, json={'detail': 'exists'})])
    async with _client(script) as client:
        response = await client.create_release('eng', 'p1', {'committish': 'abc1234'})
    assert response.status_code == 409
    assert len(script.requests) == 1


# -- PATCH: only when applying it twice cannot change the result -----------


@pytest.mark.parametrize(
    'patch',
    [
        [{'op': 'add', 'path': '/project_type_slugs/-', 'value': 'x'}],
        # A test of another path does not make an append safe.
        [
            {'op': 'test', 'path': '/name', 'value': 'n'},
            {'op': 'add', 'path': '/project_type_slugs/0', 'value': 'x'},
        ],
        [{'op': 'remove', 'path': '/project_type_slugs/0'}],
    ],
)
async def test_patch_that_is_not_replay_safe_is_not_retried(
    patch: list[dict[str, object]],
) -> None:
    script = Script([_status(503), _status(200, json={})])
    async with _client(script) as client:
        response = await client.patch_project('eng', 'p1', patch)
    assert response.status_code == 503
    assert len(script.requests) == 1


async def test_plain_replace_is_retried() -> None:
    # Setting a value twice leaves the same value.
    script = Script([_status(503), _status(200, json={})])
    patch = [{'op': 'replace', 'path': '/description', 'value': 'x'}]
    async with _client(script) as client:
        response = await client.patch_project('eng', 'p1', patch)
    assert response.status_code == 200
    assert len(script.requests) == 2


async def test_patch_with_test_op_retried() -> None:
    script = Script([httpx.ReadError('reset'), _status(503), _status(200, json={})])
    patch = [
        {'op': 'test', 'path': '/description', 'value': 'old'},
        {'op': 'replace', 'path': '/description', 'value': 'new'},
    ]
    async with _client(script) as client:
        response = await client.patch_project('eng', 'p1', patch)
    assert response.status_code == 200
    assert len(script.requests) == 3
    assert script.bodies()[0] == script.bodies()[2] == patch


async def test_streaming_body_is_not_replayed() -> None:
    async def body():  # type: ignore[no-untyped-def]
        yield b'{}'

    script = Script([_status(503), _status(200)])
    async with _client(script) as client:
        response = await client.put('/x', content=body())
    assert response.status_code == 503
    assert len(script.requests) == 1


# -- timing ------------------------------------------------------------------


def _delays(caplog: pytest.LogCaptureFixture) -> list[float]:
    return [
        float(match.group(1))
        for record in caplog.records
        if (match := re.search(r'in (\d+\.\d+) s', record.getMessage()))
    ]


async def test_retry_after_is_honoured_and_capped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger='imbi_toolkit')
    policy = retries.RetryPolicy(backoff=0.001, max_backoff=0.001, max_retry_after=0.2)
    script = Script(
        [
            _status(503, headers={'retry-after': '0.03'}),
            _status(429, headers={'retry-after': '120'}),
            _status(200),
        ]
    )
    async with Imbi(
        base_url='http://imbi.test',
        token='tok-en',
        transport=httpx.MockTransport(script),
        max_retries=3,
        retry_policy=policy,
    ) as client:
        await client.get('/organizations/')
    assert _delays(caplog) == [0.03, 0.2]
    for record in caplog.records:
        assert record.levelno == logging.INFO


def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    policy = retries.RetryPolicy(backoff=1.0, max_backoff=5.0, jitter=0.25)
    for attempt, full in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)]:
        delays = {policy.delay(attempt) for _ in range(50)}
        assert all(0.75 * full <= d <= full for d in delays)
        assert len(delays) > 1


def test_policy_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match='max_retries'):
        retries.RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError, match='jitter'):
        retries.RetryPolicy(jitter=2)


# -- settings ----------------------------------------------------------------


async def test_from_settings_uses_interactive_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv('IMBI_CLIENT_API_TOKEN', 'tok')
    monkeypatch.setenv('IMBI_CLIENT_API_BASE_URL', 'http://imbi.test/api')
    settings = Settings()
    assert settings.max_retries == 3
    async with Imbi.from_settings(settings) as client:
        assert client.retry_policy.max_retries == 3
        assert client.timeout == httpx.Timeout(30.0, connect=5.0)
        assert client.timeout.read is not None and client.timeout.read > 10


async def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('IMBI_CLIENT_API_TOKEN', 'tok')
    monkeypatch.setenv('IMBI_CLIENT_MAX_RETRIES', '0')
    monkeypatch.setenv('IMBI_CLIENT_TIMEOUT', '60')
    monkeypatch.setenv('IMBI_CLIENT_CONNECT_TIMEOUT', '2.5')
    monkeypatch.setenv('IMBI_CLIENT_VERIFY', 'false')
    monkeypatch.setenv('IMBI_CLIENT_PROXY', 'http://user:proxy-pass@proxy.test:3128')
    settings = Settings()
    assert 'proxy-pass' not in repr(settings)
    async with Imbi.from_settings(settings) as client:
        assert client.retry_policy.max_retries == 0
        assert client.timeout == httpx.Timeout(60.0, connect=2.5)


def test_settings_refuse_contradicting_tls(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    import pathlib

    bundle = pathlib.Path(str(tmp_path)) / 'ca.pem'
    bundle.write_text('')
    monkeypatch.setenv('IMBI_CLIENT_API_TOKEN', 'tok')
    monkeypatch.setenv('IMBI_CLIENT_VERIFY', 'false')
    monkeypatch.setenv('IMBI_CLIENT_CA_BUNDLE', str(bundle))
    with pytest.raises(ValueError, match='contradict'):
        Settings()


def test_bad_ca_bundle_is_a_clear_error(tmp_path: object) -> None:
    with pytest.raises(ValueError, match=r'missing\.pem.*PEM file'):
        Imbi(
            base_url='http://imbi.test', token='t', ca_bundle=f'{tmp_path}/missing.pem'
        )


async def test_typed_errors_from_helpers() -> None:
    script = Script([httpx.ConnectError('refused')])
    async with _client(script, max_retries=1) as client:
        with pytest.raises(errors.ImbiConnectionError) as excinfo:
            await client.find_release('eng', 'p1', tag='1.0.0')
    assert excinfo.value.sent is False
    assert len(script.requests) == 2
