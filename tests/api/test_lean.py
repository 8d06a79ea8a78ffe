"""`LeanAsyncClient` does less work per request and behaves like httpx."""

from __future__ import annotations

import logging
import os
import typing

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from imbi_toolkit.api import Imbi
from imbi_toolkit.api import _lean as lean
from imbi_toolkit.api._lean import LeanAsyncClient, LeanCookies
from imbi_toolkit.testing import SandboxProcess

BASES = [
    'http://127.0.0.1:8000',
    'http://imbi.test/api',
    'https://imbi.example:8443/a%20b/v2/',
    'http://[::1]:8080/x',
    'http://user:pw@imbi.test/api',
]
# Imbi refuses credentials in its base URL (test_secrets.py): the lean path
# for them is covered by LeanAsyncClient and by assigning `base_url` later.
IMBI_BASES = [base for base in BASES if '@' not in base]

# Paths as the helpers build them, and odd ones: escapes, spaces, non-ASCII,
# queries, fragments, dot segments, doubled slashes.
path_text = st.text(
    alphabet=st.sampled_from(list('abz09-._~/%?&=#:@!$ üé+,;[]')), max_size=30
)


@pytest.mark.parametrize('base', BASES)
def test_url_join_matches_httpx(base: str) -> None:
    # Building a client costs ~16 ms (its TLS context): one pair per base.
    lean = LeanAsyncClient(base_url=base)
    plain = httpx.AsyncClient(base_url=base)
    check_join = given(tail=path_text)(_check_join)
    check_join(lean, plain)


def _check_join(lean: httpx.AsyncClient, plain: httpx.AsyncClient, tail: str) -> None:
    url = '/' + tail
    try:
        expected = plain._merge_url(url)
    except httpx.InvalidURL:
        with pytest.raises(httpx.InvalidURL):
            lean._merge_url(url)
        return
    joined = lean._merge_url(url)
    assert joined == expected
    assert joined.raw_path == expected.raw_path


def test_url_join_follows_a_new_base_url() -> None:
    client = LeanAsyncClient(base_url='http://one.test/api')
    assert str(client._merge_url('/x')) == 'http://one.test/api/x'
    client.base_url = 'http://two.test/v2'  # type: ignore[assignment]
    assert str(client._merge_url('/x')) == 'http://two.test/v2/x'


def _response(headers: list[tuple[str, str]]) -> httpx.Response:
    request = httpx.Request('GET', 'http://imbi.test/api/x')
    return httpx.Response(200, headers=headers, request=request)


def test_cookies_are_still_stored_and_sent() -> None:
    cookies = LeanCookies()
    cookies.extract_cookies(_response([('content-type', 'application/json')]))
    assert not cookies
    cookies.extract_cookies(_response([('Set-Cookie', 'session=abc; Path=/')]))
    assert cookies['session'] == 'abc'


@pytest.mark.lean
async def test_client_cookies_assign_and_merge() -> None:
    async with Imbi(base_url='http://imbi.test', token='t0ken') as client:
        assert isinstance(client.cookies, LeanCookies)
        client.cookies = {'a': '1'}  # type: ignore[assignment]
        assert isinstance(client.cookies, LeanCookies)
        request = client.build_request('GET', '/x')
    assert request.headers['cookie'] == 'a=1'
    assert LeanAsyncClient(cookies={'b': '2'}).cookies['b'] == '2'


# Requests as the helpers build them and others that must take httpx's own
# path: every one must come out exactly as httpx builds it.
BODIES: list[object] = [None, {}, [], {'a': 1, 'ü': ['x', None, 1.5, True]}, 'text']
METHODS = ['GET', 'post', 'PATCH', 'PUT', 'DELETE', 'HEAD']


def _same_request(a: httpx.Request, b: httpx.Request) -> None:
    assert a.method == b.method
    assert a.url == b.url
    assert a.url.raw_path == b.url.raw_path
    assert a.headers.raw == b.headers.raw
    assert a.content == b.content
    assert a.extensions == b.extensions
    assert type(a.stream) is type(b.stream)


@pytest.mark.parametrize('base', IMBI_BASES)
def test_requests_match_httpx(base: str) -> None:
    lean = Imbi(base_url=base, token='t0ken')
    plain = httpx.AsyncClient.build_request
    for method in METHODS:
        for body in BODIES:
            for extensions in (None, {'imbi_retry': 'idempotent'}):
                for url in (
                    '/organizations/eng/projects/p1',
                    '/x/./y',
                    '/a b',
                    '/x?q=1',
                ):
                    _same_request(
                        lean.build_request(
                            method, url, json=body, extensions=extensions
                        ),
                        plain(lean, method, url, json=body, extensions=extensions),
                    )


@given(tail=path_text, body=st.sampled_from(BODIES))
def test_any_path_builds_the_request_httpx_builds(tail: str, body: object) -> None:
    url = '/' + tail
    try:
        expected = httpx.AsyncClient.build_request(_CLIENT, 'PATCH', url, json=body)
    except httpx.InvalidURL:
        with pytest.raises(httpx.InvalidURL):
            _CLIENT.build_request('PATCH', url, json=body)
        return
    _same_request(_CLIENT.build_request('PATCH', url, json=body), expected)


