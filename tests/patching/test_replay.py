"""Replay safety: a patch whose answer was lost may be sent again only when
applying it twice cannot change the result (tracker issue 14).

A retry after a lost answer applies the patch to the document the first
application left. The patches of `diff(tests=True)` must then be refused (a
`test` fails, the server answers 422) or change nothing; `replay_safe` tells
which patches promise that. The applier is the package's own (it follows
the server's rules), checked against `jsonpatch` (what the server runs).
"""

from __future__ import annotations

import copy
import json
import random
import typing

import jsonpatch
import jsonpointer
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imbi_toolkit.patching import (
    Patch,
    PatchBuilder,
    PatchValidationError,
    diff,
    diff_json,
    patchable,
    replay_safe,
)

from .conftest import PROJECT
from .strategies import json_objects, json_pairs, random_patch, reordered_pairs

pytestmark = pytest.mark.attack('duplicated-writes')

PROPERTY = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def canonical(value: object) -> str:
    """JSON text: tells 1, 1.0, True, "1" and -0.0 apart, ignores key order."""
    return json.dumps(value, sort_keys=True)


def second_application(patch: list[dict[str, typing.Any]], before: object) -> str:
    """Apply `patch` twice, as a retry after a lost answer does.

    Returns:
        'refused' when the second application fails, 'no-op' when it leaves
        the document as the first one did, 'changed' otherwise.
    """
    once = Patch(patch).apply(before)
    try:
        twice = Patch(patch).apply(once)
    except PatchValidationError:
        return 'refused'
    return 'no-op' if canonical(twice) == canonical(once) else 'changed'


def second_application_jsonpatch(
    patch: list[dict[str, typing.Any]], before: object
) -> str:
    """`second_application` with `jsonpatch`, whose `test` uses Python's `==`."""
    once = jsonpatch.apply_patch(before, patch)
    try:
        twice = jsonpatch.apply_patch(once, patch)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException):
        return 'refused'
    return 'no-op' if canonical(twice) == canonical(once) else 'changed'


# The retries of the tracker: test ops that pin a path the patch does not
# change pass again, and the insert lands twice.
UNGUARDED = [
    (
        {'name': 'x', 'tags': ['a']},
        [
            {'op': 'test', 'path': '/name', 'value': 'x'},
            {'op': 'add', 'path': '/tags/-', 'value': 'b'},
        ],
        ['a', 'b', 'b'],
    ),
    (
        {'name': 'x', 'tags': ['a']},
        [
            {'op': 'test', 'path': '/name', 'value': 'x'},
            {'op': 'add', 'path': '/tags/0', 'value': 'z'},
        ],
        ['z', 'z', 'a'],
    ),
    (
        {'tags': ['a', 'a', 'b']},
        [
            {'op': 'test', 'path': '/tags/0', 'value': 'a'},
            {'op': 'remove', 'path': '/tags/0'},
        ],
        ['b'],
    ),
]


@pytest.mark.parametrize(('before', 'patch', 'twice'), UNGUARDED)
def test_a_test_of_another_path_is_no_guard(
    before: dict[str, typing.Any], patch: list[dict[str, typing.Any]], twice: list[str]
) -> None:
    once = Patch(patch).apply(before)
    assert Patch(patch).apply(once)['tags'] == twice  # what a blind retry does
    assert not replay_safe(patch)
    assert not Patch(patch).replay_safe()


@pytest.mark.parametrize(
    ('before', 'after'),
    [
        ({'name': 'x', 'tags': ['a']}, {'name': 'x', 'tags': ['a', 'b']}),
        ({'name': 'x', 'tags': ['a']}, {'name': 'x', 'tags': ['z', 'a']}),
        ({'tags': ['a', 'a', 'b']}, {'tags': ['a', 'b']}),
        ({'tags': ['a', 'b', 'c']}, {'tags': ['c', 'a', 'b']}),
        ({'links': {'a': 1}}, {'links': {'a': 1, 'b': 2}}),
        ({'links': {'a': 1, 'b': 2}}, {'links': {'a': 1}}),
        ({'e': [{'t': ['a']}]}, {'e': [{'t': ['a', 'a']}]}),
    ],
)
def test_guarded_patches_are_refused_when_sent_again(
    before: dict[str, typing.Any], after: dict[str, typing.Any]
) -> None:
    patch = Patch(diff_json(before, after)).with_tests(before)
    assert replay_safe(patch)
    assert canonical(patch.apply(before)) == canonical(after)
    assert second_application(patch, before) == 'refused'
    assert second_application_jsonpatch(patch, before) == 'refused'


