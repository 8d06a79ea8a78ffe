"""The client's documented behaviour (the seed), with httpx.MockTransport."""

from __future__ import annotations

import importlib.metadata
import logging

import httpx
import pytest

from imbi_toolkit.api import Imbi

from ..fakes import Script

pytestmark = pytest.mark.usefixtures('recorder')

LOGGER_NAME = 'imbi_toolkit.api._client'


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == LOGGER_NAME and r.levelno >= logging.WARNING
    ]


def test_is_an_async_client() -> None:
    assert issubclass(Imbi, httpx.AsyncClient)


def test_constructor_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        Imbi('http://imbi.test', 'token')  # type: ignore[misc]


async def test_headers_on_every_request(client: Imbi, recorder: Script) -> None:
    await client.get('/organizations/')
    await client.post('/anything', json={})
    version = importlib.metadata.version('imbi-toolkit')
    for request in recorder.requests:
        assert request.headers['authorization'] == 'Bearer t0ken'
        assert request.headers['user-agent'] == f'imbi-toolkit/{version}'


async def test_custom_user_agent(recorder: Script) -> None:
    async with Imbi(
        base_url='http://imbi.test',
        token='t',
        user_agent='gateway/1.0',
        transport=httpx.MockTransport(recorder),
    ) as client:
        await client.get('/status')
    assert recorder.last.headers['user-agent'] == 'gateway/1.0'


async def test_timeout_defaults_to_httpx_default() -> None:
    async with Imbi(base_url='http://imbi.test', token='t') as client:
        assert client.timeout == httpx.Timeout(5.0)
    async with Imbi(base_url='http://imbi.test', token='t', timeout=12.5) as client:
        assert client.timeout == httpx.Timeout(12.5)


async def test_base_url_prefix_is_kept(client: Imbi, recorder: Script) -> None:
    await client.patch_project('eng', 'V1StGXR8_Z5jdHi6B-myT', [])
    assert (
        recorder.last.url.path
        == '/api/organizations/eng/projects/V1StGXR8_Z5jdHi6B-myT'
    )


# patch_project -----------------------------------------------------------------


async def test_patch_project_request(client: Imbi, recorder: Script) -> None:
    ops = [{'op': 'replace', 'path': '/description', 'value': 'x'}]
    response = await client.patch_project('eng', 'p1', iter(ops))
    assert response.status_code == 200
    assert recorder.last.method == 'PATCH'
    assert recorder.last.url.path == '/api/organizations/eng/projects/p1'
    assert recorder.last.headers['content-type'] == 'application/json'
    assert recorder.last_json() == ops


@pytest.mark.parametrize(
    ('body', 'logged'),
    [
        (
            {'json': {'detail': 'Invalid patch: nope'}},
            "{'detail': 'Invalid patch: nope'}",
        ),
        ({'text': 'Internal Server Error'}, "b'Internal Server Error'"),
    ],
)
async def test_patch_project_error_is_logged_and_returned(
    client: Imbi,
    recorder: Script,
    caplog: pytest.LogCaptureFixture,
    body: dict[str, object],
    logged: str,
) -> None:
    recorder.steps = [httpx.Response(400, **body)]  # type: ignore[arg-type]
    response = await client.patch_project('eng', 'p1', [])
    assert response.status_code == 400
    (record,) = _warnings(caplog)
    assert record.levelno == logging.WARNING
    assert logged in record.getMessage()


# create_release ----------------------------------------------------------------


async def test_create_release_request(client: Imbi, recorder: Script) -> None:
    recorder.steps = [httpx.Response(201, json={'id': 'r1'})]
    body = {'committish': 'a1b2c3d', 'title': 'v1.2.3'}
    response = await client.create_release('eng', 'p1', body)
    assert response.status_code == 201
    assert recorder.last.method == 'POST'
    assert recorder.last.url.path == '/api/organizations/eng/projects/p1/releases/'
    assert recorder.last_json() == body


async def test_create_release_conflict_is_not_logged(
    client: Imbi, recorder: Script, caplog: pytest.LogCaptureFixture
) -> None:
    recorder.steps = [httpx.Response(409, json={'detail': 'exists'})]
    response = await client.create_release('eng', 'p1', {'title': 't'})
    assert response.status_code == 409
    assert _warnings(caplog) == []