_CLIENT = Imbi(base_url='http://imbi.test:8000/api', token='t0ken')


@pytest.mark.parametrize(
    'setup',
    [
        lambda c: c.headers.update({'Content-Type': 'application/vnd.imbi+json'}),
        lambda c: c.headers.update({'Host': 'elsewhere.test'}),
        lambda c: c.headers.update({'X-Trace': 'abc'}),
        lambda c: setattr(c, 'params', {'org': 'eng'}),
        lambda c: setattr(c, 'cookies', {'session': 'abc'}),
        lambda c: setattr(c, 'timeout', httpx.Timeout(1.0, connect=0.5)),
        lambda c: setattr(c, 'base_url', 'http://imbi.test:8443/other'),
        lambda c: setattr(c, 'base_url', 'http://imbi.test/api?tenant=eng'),
    ],
)
def test_client_settings_are_honoured(setup: typing.Any) -> None:
    client = Imbi(base_url='http://imbi.test/api', token='t0ken')
    setup(client)
    for method, body in (('POST', {'a': 1}), ('GET', None), ('PATCH', None)):
        _same_request(
            client.build_request(method, '/x/y', json=body),
            httpx.AsyncClient.build_request(client, method, '/x/y', json=body),
        )


def test_per_request_options_are_honoured() -> None:
    client = Imbi(base_url='http://imbi.test/api', token='t0ken')
    options: list[dict[str, typing.Any]] = [
        {'params': {'q': '1'}},
        {'headers': {'X-One': '1'}},
        {'content': b'raw'},
        {'data': {'form': 'field'}},
        {'timeout': 3.0},
        {'extensions': {'timeout': {'connect': 1.0}}},
    ]
    for option in options:
        _same_request(
            client.build_request('POST', '/x', **option),
            httpx.AsyncClient.build_request(client, 'POST', '/x', **option),
        )


# The shortcuts use httpx internals: they are on only for the httpx versions
# the suite covered, and off with IMBI_TOOLKIT_LEAN=0 (see lean's docstring).


@pytest.fixture
def fresh_decision() -> typing.Iterator[None]:
    lean._why_plain.cache_clear()
    yield
    lean._why_plain.cache_clear()


def test_the_installed_httpx_is_a_tested_one() -> None:
    # Bumping httpx needs a run of the suite and a new entry; until then the
    # client is plain httpx, which this would point out.
    assert httpx.__version__.startswith(lean.TESTED_HTTPX_VERSIONS)
    assert Imbi(base_url='http://imbi.test', token='t0ken').lean is (
        os.environ.get(lean.LEAN_VARIABLE, '1') != '0'
    )


async def test_an_untested_httpx_version_falls_back_to_plain_httpx(
    imbi_sandbox: SandboxProcess,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fresh_decision: None,
) -> None:
    caplog.set_level(logging.DEBUG, logger='imbi_toolkit.api._lean')
    monkeypatch.delenv(lean.LEAN_VARIABLE, raising=False)  # make pytest-plain
    monkeypatch.setattr(httpx, '__version__', '0.99.0')

    def no_shortcut(*args: object, **kwargs: object) -> typing.NoReturn:
        raise AssertionError('a shortcut ran on an untested httpx')

    monkeypatch.setattr(LeanAsyncClient, '_join', no_shortcut)
    monkeypatch.setattr(LeanAsyncClient, '_lean_send', no_shortcut)
    async with Imbi(base_url=imbi_sandbox.base_url, token=imbi_sandbox.token) as c:
        assert not c.lean
        assert type(c.cookies) is httpx.Cookies
        projects = (await c.get('/organizations/engineering/projects/')).json()
        project = next(p['id'] for p in projects if p['slug'] == 'billing-api')
        response = await c.create_release(
            'engineering', project, {'committish': 'abc1234', 'title': 'v9.9.9'}
        )
        assert response.status_code == 201, response.text
        assert response.json()['title'] == 'v9.9.9'
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        'httpx shortcuts off, the client is plain httpx: httpx 0.99.0 is not '
        'among the versions tested with them (0.28.)'
    ]


@pytest.mark.parametrize('name', ['_send_single_request', '_build_redirect_request'])
def test_missing_httpx_internals_fall_back_to_plain_httpx(
    monkeypatch: pytest.MonkeyPatch, fresh_decision: None, name: str
) -> None:
    # As if a new httpx had renamed it (None: what getattr finds is unusable).
    monkeypatch.delenv(lean.LEAN_VARIABLE, raising=False)
    monkeypatch.setattr(httpx.AsyncClient, name, None)
    assert not lean.shortcuts_enabled()
    assert not LeanAsyncClient(base_url='http://imbi.test').lean


@pytest.mark.parametrize('value', ['0', 'false', 'OFF'])
def test_the_environment_turns_the_shortcuts_off(
    monkeypatch: pytest.MonkeyPatch, fresh_decision: None, value: str
) -> None:
    monkeypatch.setenv(lean.LEAN_VARIABLE, value)
    client = Imbi(base_url='http://imbi.test/api', token='t0ken')
    assert not client.lean
    request = client.build_request('POST', '/x', json={'a': 1})
    _same_request(
        request, httpx.AsyncClient.build_request(client, 'POST', '/x', json={'a': 1})
    )
