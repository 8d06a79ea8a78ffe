"""`diff`'s fast path: edits that change object members only.

Most edits of a project change a few members of objects (a description, a
link, an identifier) and leave its lists as they were. For those, the
general path of `diff` (the engine, a copy-on-write check of its operations
against `after`, then `with_tests` replaying them on another copy to find
each guard's value) costs several times what the change needs. Here one
walk of the two documents emits the operations and their guards together:

- the operations are those the engine emits, in its order: per object, the
  members both sides have (in `before`'s order: a `replace`, or the
  operations inside a changed object), then a `remove` per member gone, then
  an `add` per new member;
- the guards are those `with_tests` puts before them: a `test` of each
  replaced member with its old value; for a removed member, a `test` of it
  (of its object when its key looks like an array index); for the removes
  and adds of a nested object, one `test` of that object, with its value
  after the operations before it (a guard of an object covers the later
  operations inside it).

Such operations are right by construction (each names a member that is
there, or one that is not yet, of objects that are there), which is what
the general path's check makes sure of for list edits. Whenever a value is
something this walk does not settle itself (a list that changed, a float
NaN, a pair `==` calls equal that differs in type deep inside, a key that is
not a string, a type other than JSON's), it gives up and the general path
runs: `tests/patching/test_members.py` checks that both give the same
patches.
"""

from __future__ import annotations

import copy
import math
import operator
import typing

from imbi_toolkit.patching._concurrency import _INDEX_LIKE
from imbi_toolkit.patching._engine import Operation
from imbi_toolkit.patching._equality import same_batch
from imbi_toolkit.patching._pointer import escape

_is = operator.is_
# Scalars whose `==` between two values of the same type is type-strict.
_PLAIN = frozenset({str, int, bool, type(None)})


class _UnsureError(Exception):
    """The walk met something the general path must handle."""


def member_diff(
    before: dict[str, typing.Any], after: dict[str, typing.Any], *, tests: bool
) -> tuple[list[Operation], list[Operation]] | None:
    """The operations from `before` to `after`, and them with their guards.

    Args:
        before: A patchable document.
        after: The document it should become (traps resolved).
        tests: Compute the guarded operations too (else the second list is
            empty).

    Returns:
        `(operations, guarded)`: what `diff_json` gives when the change is
        to object members only, and what `with_tests` makes of it; None when
        the change is anything else.
    """
    walk = _Walk(tests)
    try:
        walk.members(before, after, '', ())
    except _UnsureError:
        return None
    return walk.operations, walk.guarded


