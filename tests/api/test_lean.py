"""`LeanAsyncClient` does less work per request and behaves like httpx."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from imbi_toolkit.api import Imbi
from imbi_toolkit.api.lean import LeanAsyncClient, LeanCookies

BASES = [
    'http://127.0.0.1:8000',
    'http://imbi.test/api',
    'https://imbi.example:8443/a%20b/v2/',
    'http://[::1]:8080/x',
    'http://user:pw@imbi.test/api',
]

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


async def test_client_cookies_assign_and_merge() -> None:
    async with Imbi(base_url='http://imbi.test', token='t0ken') as client:
        assert isinstance(client.cookies, LeanCookies)
        client.cookies = {'a': '1'}  # type: ignore[assignment]
        assert isinstance(client.cookies, LeanCookies)
        request = client.build_request('GET', '/x')
    assert request.headers['cookie'] == 'a=1'
    assert LeanAsyncClient(cookies={'b': '2'}).cookies['b'] == '2'