@pytest.mark.parametrize('status', [400, 404, 422, 500, 503])
async def test_create_release_other_errors_are_logged(
    client: Imbi, recorder: Script, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    recorder.steps = [httpx.Response(status, text='went wrong')]
    response = await client.create_release('eng', 'p1', {'title': 't'})
    assert response.status_code == status
    (record,) = _warnings(caplog)
    assert 'went wrong' in record.getMessage()


# record_deployment -------------------------------------------------------------


async def test_record_deployment_request(client: Imbi, recorder: Script) -> None:
    response = await client.record_deployment(
        'eng', 'p1', 'Uakgb_J5m9g-0JDMbcJqL', 'production', {'status': 'success'}
    )
    assert response.status_code == 200
    assert recorder.last.method == 'POST'
    assert recorder.last.url.path == (
        '/api/organizations/eng/projects/p1/releases/Uakgb_J5m9g-0JDMbcJqL'
        '/environments/production'
    )
    assert recorder.last_json() == {'status': 'success'}


async def test_record_deployment_not_found_is_not_logged(
    client: Imbi, recorder: Script, caplog: pytest.LogCaptureFixture
) -> None:
    recorder.steps = [httpx.Response(404, json={'detail': 'gone'})]
    response = await client.record_deployment('eng', 'p1', 'r', 'prod', {})
    assert response.status_code == 404
    assert _warnings(caplog) == []


@pytest.mark.parametrize('status', [400, 409, 422, 500])
async def test_record_deployment_other_errors_are_logged(
    client: Imbi, recorder: Script, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    recorder.steps = [httpx.Response(status, text='bad env')]
    response = await client.record_deployment('eng', 'p1', 'r', 'prod', {})
    assert response.status_code == status
    (record,) = _warnings(caplog)
    assert 'bad env' in record.getMessage()


# find_user_by_identity ---------------------------------------------------------


async def test_find_user_by_identity_request_and_email(
    client: Imbi, recorder: Script
) -> None:
    recorder.steps = [
        httpx.Response(
            200, json={'email': 'alice@example.com', 'display_name': 'Alice'}
        )
    ]
    assert await client.find_user_by_identity('github', '583231') == 'alice@example.com'
    assert recorder.last.method == 'GET'
    assert recorder.last.url.path == '/api/users/by-identity'
    assert dict(recorder.last.url.params) == {
        'plugin_slug': 'github',
        'subject': '583231',
    }


async def test_find_user_not_found_is_none_and_quiet(
    client: Imbi, recorder: Script, caplog: pytest.LogCaptureFixture
) -> None:
    recorder.steps = [httpx.Response(404, json={'detail': 'no'})]
    assert await client.find_user_by_identity('github', '1') is None
    assert _warnings(caplog) == []


@pytest.mark.parametrize(
    'response',
    [
        httpx.Response(500, text='boom'),
        httpx.Response(403, json={'detail': 'Permission denied: user:read required'}),
        httpx.Response(422, json={'detail': 'something else'}),
    ],
)
async def test_find_user_other_errors_are_none_with_warning(
    client: Imbi,
    recorder: Script,
    caplog: pytest.LogCaptureFixture,
    response: httpx.Response,
) -> None:
    recorder.steps = [response]
    assert await client.find_user_by_identity('github', '1') is None
    (record,) = _warnings(caplog)
    assert 'Failed to look up user' in record.getMessage()
    assert len(recorder.requests) == 1


async def test_find_user_transport_error_is_none_with_warning(
    client: Imbi, recorder: Script, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError('connection refused', request=request)

    recorder.steps = [refuse]
    assert await client.find_user_by_identity('github', '1') is None
    (record,) = _warnings(caplog)
    assert 'connection refused' in record.getMessage()


@pytest.mark.parametrize(
    'response',
    [
        httpx.Response(200, text='<html>not json</html>'),
        httpx.Response(200, json=['alice@example.com']),
        httpx.Response(200, json='alice@example.com'),
    ],
)
async def test_find_user_bad_body_is_none(
    client: Imbi,
    recorder: Script,
    caplog: pytest.LogCaptureFixture,
    response: httpx.Response,
) -> None:
    recorder.steps = [response]
    assert await client.find_user_by_identity('github', '1') is None


async def test_find_user_undecodable_body_warns(
    client: Imbi, recorder: Script, caplog: pytest.LogCaptureFixture
) -> None:
    recorder.steps = [httpx.Response(200, text='not json')]
    assert await client.find_user_by_identity('github', '1') is None
    (record,) = _warnings(caplog)
    assert 'Failed to decode user lookup response' in record.getMessage()


@pytest.mark.parametrize('body', [{'email': ''}, {'email': None}, {}])
async def test_find_user_empty_email_is_none(
    client: Imbi, recorder: Script, body: dict[str, object]
) -> None:
    recorder.steps = [httpx.Response(200, json=body)]
    assert await client.find_user_by_identity('github', '1') is None


def _server(param: str, recorder: Script) -> None:
    """Answer like an API that requires ``param`` (FastAPI's 422 when missing)."""

    def respond(request: httpx.Request) -> httpx.Response:
        if param not in request.url.params:
            detail = [
                {
                    'type': 'missing',
                    'loc': ['query', param],
                    'msg': 'Field required',
                    'input': None,
                }
            ]
            return httpx.Response(422, json={'detail': detail})
        return httpx.Response(200, json={'email': 'alice@example.com'})

    recorder.steps = [respond]


async def test_find_user_on_api_2_12_and_later(
    client: Imbi, recorder: Script, caplog: pytest.LogCaptureFixture
) -> None:
    _server('integration_slug', recorder)
    assert await client.find_user_by_identity('github', '1') == 'alice@example.com'
    assert _warnings(caplog) == []
    # The client remembers: the next lookup is a single request.
    assert await client.find_user_by_identity('github', '2') == 'alice@example.com'
    params = [dict(r.url.params) for r in recorder.requests]
    assert params == [
        {'plugin_slug': 'github', 'subject': '1'},
        {'integration_slug': 'github', 'subject': '1'},
        {'integration_slug': 'github', 'subject': '2'},
    ]


async def test_find_user_on_api_2_11(client: Imbi, recorder: Script) -> None:
    _server('plugin_slug', recorder)
    assert await client.find_user_by_identity('github', '1') == 'alice@example.com'
    assert len(recorder.requests) == 1
