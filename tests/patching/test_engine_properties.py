"""Property tests of the generic engine: correct, type-strict, small."""

from __future__ import annotations

import json
import typing

import jsonpatch
from hypothesis import HealthCheck, given, settings

from imbi_toolkit.patching import diff_json
from imbi_toolkit.patching._apply import apply_operations
from imbi_toolkit.patching._equality import strictly_equal
from imbi_toolkit.patching._verify import verifies

from .strategies import json_objects, json_pairs

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def canonical(value: object) -> str:
    """JSON text: tells 1, 1.0, True, "1" and -0.0 apart, ignores key order."""
    return json.dumps(value, sort_keys=True)


@PROPERTY_SETTINGS
@given(json_pairs())
def test_patch_turns_before_into_after(pair: tuple[typing.Any, typing.Any]) -> None:
    before, after = pair
    snapshot = canonical(before)
    operations = diff_json(before, after)
    # The reference applier and ours agree, and neither changes `before`.
    assert canonical(jsonpatch.apply_patch(before, operations)) == canonical(after)
    assert canonical(apply_operations(before, operations)) == canonical(after)
    assert canonical(before) == snapshot
    assert verifies(before, after, operations, full=True)


@PROPERTY_SETTINGS
@given(json_pairs(json_objects))
def test_never_more_than_twice_make_patch(pair: tuple[typing.Any, typing.Any]) -> None:
    before, after = pair
    ours = diff_json(before, after)
    theirs = jsonpatch.make_patch(before, after).patch
    assert len(ours) <= 2 * len(theirs), (ours, theirs)
    assert all(operation['path'] != '' for operation in ours)


@PROPERTY_SETTINGS
@given(json_pairs())
def test_strict_equality_matches_json_text(pair: tuple[typing.Any, typing.Any]) -> None:
    before, after = pair
    same = canonical(before) == canonical(after)
    # Key order is not a JSON difference; everything else is.
    assert strictly_equal(before, after) == same
    assert (diff_json(before, after) == []) == same


def test_key_order_is_not_a_change() -> None:
    before = {'a': 1, 'b': {'x': 1.0, 'y': True}}
    after = {'b': {'y': True, 'x': 1.0}, 'a': 1}
    assert strictly_equal(before, after)
    assert diff_json(before, after) == []


def test_type_changes_hidden_by_python_equality_are_found() -> None:
    before = {'facts': {'a': 1, 'b': 0.0, 'c': [0, 1]}, 'n': 1}
    after = {'facts': {'a': True, 'b': -0.0, 'c': [False, 1.0]}, 'n': '1'}
    assert before['facts'] == after['facts']  # Python's == sees no change
    operations = diff_json(before, after)
    assert canonical(jsonpatch.apply_patch(before, operations)) == canonical(after)
    assert sorted(operation['path'] for operation in operations) == [
        '/facts/a',
        '/facts/b',
        '/facts/c/0',
        '/facts/c/1',
        '/n',
    ]


def test_list_insert_and_removal_are_one_operation() -> None:
    items = [{'id': index, 'status': 'ok'} for index in range(50)]
    assert diff_json(items, [{'id': -1}, *items]) == [
        {'op': 'add', 'path': '/0', 'value': {'id': -1}}
    ]
    assert diff_json(items, items[:20] + items[21:]) == [
        {'op': 'remove', 'path': '/20'}
    ]


def test_reversed_list_is_moves() -> None:
    items = list(range(10))
    operations = diff_json({'l': items}, {'l': items[::-1]})
    assert [operation['op'] for operation in operations] == ['move'] * 9
    assert jsonpatch.apply_patch({'l': items}, operations) == {'l': items[::-1]}


def test_verification_catches_wrong_operations() -> None:
    before = {'l': [1, 2, 3], 'x': 1}
    after = {'l': [0, 1, 2, 3], 'x': 1}
    assert verifies(before, after, [{'op': 'add', 'path': '/l/0', 'value': 0}])
    assert not verifies(before, after, [{'op': 'add', 'path': '/l/1', 'value': 0}])
    assert not verifies(before, after, [{'op': 'add', 'path': '/l/0', 'value': False}])
    assert not verifies(before, after, [{'op': 'remove', 'path': '/l/9'}])


def test_default_verification_trusts_untouched_values_full_does_not() -> None:
    before = {'a': 1, 'b': 1}
    after = {'a': 1, 'b': 2}
    # Touched-only: nothing touched /b, so the engine's verdict is trusted.
    assert verifies(before, after, [])
    assert not verifies(before, after, [], full=True)
    assert verifies(
        before, after, [{'op': 'replace', 'path': '/b', 'value': 2}], full=True
    )


def test_list_items_differing_only_in_type_or_key_are_not_matched() -> None:
    before = [{'a': 1}, {'a': 2.0}, {'b': 3}, {'a': 0.0}]
    after = [{'a': 2}, {'a': True}, {'c': 3}, {'a': -0.0}, {'a': 1}]
    operations = diff_json(before, after)
    assert canonical(jsonpatch.apply_patch(before, operations)) == canonical(after)
