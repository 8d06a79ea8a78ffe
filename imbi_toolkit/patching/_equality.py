"""Type-strict equality of JSON values, fast on large unchanged subtrees.

Python's `==` says `1 == 1.0 == True` and `0.0 == -0.0`, but JSON shows each of
them differently, so a diff that prunes with `==` alone loses changes. Checking
every leaf in Python is slow, so the checks here run in C where they can:

1. `==` (in C) finds the pairs that differ in value; the pairs it calls equal
   are then checked in batches for what `==` hides (`same_batch`).
2. Pairs that are the same object are equal: `copy.deepcopy` and edits of a
   copy share their leaves, so one `map(operator.is_)` settles them.
3. Otherwise, when the leaves are shared, a walk of the containers only (types
   must match, a float zero must keep its sign), each settled by one such
   C-level pass; when they are not shared, `marshal`, whose output is exact
   about types, and the walk only if the bytes differ.

A JSON object has no key order, so neither do these checks: the values of two
dicts are paired by key, never by position (pairing by position compared
unrelated values when the keys came in another order, and crashed on them).
Every walk checks lengths before it pairs items, so a pair that is not even
`==` gets `False`, never an exception. Under its precondition (`==` pairs)
`same_batch` is exact, and so is `strictly_equal`.
"""

from __future__ import annotations

import itertools
import marshal
import math
import operator
import typing
from collections import abc

_is = operator.is_
_is_not = operator.is_not
_compress = itertools.compress
_chain = itertools.chain.from_iterable
_dict_values = dict.values
# marshal 4 writes back-references for objects that have other references, so
# equal values can marshal differently; that only makes the check fall back.
_MARSHAL_VERSION = 4
_FEW_ROWS = 8


def strictly_equal(x: object, y: object) -> bool:
    """Tell whether two JSON values are equal and equally typed throughout."""
    if x is y:
        return True
    kind = type(x)
    if kind is not type(y):
        return False
    if kind is float:
        return _same_float(typing.cast(float, x), typing.cast(float, y))
    if x != y:
        return False
    if kind is dict or kind is list:
        return same_batch([x], [y]) or _exactly_equal(x, y)
    return True


def _exactly_equal(x: typing.Any, y: typing.Any) -> bool:
    """The slow, exact comparison, for when the fast checks were unsure."""
    if x is y:
        return True
    kind = type(x)
    if kind is not type(y):
        return False
    if kind is dict:
        return x.keys() == y.keys() and all(
            _exactly_equal(value, y[key]) for key, value in x.items()
        )
    if kind is list:
        return len(x) == len(y) and all(map(_exactly_equal, x, y))
    if kind is float:
        return _same_float(x, y)
    return bool(x == y)


def same_batch(xs: list[typing.Any], ys: list[typing.Any]) -> bool:
    """Tell whether `xs[i]` and `ys[i]` are strictly equal for every `i`.

    The caller must already know that `xs[i] == ys[i]` for every `i`.
    """
    if _leaves_shared(xs, ys):
        return _same_by_walk(xs, ys)
    differ = list(map(_is_not, xs, ys))
    xs = list(_compress(xs, differ))
    ys = list(_compress(ys, differ))
    try:
        if marshal.dumps(xs, _MARSHAL_VERSION) == marshal.dumps(ys, _MARSHAL_VERSION):
            return True
    except ValueError:  # a type marshal does not know (e.g. a subclass)
        pass
    return _same_by_walk(xs, ys)


def same_flat_dicts(xs: list[typing.Any], ys: list[typing.Any]) -> bool:
    """`same_batch` for dicts whose values are hashable scalars.

    The caller must know that `tuple(xs[i].values()) == tuple(ys[i].values())`
    for every `i`; then the keys, their order and the types of the values are
    all that is left to check, in a few C-level passes.
    """
    if list(_chain(xs)) != list(_chain(ys)):
        return False
    values_x = list(_chain(map(_dict_values, xs)))
    values_y = list(_chain(map(_dict_values, ys)))
    types = list(map(type, values_x))
    if types != list(map(type, values_y)):
        return False
    if float in types:
        pick = list(map(_is, types, itertools.repeat(float)))
        return all(
            map(_same_float, _compress(values_x, pick), _compress(values_y, pick))
        )
    return True


def _same_float(x: float, y: float) -> bool:
    if x == y:
        return x != 0.0 or math.copysign(1.0, x) == math.copysign(1.0, y)
    return math.isnan(x) and math.isnan(y)


def _leaves_shared(xs: list[typing.Any], ys: list[typing.Any]) -> bool:
    """Probe one path down to a leaf: is that leaf the same object in both?"""
    for x, y in zip(xs, ys, strict=False):
        if x is y:
            continue
        while True:
            kind = type(x)
            if kind is dict and x and type(y) is dict:
                # By key, not by position: equal dicts may order their keys
                # differently, and their first values are then unrelated.
                key = next(iter(x))
                if key not in y:
                    return False
                x, y = x[key], y[key]
            elif kind is list and x and type(y) is list and y:
                x, y = x[0], y[0]
            else:
                return x is y
    return True


def _same_by_walk(xs: abc.Iterable[typing.Any], ys: abc.Iterable[typing.Any]) -> bool:
    """Walk pairs whose leaves are mostly shared: C-level identity checks
    settle each dict or list whose items are all the same objects."""
    # One loop that skips shared items costs less than first filtering them
    # out: the lists walked here are mostly short.
    for x, y in zip(xs, ys, strict=True):
        if x is y:
            continue
        kind = type(x)
        if kind is not type(y):
            return False
        if kind is dict:
            if len(x) != len(y):
                return False
            values_x = x.values()
            values_y: abc.Iterable[typing.Any]
            # The values line up by position only if the keys come in the
            # same order; otherwise (a JSON object has no order) by key.
            if all(map(_is, x, y)) or list(x) == list(y):
                values_y = y.values()
            else:
                try:
                    values_y = list(map(y.__getitem__, x))
                except KeyError:
                    return False
            if not all(map(_is, values_x, values_y)) and not _same_by_walk(
                values_x, values_y
            ):
                return False
        elif kind is list:
            if len(x) != len(y):
                return False
            if (
                not all(map(_is, x, y))
                # Short lists walk faster than the batch passes' fixed cost.
                and not (len(x) > _FEW_ROWS and _same_shared_rows(x, y))
                and not _same_by_walk(x, y)
            ):
                return False
        elif kind is float and not _same_float(x, y):
            return False
    return True


def _same_shared_rows(xs: list[typing.Any], ys: list[typing.Any]) -> bool:
    """Settle two equal lists of dicts (rows) whose keys and values are all
    the same objects in a few C-level passes, not one Python step per row.

    `False` only means "not settled here".
    """
    if list(map(type, xs)) != list(map(type, ys)):
        return False
    try:
        # Equal dicts have equal key counts, so the chains line up row by
        # row; dict.values raises TypeError on anything but a dict.
        return all(
            map(_is, _chain(map(_dict_values, xs)), _chain(map(_dict_values, ys)))
        ) and all(map(_is, _chain(xs), _chain(ys)))
    except TypeError:
        return False
