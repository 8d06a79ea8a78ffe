"""The generic JSON diff engine: any two JSON values to RFC 6902 operations.

It is type-strict (`1`, `1.0`, `True` and `"1"` all differ), walks only what
changed (see `_equality` for how unchanged subtrees are skipped in C), and
keeps list edits small: a common head and tail are trimmed first, an insert
or removal is one op, reordered items are moved, and a changed item is
patched in place. Operation values are the objects of `after`, not copies.
"""

from __future__ import annotations

import itertools
import marshal
import operator
import typing

from imbi_toolkit.patching import _lists
from imbi_toolkit.patching._equality import (
    _nested,
    _same_float,
    dumps,
    same_batch,
    same_flat_dicts,
)
from imbi_toolkit.patching._pointer import escape

Operation: typing.TypeAlias = dict[str, typing.Any]

_eq = operator.eq
_is = operator.is_
_not = operator.not_
_compress = itertools.compress
_repeat = itertools.repeat
# Version 2 has no back-references, so equal items always get equal keys.
_KEY_VERSION = 2
# Up to this many entries, one Python loop over a dict's values beats the
# fixed cost of the C-level passes of `_suspects` (most documents are small).
_SMALL_DICT = 64
# Up to this many items per side, items are matched by `==` (in C) instead of
# by keys built for every item.
_SMALL_LIST = 8
_TAKEN = object()  # equal to nothing but itself
# From this many items per side, lists of objects holding containers are
# trimmed by pickled slices of this many (`_strict_head`).
_LONG_ROWS = 128
_ROWS = 64


def diff_json(before: object, after: object, path: str = '') -> list[Operation]:
    """Compute the operations that turn `before` into `after`.

    Args:
        before: A JSON value (dicts, lists, str, int, float, bool, None).
        after: Another JSON value.
        path: The pointer of both values inside a larger document; `''` (the
            default) is the root, which is replaced as a whole if the two
            values are not both dicts or both lists.

    Returns:
        A list of operation dicts; empty when the values are strictly equal.
    """
    ops: list[Operation] = []
    if before is not after:
        _diff(before, after, path, ops)
    return ops


def _diff(x: typing.Any, y: typing.Any, path: str, ops: list[Operation]) -> None:
    kind = type(x)
    if kind is not type(y):
        ops.append({'op': 'replace', 'path': path, 'value': y})
    elif kind is dict:
        _diff_dict(x, y, path, ops)
    elif kind is list:
        _diff_list(x, y, path, ops)
    elif kind is float:
        if not _same_float(x, y):
            ops.append({'op': 'replace', 'path': path, 'value': y})
    elif x != y:
        ops.append({'op': 'replace', 'path': path, 'value': y})


def _diff_dict(
    a: dict[str, typing.Any], b: dict[str, typing.Any], path: str, ops: list[Operation]
) -> None:
    keys = list(a)
    gone: list[str] = []
    new: list[str] = []
    if len(keys) <= _SMALL_DICT and keys == list(b):
        _diff_small_dict(keys, a, b, path, ops)
        return
    if keys == list(b):  # the usual case: same keys, same order
        xs = list(a.values())
        ys = list(b.values())
    else:
        if a.keys() != b.keys():
            gone = [key for key in keys if key not in b]
            new = [key for key in b if key not in a]
            keys = [key for key in keys if key in b]
        xs = list(map(a.__getitem__, keys))
        ys = list(map(b.__getitem__, keys))
    for index in _suspects(xs, ys):
        x = xs[index]
        y = ys[index]
        if x is not y:
            _diff(x, y, f'{path}/{escape(keys[index])}', ops)
    for key in gone:
        ops.append({'op': 'remove', 'path': f'{path}/{escape(key)}'})
    for key in new:
        ops.append({'op': 'add', 'path': f'{path}/{escape(key)}', 'value': b[key]})


def _diff_small_dict(
    keys: list[str],
    a: dict[str, typing.Any],
    b: dict[str, typing.Any],
    path: str,
    ops: list[Operation],
) -> None:
    """`_diff_dict` for a small dict whose keys come in the same order."""
    # Pairs that `==` calls equal can still differ in type deep inside. A
    # container whose items (and keys) are the same objects on both sides is
    # settled on the spot; the others are checked together, in one
    # `same_batch`.
    held_keys: list[str] = []
    held_x: list[typing.Any] = []
    held_y: list[typing.Any] = []
    for key, x, y in zip(keys, a.values(), b.values(), strict=True):
        if x is y:
            continue
        if x == y:
            kind = type(x)
            if kind is type(y):
                if kind is dict:
                    if all(map(_is, x.values(), y.values())) and all(map(_is, x, y)):
                        continue
                    held_keys.append(key)
                    held_x.append(x)
                    held_y.append(y)
                    continue
                if kind is list:
                    if all(map(_is, x, y)):
                        continue
                    held_keys.append(key)
                    held_x.append(x)
                    held_y.append(y)
                    continue
                if kind is not float or _same_float(x, y):
                    continue
        _diff(x, y, f'{path}/{escape(key)}', ops)
    if held_x and not same_batch(held_x, held_y):
        # Rare (e.g. `1` became `1.0` deep inside): walk them one by one.
        for key, x, y in zip(held_keys, held_x, held_y, strict=True):
            _diff(x, y, f'{path}/{escape(key)}', ops)


