"""Long lists of rows (dicts) are compared strictly, shared or not."""

from __future__ import annotations

import copy
import json
import random
import typing

import jsonpatch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imbi_toolkit.patching import diff_json
from imbi_toolkit.patching._equality import same_batch, strictly_equal

from .strategies import json_values, mutate, reorder


def canonical(value: object) -> str:
    """JSON text: tells 1, 1.0, True, "1" and -0.0 apart, ignores key order."""
    return json.dumps(value, sort_keys=True)


ROWS = [{'id': index, 'ok': True, 'score': 0.0} for index in range(20)]


def test_copied_rows_are_equal() -> None:
    assert strictly_equal({'rows': ROWS}, {'rows': copy.deepcopy(ROWS)})
    assert diff_json({'rows': ROWS}, {'rows': copy.deepcopy(ROWS)}) == []


def test_a_change_hidden_by_python_equality_is_found() -> None:
    for field, value in [('id', 12.0), ('ok', 1), ('score', -0.0)]:
        after = copy.deepcopy(ROWS)
        after[12][field] = value
        assert not strictly_equal({'rows': ROWS}, {'rows': after})
        assert diff_json({'rows': ROWS}, {'rows': after}) == [
            {'op': 'replace', 'path': f'/rows/12/{field}', 'value': value}
        ]


def test_rows_with_keys_in_another_order_are_still_equal() -> None:
    after = copy.deepcopy(ROWS)
    after[3] = {'score': 0.0, 'ok': True, 'id': 3}
    assert strictly_equal({'rows': ROWS}, {'rows': after})
    assert diff_json({'rows': ROWS}, {'rows': after}) == []


# Long batches go through the level-by-level walk (and its slices), which
# the short documents of the other property tests never reach.
_long_lists = st.lists(json_values, min_size=17, max_size=60)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_long_lists, st.randoms(use_true_random=False), st.booleans())
def test_long_batches_match_json_text(
    before: list[typing.Any], rng: random.Random, share: bool
) -> None:
    after = reorder(before, rng, share=share)
    if rng.random() < 0.7:
        after = mutate(after, rng)  # often a 1 / True / 1.0 / -0.0 swap
    same = canonical(before) == canonical(after)
    assert strictly_equal(before, after) == same
    if before == after:
        assert same_batch(before, after) == same
    operations = diff_json(before, after)
    assert canonical(jsonpatch.apply_patch(before, operations)) == canonical(after)


def test_a_swap_of_equal_but_differently_typed_values_is_found() -> None:
    # Paired by position (keys in another order), the values look the same.
    before = [{'a': 1, 'b': True} for _ in range(40)]
    after = copy.deepcopy(before)
    after[30] = {'b': 1, 'a': True}
    assert before == after
    assert not strictly_equal(before, after)
    assert not same_batch(before, after)
    assert diff_json(before, after) == [
        {'op': 'replace', 'path': '/30', 'value': {'b': 1, 'a': True}}
    ]


def test_slices_of_a_long_list_are_all_checked() -> None:
    before = [{'n': index, 'tags': ['a', 0.0]} for index in range(2000)]
    after = copy.deepcopy(before)
    after[1999]['tags'][1] = -0.0
    assert not strictly_equal(before, after)
    assert diff_json(before, after) == [
        {'op': 'replace', 'path': '/1999/tags/1', 'value': -0.0}
    ]
