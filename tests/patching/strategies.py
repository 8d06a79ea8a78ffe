"""Hypothesis strategies for JSON documents and edits of them."""

from __future__ import annotations

import copy
import random
import typing
from collections import abc

import jsonpatch
import jsonpointer
from hypothesis import strategies as st

# Values Python's `==` confuses (1 == 1.0 == True, 0.0 == -0.0 == 0 == False)
# are over-represented on purpose.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, 2, 0.0, -0.0, 1.0, 2.5, '1', '0', '']),
    st.integers(min_value=-5, max_value=5),
    st.text(alphabet='ab~/', max_size=3),
)
keys = st.text(alphabet='ab~/1', max_size=3)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(keys, children, max_size=5),
    ),
    max_leaves=25,
)
json_objects = st.dictionaries(keys, json_values, max_size=6)

_CONFUSABLE: dict[object, list[object]] = {
    'int': [True, 1.0, '1'],
    'bool': [1, 0, 1.0],
    'float': [1, True, -0.0, 0.0],
}


def mutate(value: typing.Any, rng: random.Random) -> typing.Any:
    """An edited deep copy of `value`: scalar, type, key and list edits."""
    result = copy.deepcopy(value)
    for _ in range(rng.randint(1, 4)):
        result = _edit(result, rng)
    return result


def _edit(value: typing.Any, rng: random.Random) -> typing.Any:
    if isinstance(value, dict):
        if value and rng.random() < 0.6:
            key = rng.choice(list(value))
            choice = rng.random()
            if choice < 0.2:
                del value[key]
            else:
                value[key] = _edit(value[key], rng)
        else:
            value[rng.choice(['a', 'b/', '~c', 'new'])] = rng.choice(
                [1, True, [1, 2], {}]
            )
        return value
    if isinstance(value, list):
        choice = rng.random()
        if value and choice < 0.25:
            index = rng.randrange(len(value))
            value[index] = _edit(value[index], rng)
        elif choice < 0.45:
            value.insert(rng.randint(0, len(value)), rng.choice([0, False, 'x', [0]]))
        elif value and choice < 0.65:
            del value[rng.randrange(len(value))]
        elif choice < 0.8:
            rng.shuffle(value)
        else:
            value.reverse()
        return value
    kind = type(value).__name__
    if kind in _CONFUSABLE and rng.random() < 0.7:
        return rng.choice(_CONFUSABLE[kind])
    return rng.choice([None, 'z', 3, 0.5, [value], {'k': value}])


@st.composite
def json_pairs(
    draw: st.DrawFn, values: st.SearchStrategy[typing.Any] = json_values
) -> tuple[typing.Any, typing.Any]:
    """A JSON value and either an edit of it or an unrelated value."""
    before = draw(values)
    if draw(st.booleans()):
        return before, draw(values)
    return before, mutate(before, draw(st.randoms(use_true_random=False)))


def reorder(value: typing.Any, rng: random.Random, share: bool = True) -> typing.Any:
    """The same JSON value with the keys of its objects in another order.

    Lists are rebuilt (never reordered: that would be a change); leaves are
    the same objects when `share`, else equal copies (`copy.deepcopy`), as
    when a document is fetched twice.
    """
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: reorder(value[key], rng, share) for key in keys}
    if isinstance(value, list):
        return [reorder(item, rng, share) for item in value]
    return value if share else copy.deepcopy(value)


def _reorder_list(value: typing.Any, rng: random.Random) -> typing.Any:
    """A copy with the items of one list (somewhere inside) permuted."""
    result = copy.deepcopy(value)
    found: list[list[typing.Any]] = []
    stack = [result]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            found.append(item)
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    if found:
        target = rng.choice(found)
        if rng.random() < 0.5:
            rng.shuffle(target)
        else:
            target.reverse()
    return result


@st.composite
def reordered_pairs(
    draw: st.DrawFn, values: st.SearchStrategy[typing.Any] = json_values
) -> tuple[typing.Any, typing.Any]:
    """A JSON value and the same value (or an edit of it) with keys shuffled,
    lists reordered, or both, leaves shared with `before` or not."""
    before = draw(values)
    rng = draw(st.randoms(use_true_random=False))
    after = before
    steps = draw(
        st.lists(st.sampled_from(['keys', 'list', 'edit']), min_size=1, max_size=4)
    )
    for step in steps:
        if step == 'keys':
            after = reorder(after, rng, share=draw(st.booleans()))
        elif step == 'list':
            after = _reorder_list(after, rng)
        else:
            after = mutate(after, rng)
    if draw(st.booleans()):
        before = reorder(before, rng, share=draw(st.booleans()))
    return before, after


def _locations(
    value: typing.Any, tokens: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    """Every location in `value`, as token tuples, the root first."""
    found = [tokens]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_locations(item, (*tokens, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_locations(item, (*tokens, str(index))))
    return found


def _at(document: typing.Any, tokens: tuple[str, ...]) -> typing.Any:
    for token in tokens:
        document = (
            document[int(token)] if isinstance(document, list) else document[token]
        )
    return document


def _pointer(tokens: abc.Sequence[str]) -> str:
    return ''.join('/' + t.replace('~', '~0').replace('/', '~1') for t in tokens)


def random_patch(
    document: typing.Any, rng: random.Random, size: int
) -> list[dict[str, typing.Any]]:
    """A patch of `size` operations that applies to `document`: every kind
    of op, `test`s of random locations with their current values among them
    (some guarding what the next op changes, some pinning unrelated paths).
    """
    state = copy.deepcopy(document)
    operations: list[dict[str, typing.Any]] = []
    while len(operations) < size:
        places = _locations(state)
        containers = [t for t in places if isinstance(_at(state, t), dict | list)]
        kind = rng.choice(['add', 'add', 'remove', 'replace', 'move', 'copy', 'test'])
        if kind == 'test':
            tokens = rng.choice(places)
            operation = {
                'op': 'test',
                'path': _pointer(tokens),
                'value': copy.deepcopy(_at(state, tokens)),
            }
        elif kind in ('add', 'copy', 'move'):
            parent = rng.choice(containers)
            target = _at(state, parent)
            if isinstance(target, list):
                last = rng.choice(['-', str(rng.randint(0, len(target)))])
            else:
                last = rng.choice([*target, 'n', 'm']) if target else 'n'
            path = _pointer((*parent, last))
            if kind == 'add':
                operation = {
                    'op': 'add',
                    'path': path,
                    'value': rng.choice([1, 'b', True, [1], {'k': 0}]),
                }
            else:
                sources = [t for t in places if t]
                if kind == 'move':
                    # Not into itself or one of its children.
                    sources = [t for t in sources if (*parent, last)[: len(t)] != t]
                if not sources:
                    continue
                operation = {
                    'op': kind,
                    'from': _pointer(rng.choice(sources)),
                    'path': path,
                }
        else:
            candidates = [t for t in places if t]
            if not candidates:
                continue
            tokens = rng.choice(candidates)
            operation = {'op': kind, 'path': _pointer(tokens)}
            if kind == 'replace':
                operation['value'] = rng.choice([2, 'c', False, [], {}])
        if rng.random() < 0.5 and kind != 'test':
            # Often guard what the op changes, as a careful writer would.
            guard = rng.choice([t for t in places if t] or [()])
            operations.append(
                {
                    'op': 'test',
                    'path': _pointer(guard),
                    'value': copy.deepcopy(_at(state, guard)),
                }
            )
        try:
            state = jsonpatch.apply_patch(state, [operation])
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException):
            continue
        operations.append(operation)
    return operations
