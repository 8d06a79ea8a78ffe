"""Long lists of nested rows: the pickled-bytes check of `_equality.dumps`.

Rows that hold containers (project-like objects with lists and nested
objects) are compared in slices by their pickled bytes; equal bytes must mean
type-strictly equal JSON, and anything the bytes cannot settle (keys in
another order, a type that is not JSON) must go to the exact walk instead.
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

from imbi_toolkit.patching import diff_json
from imbi_toolkit.patching._equality import dumps, same_batch, strictly_equal

from .strategies import mutate, reorder


def canonical(value: object) -> str:
    """JSON text: tells 1, 1.0, True, "1" and -0.0 apart, ignores key order."""
    return json.dumps(value, sort_keys=True)


def rows(count: int = 200) -> list[dict[str, typing.Any]]:
    return [
        {
            'id': index,
            'name': f'project {index}',
            'score': 0.0 if index % 7 == 0 else index / 4,
            'archived': index % 3 == 0,
            'tags': ['api', 'web'][: index % 3],
            'links': {'docs': f'https://docs.example.com/{index}', 'rank': 1},
            'identifiers': {'sentry': index * 7, 'weight': 1.0},
        }
        for index in range(count)
    ]


ROWS = rows()
COPIES = {
    'deep copy': copy.deepcopy,
    'parsed copy': lambda value: json.loads(json.dumps(value)),
}


@pytest.mark.parametrize(
    ('old', 'new'),
    [
        (1, 1.0),
        (1, True),
        (1.0, True),
        (0, False),
        (0.0, -0.0),
        (2**70, float(2**70)),
        ('1', 1),
        (None, 0),
        ([1], [1.0]),
        ({'a': 1}, {'a': True}),
    ],
)
def test_the_bytes_tell_json_types_apart(old: object, new: object) -> None:
    assert dumps([old]) != dumps([new])
    assert dumps([old]) == dumps(json.loads(json.dumps([old])))


def test_the_bytes_do_not_depend_on_which_objects_are_shared() -> None:
    # One string object used twice on one side, two equal strings on the
    # other: marshal 4 wrote a back-reference for the first only.
    shared = 'production'
    before = [{'env': shared, 'also': shared}] * 3
    after = json.loads(json.dumps(before))
    assert dumps(before) == dumps(after)
    parsed = COPIES['parsed copy'](ROWS)
    assert dumps(ROWS) == dumps(copy.deepcopy(ROWS)) == dumps(parsed)


class Text(str):
    """A str subclass: equal to its value, but not a JSON type."""

    def __reduce_ex__(self, protocol: typing.SupportsIndex) -> typing.NoReturn:
        raise AssertionError('foreign code ran while checking equality')


def test_values_that_are_not_json_types_are_refused_without_running_their_code() -> (
    None
):
    assert dumps([Text('x')]) is None
    assert dumps([{'a': [Text('x')]}]) is None
    # ...and the walk still decides: same type, equal value.
    before = rows(40)
    after = rows(40)
    before[30]['name'] = Text('project 30')
    after[30]['name'] = Text('project 30')
    assert same_batch(before, after)
    assert diff_json(before, after) == []


@pytest.mark.parametrize('make_copy', sorted(COPIES))
@pytest.mark.parametrize(
    ('path', 'value'),
    [
        (('id',), 120.0),  # int -> float
        (('archived',), 1),  # bool -> int
        (('score',), -0.0),  # row 140: 0.0 -> -0.0
        (('links', 'rank'), True),  # nested int -> bool
        (('identifiers', 'weight'), 1),  # nested float -> int
    ],
)
def test_a_change_hidden_by_python_equality_is_found_in_long_lists(
    make_copy: str, path: tuple[str, ...], value: object
) -> None:
    after = COPIES[make_copy](ROWS)
    index = 120 if path != ('score',) else 140
    target = after[index]
    *parents, leaf = path
    for key in parents:
        target = target[key]
    assert target[leaf] == value  # only the type (or the sign) changes
    target[leaf] = value
    assert after == ROWS
    assert not strictly_equal(ROWS, after)
    assert diff_json(ROWS, after) == [
        {'op': 'replace', 'path': f'/{index}/{"/".join(path)}', 'value': value}
    ]


@pytest.mark.parametrize('make_copy', sorted(COPIES))
def test_nested_keys_in_another_order_are_no_change(make_copy: str) -> None:
    after = COPIES[make_copy](ROWS)
    after[77] = dict(reversed(list(after[77].items())))
    after[150]['links'] = dict(reversed(list(after[150]['links'].items())))
    assert dumps(ROWS) != dumps(after)  # the bytes alone cannot settle it
    assert strictly_equal(ROWS, after)
    assert diff_json(ROWS, after) == []


@pytest.mark.parametrize('make_copy', sorted(COPIES))
def test_key_order_and_a_type_change_in_the_same_slice(make_copy: str) -> None:
    # Keys in another order make the slice's bytes differ; the walk that
    # then decides must still find the 1 -> 1.0 next to it.
    after = COPIES[make_copy](ROWS)
    after[70] = dict(reversed(list(after[70].items())))
    after[71]['links']['rank'] = 1.0
    operations = diff_json(ROWS, after)
    assert operations == [{'op': 'replace', 'path': '/71/links/rank', 'value': 1.0}]
    assert canonical(jsonpatch.apply_patch(ROWS, operations)) == canonical(after)


@pytest.mark.parametrize('make_copy', sorted(COPIES))
def test_an_insert_into_a_long_list_of_parsed_rows_is_one_op(make_copy: str) -> None:
    after = COPIES[make_copy](ROWS)
    after.insert(100, {'id': -1, 'tags': []})
    assert diff_json(ROWS, after) == [
        {'op': 'add', 'path': '/100', 'value': {'id': -1, 'tags': []}}
    ]


# Lists of at least `_engine._LONG_ROWS` nested rows are trimmed by pickled
# slices of 64: a change right before, at and after a slice boundary.
POSITIONS = [0, 1, 63, 64, 65, 127, 128, 199]


@pytest.mark.parametrize('make_copy', sorted(COPIES))
@pytest.mark.parametrize('index', POSITIONS)
@pytest.mark.parametrize(
    ('edit', 'path', 'old', 'new'),
    [
        ('int to float', 'id', 5, 5.0),
        ('bool to int', 'archived', True, 1),
        ('zero sign', 'score', 0.0, -0.0),
        ('nested float to int', 'identifiers/weight', 1.0, 1),
        ('nested int to bool', 'links/rank', 1, True),
        ('new value', 'name', 'a', 'b'),
    ],
)
def test_one_edit_anywhere_in_a_long_list(
    make_copy: str, index: int, edit: str, path: str, old: object, new: object
) -> None:
    before = copy.deepcopy(ROWS)
    _set(before[index], path, old)
    after = COPIES[make_copy](before)
    _set(after[index], path, new)
    assert diff_json(before, after) == [
        {'op': 'replace', 'path': f'/{index}/{path}', 'value': new}
    ]
    assert diff_json(after, before) == [
        {'op': 'replace', 'path': f'/{index}/{path}', 'value': old}
    ]


@pytest.mark.parametrize('make_copy', sorted(COPIES))
@pytest.mark.parametrize('index', POSITIONS)
def test_keys_in_another_order_anywhere_in_a_long_list(
    make_copy: str, index: int
) -> None:
    after = COPIES[make_copy](ROWS)
    row = after[index]
    row['links'] = dict(reversed(list(row['links'].items())))
    after[index] = dict(reversed(list(row.items())))
    assert diff_json(ROWS, after) == []
    assert diff_json(after, ROWS) == []


def _set(row: dict[str, typing.Any], path: str, value: object) -> None:
    *parents, leaf = path.split('/')
    for key in parents:
        row = row[key]
    row[leaf] = value


@pytest.mark.parametrize('make_copy', sorted(COPIES))
@pytest.mark.parametrize('index', POSITIONS)
def test_an_insert_or_a_removal_anywhere_in_a_long_list_is_one_op(
    make_copy: str, index: int
) -> None:
    after = COPIES[make_copy](ROWS)
    del after[index]
    assert diff_json(ROWS, after) == [{'op': 'remove', 'path': f'/{index}'}]
    assert diff_json(after, ROWS) == [
        {'op': 'add', 'path': f'/{index}', 'value': ROWS[index]}
    ]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(min_value=0, max_value=199), min_size=1, max_size=4),
    st.randoms(use_true_random=False),
    st.booleans(),
)
def test_long_lists_of_rows_with_random_edits(
    indices: list[int], rng: random.Random, parsed: bool
) -> None:
    after = COPIES['parsed copy' if parsed else 'deep copy'](ROWS)
    for index in indices:
        after[index] = reorder(mutate(after[index], rng), rng)
    operations = diff_json(ROWS, after)
    assert canonical(jsonpatch.apply_patch(ROWS, operations)) == canonical(after)
    assert (operations == []) == (canonical(ROWS) == canonical(after))
    assert len(operations) <= len(jsonpatch.make_patch(ROWS, after).patch)


def test_rows_shared_by_a_shallow_copy_are_skipped_but_a_copied_row_is_checked() -> (
    None
):
    after = list(ROWS)  # the rows themselves are the same objects
    assert diff_json(ROWS, after) == []
    after[150] = dict(ROWS[150], id=150.0)
    after[30] = dict(ROWS[30])  # a copy, equal in every way
    assert diff_json(ROWS, after) == [
        {'op': 'replace', 'path': '/150/id', 'value': 150.0}
    ]
    assert not same_batch(ROWS, after)
    after[150] = dict(ROWS[150])
    assert same_batch(ROWS, after)


@pytest.mark.parametrize('make_copy', sorted(COPIES))
@pytest.mark.parametrize('last', [150, 163, 170, 199])
def test_two_edits_the_last_one_inside_a_tail_slice(make_copy: str, last: int) -> None:
    # The tail is trimmed by slices of 64 from the end; the last edit sits
    # inside one of them, not at its edge.
    after = COPIES[make_copy](ROWS)
    after[10]['name'] = 'renamed'
    after[last]['id'] = float(last)
    assert diff_json(ROWS, after) == [
        {'op': 'replace', 'path': '/10/name', 'value': 'renamed'},
        {'op': 'replace', 'path': f'/{last}/id', 'value': float(last)},
    ]