def _suspects(
    xs: list[typing.Any], ys: list[typing.Any], equal: list[bool] | None = None
) -> typing.Iterable[int]:
    """Positions where `xs` and `ys` may differ; all others strictly equal."""
    if equal is None:
        equal = list(map(_eq, xs, ys))
    if all(equal):
        return () if same_batch(xs, ys) else range(len(xs))
    if not same_batch(list(_compress(xs, equal)), list(_compress(ys, equal))):
        return range(len(xs))
    return list(_compress(range(len(xs)), map(_not, equal)))


def _diff_item(x: typing.Any, y: typing.Any, path: str, ops: list[Operation]) -> None:
    """Patch a changed list item in place when one op does, else replace it."""
    nested: list[Operation] = []
    _diff(x, y, path, nested)
    if len(nested) <= 1:
        ops.extend(nested)
    else:
        ops.append({'op': 'replace', 'path': path, 'value': y})


def _diff_list(
    a: list[typing.Any], b: list[typing.Any], path: str, ops: list[Operation]
) -> None:
    n, m = len(a), len(b)
    equal: list[bool] | None = None
    if min(n, m) >= _LONG_ROWS and _nested(a[0]) and _nested(b[0]):
        # Long lists of objects that hold containers: their strictness is
        # checked by pickled slices anyway, and equal slices need no `==`
        # pass first (it cost a fifth of the time on 5,000 projects).
        head = _strict_head(a, b, min(n, m))
        if head == n == m:
            return
        tail = _strict_head(a, b, min(n, m) - head, tail=True)
    else:
        equal = list(map(_eq, a, b))
        head = _run_length(equal)
        if head and not same_batch(a[:head], b[:head]):
            head = _strict_run(a, b, head)
        if head == n == m:
            return
        if n == m:
            tail = _run_length(equal[: head - 1 if head else None : -1])
            tail = min(tail, n - head)
        else:
            limit = min(n, m) - head
            tail = _run_length(
                list(map(_eq, reversed(a[n - limit :]), reversed(b[m - limit :])))
            )
        if tail and not same_batch(a[n - tail :], b[m - tail :]):
            tail = _strict_run(a[::-1], b[::-1], tail)
    middle_a = a[head : n - tail]
    middle_b = b[head : m - tail]
    if not middle_a:
        for offset, value in enumerate(middle_b, head):
            ops.append({'op': 'add', 'path': f'{path}/{offset}', 'value': value})
        return
    if not middle_b:
        for offset in range(n - tail - 1, head - 1, -1):
            ops.append({'op': 'remove', 'path': f'{path}/{offset}'})
        return
    if len(middle_a) == len(middle_b) == 1:
        _diff_item(middle_a[0], middle_b[0], f'{path}/{head}', ops)
        return
    if n == m:
        if equal is None:
            equal_middle = list(map(_eq, middle_a, middle_b))
        else:
            equal_middle = equal[head : n - tail]
        if 2 * sum(equal_middle) >= len(equal_middle):
            for index in _suspects(middle_a, middle_b, equal_middle):
                x = middle_a[index]
                y = middle_b[index]
                if x is not y:
                    _diff_item(x, y, f'{path}/{head + index}', ops)
            return
    _diff_by_keys(middle_a, middle_b, head, path, ops)


def _run_length(flags: list[bool]) -> int:
    try:
        return flags.index(False)
    except ValueError:
        return len(flags)


def _strict_head(
    a: list[typing.Any], b: list[typing.Any], limit: int, *, tail: bool = False
) -> int:
    """How many leading (or, with `tail`, trailing) pairs of `a` and `b`, at
    most `limit`, are strictly equal, found slice by slice: equal pickled
    bytes settle a slice, and only the slice where they differ is compared
    with `==`. The slices are pickled in list order either way (the memory
    is read forwards)."""
    n, m = len(a), len(b)
    done = 0
    while done < limit:
        if tail:
            if a[n - 1 - done] != b[m - 1 - done]:
                return done  # a changed or shifted item: no slice to pickle
            size = min(_ROWS, limit - done)
            xs = a[n - done - size : n - done]
            ys = b[m - done - size : m - done]
        else:
            if a[done] != b[done]:
                return done
            size = min(_ROWS, limit - done)
            xs = a[done : done + size]
            ys = b[done : done + size]
        if all(map(_is, xs, ys)):  # a shallow copy shares its items
            done += size
            continue
        dumped = dumps(xs)
        if dumped is not None and dumped == dumps(ys):
            done += size
            continue
        if tail:
            xs.reverse()
            ys.reverse()
        run = _run_length(list(map(_eq, xs, ys)))
        if run and not same_batch(xs[:run], ys[:run]):
            return done + _strict_run(xs, ys, run)
        if run < size:
            return done + run
        done += size  # the bytes differed by key order only
    return limit


