"""Optimistic concurrency: `test` operations holding the old values.

Imbi has no ETags (docs/imbi-api.md#concurrency). A `test` op before each
change makes the server answer 422 when someone else changed that value since
it was read, instead of silently overwriting their edit. The guard is the changed path
itself, or, for anything inside an array, the whole array: a concurrent
insert shifts the indices, and a test on one item would then check another.
An `add` of a new object key has nothing to test (JSON Patch cannot test that
a key is absent).
"""

from __future__ import annotations

import copy
import typing
from collections import abc

from imbi_toolkit.patching._apply import Applier
from imbi_toolkit.patching._engine import Operation
from imbi_toolkit.patching._pointer import join, split


def with_tests(
    operations: abc.Iterable[abc.Mapping[str, typing.Any]], before: object
) -> list[Operation]:
    """Return the operations with a `test` of the old value before each change.

    Each location is tested once, before the first operation that changes
    it, with its value in `before` (later operations see the state the
    earlier ones left, which the server will also see).

    Raises:
        PatchValidationError: When an operation does not fit `before`.
    """
    applier = Applier(before)
    guarded: set[str] = set()
    result: list[Operation] = []
    for index, operation in enumerate(operations):
        if operation.get('op') != 'test':
            for pointer in _read_or_replaced(operation):
                guard = _guard(applier, pointer)
                if guard is not None and guard not in guarded:
                    guarded.add(guard)
                    result.append(
                        {
                            'op': 'test',
                            'path': guard,
                            'value': copy.deepcopy(applier.value_at(guard)),
                        }
                    )
        applier.apply(index, operation)
        result.append(dict(operation))
    return result


def _read_or_replaced(operation: abc.Mapping[str, typing.Any]) -> list[str]:
    name = operation['op']
    pointers = []
    if name in ('move', 'copy'):
        pointers.append(operation['from'])
    pointers.append(operation['path'])
    return pointers


def _guard(applier: Applier, pointer: str) -> str | None:
    tokens = split(pointer)
    value: typing.Any = applier.document
    for depth, token in enumerate(tokens):
        if type(value) is list:
            return join(*tokens[:depth])
        if type(value) is not dict or token not in value:
            return None  # a new key: nothing to test
        value = value[token]
    return pointer if tokens else None
