"""`diff` and `diff_json` never raise on valid JSON (tracker issue 14).

The strictness checks once paired the values of two equal dicts by position,
which is wrong when their keys come in another order: the walk then compared
unrelated values and crashed (`zip()` length errors, `IndexError`,
`StopIteration`). These fuzz documents with shuffled keys, reordered lists
and nested mixes of both, leaves shared with `before` or copied.
"""

from __future__ import annotations

import copy
import json
import random
import typing

import jsonpatch
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imbi_toolkit.patching import Patch, diff, diff_json, patchable

from .conftest import PROJECT
from .strategies import json_objects, reorder, reordered_pairs

pytestmark = pytest.mark.attack('crashes')

FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def canonical(value: object) -> str:
    """JSON text: tells 1, 1.0, True, "1" and -0.0 apart, ignores key order."""
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize(
    ('before', 'after'),
    [
        ({'x': {'p': [1, 2], 'q': [3]}}, {'x': {'q': [3], 'p': [1, 2]}}),
        ({'x': {'p': [], 'q': [3]}}, {'x': {'q': [3], 'p': []}}),
        ({'x': {'p': {'a': 1}, 'q': {}}}, {'x': {'q': {}, 'p': {'a': 1}}}),
        ({'x': {'p': [[1]], 'q': [[]]}}, {'x': {'q': [[]], 'p': [[1]]}}),
        ([{'p': [1], 'q': 2}, 1], [{'q': 2, 'p': [1]}, 1]),
        ({'x': {'p': [1, 2], 'q': 1}}, {'x': {'q': 1.0, 'p': [1, 2]}}),
        ({'x': {'p': {'a': 0.0}, 'q': {}}}, {'x': {'q': {}, 'p': {'a': -0.0}}}),
    ],
)
def test_reported_cases(before: typing.Any, after: typing.Any) -> None:
    operations = diff_json(before, after)
    assert canonical(jsonpatch.apply_patch(before, operations)) == canonical(after)
    assert (operations == []) == (canonical(before) == canonical(after))


def test_project_with_environments_in_another_order() -> None:
    before = copy.deepcopy(PROJECT)
    staging = copy.deepcopy(before['environments'][0])
    staging.update(slug='staging', name='Staging', url='https://stage.example.com')
    before['environments'].append(staging)
    after = copy.deepcopy(before)
    after['environments'].reverse()
    after['environments'][0] = dict(reversed(list(after['environments'][0].items())))
    assert diff(before, after) == []
    after['framework'] = 'litestar'
    patch = diff(before, after, tests=True)
    assert canonical(jsonpatch.apply_patch(patchable(before), patch)) == canonical(
        patchable(after)
    )


@FUZZ
@given(reordered_pairs())
def test_diff_json_never_raises_and_is_exact(
    pair: tuple[typing.Any, typing.Any],
) -> None:
    before, after = pair
    snapshot = canonical(before)
    operations = diff_json(before, after)
    assert canonical(jsonpatch.apply_patch(before, operations)) == canonical(after)
    assert canonical(Patch(operations).apply(before)) == canonical(after)
    assert canonical(before) == snapshot
    assert (operations == []) == (snapshot == canonical(after))


@FUZZ
@given(reordered_pairs(json_objects), st.booleans())
def test_diff_never_raises_and_is_exact(
    pair: tuple[typing.Any, typing.Any], tests: bool
) -> None:
    before, after = pair
    # Keys the server owns or the traps rewrite are covered elsewhere; here
    # only the engine's handling of order matters.
    before = {f'k{key}': value for key, value in before.items()}
    after = {f'k{key}': value for key, value in after.items()}
    for key in set(before) - set(after):
        after[key] = None  # a blueprint attribute is cleared with null
    patch = diff(before, after, tests=tests)
    result = jsonpatch.apply_patch(before, patch)
    assert canonical(result) == canonical(after)
    assert canonical(patch.apply(before)) == canonical(after)


@settings(FUZZ, max_examples=100)
@given(st.randoms(use_true_random=False), st.booleans())
def test_projects_in_another_key_order(rng: random.Random, share: bool) -> None:
    before = copy.deepcopy(PROJECT)
    after = reorder(before, rng, share=share)
    rng.shuffle(after['environments'])
    assert diff(before, after) == []
    assert diff_json(before, reorder(before, rng, share=share)) == []