def _strict_run(a: list[typing.Any], b: list[typing.Any], limit: int) -> int:
    from imbi_toolkit.patching._equality import strictly_equal

    for index in range(limit):
        if not strictly_equal(a[index], b[index]):
            return index
    return limit


def _item_keys(items: list[typing.Any]) -> list[bytes | str]:
    try:
        return list(map(marshal.dumps, items, _repeat(_KEY_VERSION)))
    except ValueError:  # not marshallable: repr tells JSON types apart too
        return list(map(repr, items))


def _plan(a: list[typing.Any], b: list[typing.Any]) -> _lists.ListPlan:
    """Plan a list edit, matching items by cheap keys where that is safe."""
    if len(a) <= _SMALL_LIST and len(b) <= _SMALL_LIST:
        pairs = _match_small(a, b)
        if pairs is not None:
            return _lists.plan_pairs(pairs, len(a), len(b))
    kinds = set(map(type, a))
    kinds.update(map(type, b))
    if kinds == {str}:
        return _lists.plan(a, b)  # a str equals nothing but an equal str
    if kinds == {dict} and not _nested(a[0]) and not _nested(b[0]):
        # The values of a dict, as a tuple, hash in C; equal tuples only say
        # "maybe equal" (1 == True, keys unseen), so the pairs are checked. A
        # nested dict or list is not hashable, which sends us to marshal
        # (the first items tell, before thousands of tuples are built).
        try:
            plan = _lists.plan(
                list(map(tuple, map(dict.values, a))),
                list(map(tuple, map(dict.values, b))),
            )
        except TypeError:
            pass
        else:
            pairs = plan.staying + plan.moved
            xs = [a[old] for old, _ in pairs]
            ys = [b[new] for _, new in pairs]
            if same_flat_dicts(xs, ys):
                return plan
    return _lists.plan(_item_keys(a), _item_keys(b))


def _match_small(
    a: list[typing.Any], b: list[typing.Any]
) -> list[tuple[int, int]] | None:
    """Pair each item of `b` with the first unused `==` item of `a`.

    Returns the `(a, b)` index pairs, ordered by `b`, or None when a pair is
    equal but not strictly (`1` and `True`): then only keys can match.
    """
    left = list(a)
    pairs = []
    xs = []
    ys = []
    for new, item in enumerate(b):
        try:
            old = left.index(item)
        except ValueError:
            continue
        xs.append(left[old])
        ys.append(item)
        left[old] = _TAKEN
        pairs.append((old, new))
    if xs and not same_batch(xs, ys):
        return None
    return pairs


def _diff_by_keys(
    a: list[typing.Any],
    b: list[typing.Any],
    offset: int,
    path: str,
    ops: list[Operation],
) -> None:
    plan = _plan(a, b)
    if plan.removed:
        for index in sorted(plan.removed, reverse=True):
            ops.append({'op': 'remove', 'path': f'{path}/{offset + index}'})
        removed = set(plan.removed)
        survivors = [index for index in range(len(a)) if index not in removed]
    else:
        survivors = list(range(len(a)))
    if plan.changed:
        position = {item: place for place, item in enumerate(survivors)}
        for old, new in plan.changed:
            _diff_item(a[old], b[new], f'{path}/{offset + position[old]}', ops)
    if len(plan.moved) == 1 and not plan.removed and not plan.added:
        # Every other item keeps its place and order, and nothing comes or
        # goes: the one item moves straight from its old to its new index.
        ((source, destination),) = plan.moved
        ops.append(
            {
                'op': 'move',
                'from': f'{path}/{offset + source}',
                'path': f'{path}/{offset + destination}',
            }
        )
    elif plan.moved:
        target = dict(plan.staying)
        if plan.changed:
            target.update(plan.changed)
        stationary = set(target)  # the old indices that stay in place
        target.update(plan.moved)
        for source, destination in _lists.move_steps(survivors, target, stationary):
            ops.append(
                {
                    'op': 'move',
                    'from': f'{path}/{offset + source}',
                    'path': f'{path}/{offset + destination}',
                }
            )
    for index in plan.added:
        ops.append({'op': 'add', 'path': f'{path}/{offset + index}', 'value': b[index]})
