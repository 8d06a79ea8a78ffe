"""Hypothesis strategies for JSON documents and edits of them."""

from __future__ import annotations

import copy
import random
import typing

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