def test_guards_are_the_changed_containers_not_the_document() -> None:
    before = copy.deepcopy(PROJECT)
    after = copy.deepcopy(PROJECT)
    after['links']['grafana'] = 'https://grafana.example.com/d/billing'
    after['framework'] = 'litestar'
    after['project_types'].append({'slug': 'library'})
    after['environments'][0]['url'] = 'https://pay.example.com'
    patch = diff(before, after, tests=True)
    tests = {op['path']: op['value'] for op in patch if op['op'] == 'test'}
    assert tests == {
        '/links': before['links'],
        '/framework': 'fastapi',
        '/project_type_slugs': ['api-service'],
        '/environments/production/url': 'https://billing.example.com',
    }
    assert replay_safe(patch)
    assert second_application(patch, patchable(before)) == 'refused'


def test_constant_writes_need_no_guard() -> None:
    patch = (
        PatchBuilder()
        .replace('/description', 'x')
        .replace('/tags/0', 'b')
        .add('/framework', 'litestar')  # a top-level member: written again
        .build()
    )
    assert replay_safe(patch)
    assert replay_safe([])


@pytest.mark.parametrize(
    'patch',
    [
        [{'op': 'add', 'path': '/links/x', 'value': 1}],  # a nested new key
        [{'op': 'remove', 'path': '/framework'}],
        [{'op': 'copy', 'from': '/a', 'path': '/b'}],  # carries what /a holds
        [
            {'op': 'test', 'path': '/b', 'value': 1},
            {'op': 'copy', 'from': '/a', 'path': '/b'},
        ],
        [
            {'op': 'test', 'path': '/a', 'value': 1},
            {'op': 'move', 'from': '/a', 'path': '/l/0'},
        ],
        [{'op': 'add', 'path': '/links/0', 'value': 1}],  # maybe an array
        [{'op': 'frobnicate', 'path': '/a'}],
        [{'op': 'add', 'path': 'links', 'value': 1}],
        [{'path': '/a'}],
        [{'op': 'remove', 'path': 5}],
        [{'op': 'move', 'path': '/a'}],
        [None],
        'not a patch',
    ],
)
def test_unguarded_or_malformed_patches_are_not_replay_safe(patch: typing.Any) -> None:
    assert not replay_safe(patch)


@pytest.mark.parametrize(
    'patch',
    [
        [
            {'op': 'test', 'path': '/links', 'value': {}},
            {'op': 'add', 'path': '/links/x', 'value': 1},
        ],
        [
            {'op': 'test', 'path': '/framework', 'value': 'fastapi'},
            {'op': 'remove', 'path': '/framework'},
        ],
        [
            {'op': 'test', 'path': '/a', 'value': 1},
            {'op': 'test', 'path': '/l', 'value': []},
            {'op': 'copy', 'from': '/a', 'path': '/l/-'},
        ],
        [
            {'op': 'test', 'path': '/a', 'value': 1},
            {'op': 'move', 'from': '/a', 'path': '/b'},
        ],
    ],
)
def test_guarded_patches_are_replay_safe(patch: list[dict[str, typing.Any]]) -> None:
    assert replay_safe(patch)


@PROPERTY
@given(st.one_of(json_pairs(json_objects), reordered_pairs(json_objects)))
def test_diff_with_tests_survives_a_retry(pair: tuple[typing.Any, typing.Any]) -> None:
    before, after = pair
    patch = Patch(diff_json(before, after)).with_tests(before)
    assert canonical(jsonpatch.apply_patch(before, patch)) == canonical(after)
    assert replay_safe(patch)
    # The answer to the first application was lost; the retry meets its
    # result and must be refused or change nothing.
    assert second_application(patch, before) in ('refused', 'no-op')
    assert second_application_jsonpatch(patch, before) in ('refused', 'no-op')


@PROPERTY
@given(reordered_pairs(json_objects))
def test_project_diff_with_tests_survives_a_retry(
    pair: tuple[typing.Any, typing.Any],
) -> None:
    before, after = pair
    # Blueprint-attribute-like keys; the Imbi rewrites are tested elsewhere.
    before = {f'k{key}': value for key, value in before.items()}
    after = {f'k{key}': value for key, value in after.items()}
    for key in set(before) - set(after):
        after[key] = None
    patch = diff(before, after, tests=True)
    assert replay_safe(patch)
    assert second_application(patch, before) in ('refused', 'no-op')
    assert second_application_jsonpatch(patch, before) in ('refused', 'no-op')


@settings(PROPERTY, max_examples=600)
@given(json_objects, st.randoms(use_true_random=False), st.integers(1, 6))
def test_replay_safe_patches_never_write_twice(
    document: dict[str, typing.Any], rng: random.Random, size: int
) -> None:
    # Any patch at all, guarded well, badly or not: whenever `replay_safe`
    # says yes, a second application is refused or changes nothing.
    patch = random_patch(document, rng, size)
    if replay_safe(patch):
        assert second_application(patch, document) in ('refused', 'no-op'), patch
