"""Typed errors: one class per status, the server's detail, no secrets."""

from __future__ import annotations

import httpx
import pytest

from imbi_toolkit.api import errors

URL = 'http://user:pw@imbi.test/api/organizations/eng/projects/p1?token=s3cret'


def _response(status: int, **kwargs: object) -> httpx.Response:
    request = httpx.Request('PATCH', URL)
    return httpx.Response(status, request=request, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ('status', 'cls'),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (422, errors.UnprocessableEntityError),
        (429, errors.RateLimitedError),
        (500, errors.ServerError),
        (502, errors.ServerError),
        (503, errors.ServerError),
        (504, errors.ServerError),
        (307, errors.UnexpectedRedirectError),
        (418, errors.ImbiStatusError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[errors.ImbiStatusError]) -> None:
    with pytest.raises(cls) as excinfo:
        errors.raise_for_status(_response(status, json={'detail': 'nope'}))
    error = excinfo.value
    assert type(error) is cls
    assert isinstance(error, errors.ImbiError)
    assert error.status == status
    assert error.method == 'PATCH'
    assert 'pw' not in error.url
    assert 's3cret' not in error.url
    assert 'user' not in error.url


def test_success_returns_the_response() -> None:
    response = _response(200, json={})
    assert errors.raise_for_status(response) is response


def test_string_detail_renders_in_one_line() -> None:
    response = _response(404, json={'detail': "Project 'p1' not found"})
    error = errors.from_response(response)
    assert error.detail == "Project 'p1' not found"
    text = str(error)
    assert text.startswith('404 Not Found from PATCH http://imbi.test/api/')
    assert text.endswith(": Project 'p1' not found")
    assert '\n' not in text
    assert error._render_traceback_() == [f'NotFoundError: {text}']


def test_fastapi_list_detail() -> None:
    detail = [
        {
            'type': 'literal_error',
            'loc': ['body', 0, 'op'],
            'msg': "Input should be 'add', 'remove'",
            'input': 'bogus',
        },
        {
            'type': 'missing',
            'loc': ['query', 'integration_slug'],
            'msg': 'Field required',
        },
    ]
    error = errors.from_response(_response(422, json={'detail': detail}))
    assert error.detail == detail
    assert error.detail_text == (
        "body.0.op: Input should be 'add', 'remove' (literal_error); "
        'query.integration_slug: Field required (missing)'
    )
    assert error.detail_text in str(error)


def test_patch_test_failure_is_recognised() -> None:
    error = errors.from_response(
        _response(422, json={'detail': 'Patch test operation failed: not equal'})
    )
    assert isinstance(error, errors.UnprocessableEntityError)
    assert error.test_failed


def test_rate_limit_uses_error_key_and_retry_after() -> None:
    response = _response(
        429,
        json={'error': 'Rate limit exceeded: 10 per 1 minute'},
        headers={'retry-after': '7'},
    )
    error = errors.from_response(response)
    assert isinstance(error, errors.RateLimitedError)
    assert error.detail == 'Rate limit exceeded: 10 per 1 minute'
    assert error.retry_after == 7.0


def test_plain_text_500() -> None:
    error = errors.from_response(
        _response(500, text='Internal Server Error', headers={'x-request-id': 'r1'})
    )
    assert error.detail == 'Internal Server Error'
    assert error.request_id == 'r1'
    assert str(error).endswith(': Internal Server Error')


def test_huge_body_is_truncated() -> None:
    error = errors.from_response(_response(502, text='<html>' + 'x' * 10_000))
    assert len(str(error)) < 700


def test_empty_body_has_no_detail() -> None:
    error = errors.from_response(_response(503))
    assert error.detail is None
    assert str(error) == (
        '503 Service Unavailable from PATCH '
        'http://imbi.test/api/organizations/eng/projects/p1?token=[REDACTED]'
    )


def test_redirect_names_location_without_credentials() -> None:
    response = _response(307, headers={'location': 'http://u:p@other.test/x'})
    error = errors.from_response(response)
    assert isinstance(error, errors.UnexpectedRedirectError)
    assert error.location == 'http://other.test/x'
    assert 'not followed' in str(error)


def test_secret_echoed_by_server_is_redacted() -> None:
    response = _response(401, json={'detail': 'Bearer abc.def.ghi is not valid'})
    text = str(errors.from_response(response))
    assert 'abc.def.ghi' not in text


@pytest.mark.parametrize(
    ('value', 'expected'),
    [('5', 5.0), ('0.5', 0.5), ('-3', 0.0), ('soon', None), (None, None), ('', None)],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert errors.parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    parsed = errors.parse_retry_after('Wed, 21 Oct 2015 07:28:00 GMT')
    assert parsed == 0.0  # in the past


@pytest.mark.parametrize(
    ('exc', 'cls', 'sent'),
    [
        (httpx.ConnectError('refused'), errors.ImbiConnectionError, False),
        (httpx.ConnectTimeout('slow'), errors.ImbiTimeoutError, False),
        (httpx.PoolTimeout('busy'), errors.ImbiTimeoutError, False),
        (httpx.ReadTimeout('slow'), errors.ImbiTimeoutError, None),
        (httpx.ReadError('reset'), errors.ImbiConnectionError, None),
        (httpx.RemoteProtocolError('gone'), errors.ImbiConnectionError, None),
    ],
)
def test_transport_errors(
    exc: httpx.TransportError, cls: type[errors.ImbiTransportError], sent: bool | None
) -> None:
    exc.request = httpx.Request('POST', URL)
    with pytest.raises(cls) as excinfo, errors.translate():
        raise exc
    error = excinfo.value
    assert error.sent is sent
    assert error.method == 'POST'
    assert 'pw' not in str(error)
    assert 's3cret' not in str(error)
    assert type(exc).__name__ in str(error)
    if sent is None:
        assert 'may have received' in str(error) or 'timed out' in str(error)


def test_object_detail_is_kept_and_rendered_in_one_line() -> None:
    # API 2.31+: 403 app_not_installed, 503 no_service_credential...
    detail = {
        'error': 'app_not_installed',
        'message': 'The GitHub App is not installed on example/billing-api',
        'owner_repo': 'example/billing-api',
        'integration_slug': 'github',
    }
    error = errors.from_response(_response(403, json={'detail': detail}))
    assert isinstance(error, errors.PermissionDeniedError)
    assert error.detail == detail
    assert error.detail_text == (
        'The GitHub App is not installed on example/billing-api (app_not_installed)'
        ' [owner_repo=example/billing-api, integration_slug=github]'
    )
    assert '\n' not in str(error) and 'app_not_installed' in str(error)