class _Walk:
    __slots__ = ('guarded', 'operations', 'tests', 'tokens')

    def __init__(self, tests: bool) -> None:
        self.tests = tests
        self.operations: list[Operation] = []
        # The member tokens of each operation, for the value of a guard of
        # an object that earlier operations changed.
        self.tokens: list[tuple[str, ...]] = []
        self.guarded: list[Operation] = []

    def _emit(self, operation: Operation, tokens: tuple[str, ...]) -> None:
        self.operations.append(operation)
        self.tokens.append(tokens)
        if self.tests:
            self.guarded.append(dict(operation))

    def _test(self, path: str, value: typing.Any) -> None:
        self.guarded.append({'op': 'test', 'path': path, 'value': value})

    def members(
        self,
        a: dict[str, typing.Any],
        b: dict[str, typing.Any],
        path: str,
        tokens: tuple[str, ...],
    ) -> None:
        keys = list(a)
        if keys == list(b):
            for key, x, y in zip(keys, a.values(), b.values(), strict=True):
                if x is not y:
                    self._pair(key, x, y, path, tokens)
            return
        start = len(self.operations)
        gone = []
        for key, x in a.items():
            if key in b:
                y = b[key]
                if x is not y:
                    self._pair(key, x, y, path, tokens)
            else:
                gone.append(key)
        added = [key for key in b if key not in a]
        # Removes, then adds (the engine's order). The first that needs a
        # test of this object gets one (never of the whole document); it
        # covers the ones after it.
        covered = False
        for key in gone:
            if type(key) is not str:
                raise _UnsureError
            member = f'{path}/{escape(key)}'
            if self.tests and not covered:
                if tokens and _INDEX_LIKE.fullmatch(key):
                    self._test(path, self._current(a, tokens, start))
                    covered = True
                else:
                    self._test(member, json_copy(a[key]))
            self._emit({'op': 'remove', 'path': member}, (*tokens, key))
        for key in added:
            if type(key) is not str:
                raise _UnsureError
            if self.tests and tokens and not covered:
                self._test(path, self._current(a, tokens, start))
                covered = True
            self._emit(
                {'op': 'add', 'path': f'{path}/{escape(key)}', 'value': b[key]},
                (*tokens, key),
            )

    def _pair(
        self,
        key: str,
        x: typing.Any,
        y: typing.Any,
        path: str,
        tokens: tuple[str, ...],
    ) -> None:
        if type(key) is not str:
            raise _UnsureError
        kind = type(x)
        if kind is not type(y):
            self._replace(key, x, y, path, tokens)
        elif kind in _PLAIN:
            if x != y:
                self._replace(key, x, y, path, tokens)
        elif kind is dict:
            if x == y:
                if all(map(_is, x.values(), y.values())) and all(map(_is, x, y)):
                    return  # a copy of the object: the same keys and values
                # Equal, but maybe not in type deep inside (`1` and `1.0`),
                # which the engine patches after the rest of this object: so
                # an equal pair must give no operation.
                count = len(self.operations)
                self.members(x, y, f'{path}/{escape(key)}', (*tokens, key))
                if len(self.operations) != count:
                    raise _UnsureError
                return
            self.members(x, y, f'{path}/{escape(key)}', (*tokens, key))
        elif kind is list:
            if x == y and (all(map(_is, x, y)) or same_batch([x], [y])):
                return
            raise _UnsureError  # a list edit: the engine's
        elif kind is float:
            if x == y:
                if x != 0.0 or math.copysign(1.0, x) == math.copysign(1.0, y):
                    return
            elif math.isnan(x) and math.isnan(y):
                raise _UnsureError  # the general path's check calls them different
            self._replace(key, x, y, path, tokens)
        else:
            raise _UnsureError

    def _replace(
        self,
        key: str,
        x: typing.Any,
        y: typing.Any,
        path: str,
        tokens: tuple[str, ...],
    ) -> None:
        member = f'{path}/{escape(key)}'
        if self.tests:
            # No operation before it touched this member (each member gets
            # one operation, or operations inside it): the old value.
            self._test(member, json_copy(x))
        self._emit({'op': 'replace', 'path': member, 'value': y}, (*tokens, key))

    def _current(
        self, a: dict[str, typing.Any], tokens: tuple[str, ...], start: int
    ) -> dict[str, typing.Any]:
        """A copy of object `a` (at `tokens`) as the operations emitted
        since `start`, all inside it, left it."""
        value: dict[str, typing.Any] = json_copy(a)
        depth = len(tokens)
        for operation, where in zip(
            self.operations[start:], self.tokens[start:], strict=True
        ):
            container = value
            for token in where[depth:-1]:
                container = container[token]
            if operation['op'] == 'remove':
                del container[where[-1]]
            else:
                container[where[-1]] = json_copy(operation['value'])
        return value


def json_copy(value: typing.Any) -> typing.Any:
    """`copy.deepcopy` of a JSON value, without its memo (several times
    faster); anything but dicts, lists and JSON scalars goes to deepcopy."""
    kind = type(value)
    if kind is dict:
        return {key: json_copy(item) for key, item in value.items()}
    if kind is list:
        return [json_copy(item) for item in value]
    if kind in _PLAIN or kind is float:
        return value
    return copy.deepcopy(value)
