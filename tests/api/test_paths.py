"""Values placed in URL paths stay exactly one segment."""

from __future__ import annotations

import typing
import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imbi_toolkit.api import Imbi
from imbi_toolkit.api import _paths as paths

from ..fakes import Script

HELPERS: dict[
    str, typing.Callable[[Imbi, dict[str, str]], typing.Awaitable[object]]
] = {
    'patch_project': lambda c, a: c.patch_project(a['org'], a['project'], []),
    'create_release': lambda c, a: c.create_release(a['org'], a['project'], {}),
    'record_deployment': lambda c, a: c.record_deployment(
        a['org'], a['project'], a['version'], a['env'], {}
    ),
}
GOOD = {'org': 'eng', 'project': 'p1', 'version': 'r1', 'env': 'production'}


@pytest.mark.parametrize('helper', HELPERS)
@pytest.mark.parametrize('arg', ['org', 'project'])
@pytest.mark.parametrize(
    ('value', 'encoded'),
    [
        ('a/b', 'a%2Fb'),
        ('../../users/me', '..%2F..%2Fusers%2Fme'),
        ('x?admin=1', 'x%3Fadmin%3D1'),
        ('x#frag', 'x%23frag'),
        ('50%', '50%25'),
        ('sp ace', 'sp%20ace'),
        ('café', 'caf%C3%A9'),
        ('V1StGXR8_Z5jdHi6B-myT', 'V1StGXR8_Z5jdHi6B-myT'),
    ],
)
async def test_each_value_is_one_encoded_segment(
    client: Imbi, recorder: Script, helper: str, arg: str, value: str, encoded: str
) -> None:
    await HELPERS[helper](client, {**GOOD, arg: value})
    raw_path = recorder.last.url.raw_path.decode()
    assert f'/{encoded}/' in raw_path or raw_path.endswith(f'/{encoded}')
    assert recorder.last.url.query == b''
    assert recorder.last.url.fragment == ''


@pytest.mark.parametrize('arg', ['version', 'env'])
async def test_deployment_segments_are_encoded(
    client: Imbi, recorder: Script, arg: str
) -> None:
    await HELPERS['record_deployment'](client, {**GOOD, arg: 'a/../b'})
    assert 'a%2F..%2Fb' in recorder.last.url.raw_path.decode()


HELPER_ARGS = [
    (helper, arg)
    for helper in HELPERS
    for arg in ('org', 'project', 'version', 'env')
    if helper == 'record_deployment' or arg in ('org', 'project')
]


@pytest.mark.parametrize(('helper', 'arg'), HELPER_ARGS)
@pytest.mark.parametrize('value', ['', '.', '..', '%2e', '%2E%2e', '.%2E'])
async def test_empty_and_dot_segments_are_refused_before_sending(
    client: Imbi, recorder: Script, helper: str, arg: str, value: str
) -> None:
    with pytest.raises(ValueError, match='must not be'):
        await HELPERS[helper](client, {**GOOD, arg: value})
    assert recorder.requests == []


@given(st.text(max_size=20))
def test_a_segment_is_the_fully_quoted_value(value: str) -> None:
    # The shortcut for slugs and ids must encode exactly as `quote` does.
    if not value or value in ('.', '..') or urllib.parse.unquote(value) in ('.', '..'):
        with pytest.raises(ValueError):
            paths.segment('value', value)
        return
    assert paths.segment('value', value) == urllib.parse.quote(value, safe='')
