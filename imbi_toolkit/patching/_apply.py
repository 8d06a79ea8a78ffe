"""Apply operations without copying the whole document.

Only the containers on the paths that the operations touch are copied, so the
result shares every untouched subtree with the input, which stays unchanged.
This is what makes verifying a diff cheap; `jsonpatch.apply_patch` deep-copies
the whole document first.
"""

from __future__ import annotations

import copy
import re
import typing
from collections import abc

from imbi_toolkit.patching._equality import strictly_equal
from imbi_toolkit.patching._pointer import split
from imbi_toolkit.patching.errors import PatchValidationError, Problem

_INDEX = re.compile(r'0|[1-9][0-9]*')


class _ConflictError(Exception):
    """An operation that does not fit the document (internal)."""


class Applier:
    """Applies operations one at a time to a copy-on-write document."""

    def __init__(self, document: object) -> None:
        self._holder: list[object] = [document]
        # Containers created here, which may be changed in place. The list
        # keeps them alive so that their ids stay unique.
        self._owned: list[object] = [self._holder]
        self._owned_ids = {id(self._holder)}

    def owns(self, value: object) -> bool:
        """Tell whether `value` is a container copied (and changed) here."""
        return id(value) in self._owned_ids

    @property
    def document(self) -> object:
        """The document as the operations applied so far left it."""
        return self._holder[0]

    def value_at(self, path: str) -> object:
        """Return the value at `path` in the current document.

        Raises:
            KeyError: When nothing is there.
        """
        try:
            return self._get(split(path))
        except (_ConflictError, ValueError) as error:
            raise KeyError(path) from error

    def exists(self, path: str) -> bool:
        """Tell whether `path` names a value in the current document."""
        try:
            self._get(split(path))
        except (_ConflictError, ValueError):
            return False
        return True

    def apply(self, index: int, operation: abc.Mapping[str, typing.Any]) -> None:
        """Apply one operation.

        Raises:
            PatchValidationError: When the operation does not fit the
                document (a missing path or parent, a bad list index, a
                failing `test`).
        """
        try:
            self._apply(operation)
        except _ConflictError as error:
            name = operation.get('op')
            path = operation.get('path')
            raise PatchValidationError(
                [Problem(index, f'{name} {path}: {error}')]
            ) from None
        except ValueError as error:  # a malformed pointer
            raise PatchValidationError([Problem(index, str(error))]) from None

    def _apply(self, operation: abc.Mapping[str, typing.Any]) -> None:
        name = operation['op']
        tokens = split(operation['path'])
        if name == 'add':
            self._add(tokens, operation['value'])
        elif name == 'remove':
            self._remove(tokens)
        elif name == 'replace':
            self._get(tokens)
            self._set(tokens, operation['value'])
        elif name == 'move':
            source = split(operation['from'])
            if tokens[: len(source)] == source and len(tokens) > len(source):
                raise _ConflictError('cannot move a value into one of its own children')
            value = self._get(source)
            self._remove(source)
            self._add(tokens, value)
        elif name == 'copy':
            value = self._get(split(operation['from']))
            self._add(tokens, copy.deepcopy(value))
        elif name == 'test':
            if not strictly_equal(self._get(tokens), operation['value']):
                raise _ConflictError('test failed: the current value is different')
        else:
            raise _ConflictError(f'unknown op {name!r}')

    def _get(self, tokens: list[str]) -> typing.Any:
        value: typing.Any = self._holder[0]
        for depth, token in enumerate(tokens):
            if type(value) is dict:
                if token not in value:
                    raise _ConflictError(f'{_where(tokens, depth + 1)} does not exist')
                value = value[token]
            elif type(value) is list:
                value = value[self._index(value, token, tokens, depth, False)]
            else:
                raise _ConflictError(
                    f'{_where(tokens, depth)} is not an object or array'
                )
        return value

    def _writable_parent(self, tokens: list[str]) -> typing.Any:
        """The container that holds `tokens[-1]`, owned so it may change."""
        container: typing.Any = self._holder
        key: typing.Any = 0
        for depth, token in enumerate(tokens[:-1]):
            container = self._own(container, key, tokens, depth)
            if type(container) is dict:
                if token not in container:
                    raise _ConflictError(f'{_where(tokens, depth + 1)} does not exist')
                key = token
            else:
                key = self._index(container, token, tokens, depth, False)
        return self._own(container, key, tokens, len(tokens) - 1)

    def _own(
        self, container: typing.Any, key: typing.Any, tokens: list[str], depth: int
    ) -> typing.Any:
        child = container[key]
        kind = type(child)
        if kind is not dict and kind is not list:
            raise _ConflictError(f'{_where(tokens, depth)} is not an object or array')
        if id(child) not in self._owned_ids:
            child = child.copy()
            container[key] = child
            self._owned.append(child)
            self._owned_ids.add(id(child))
        return child

    def _add(self, tokens: list[str], value: object) -> None:
        if not tokens:
            self._holder[0] = value
            return
        parent = self._writable_parent(tokens)
        last = tokens[-1]
        if type(parent) is dict:
            parent[last] = value
        elif last == '-':
            parent.append(value)
        else:
            parent.insert(
                self._index(parent, last, tokens, len(tokens) - 1, True), value
            )

    def _remove(self, tokens: list[str]) -> None:
        if not tokens:
            raise _ConflictError('the whole document cannot be removed')
        parent = self._writable_parent(tokens)
        last = tokens[-1]
        if type(parent) is dict:
            if last not in parent:
                raise _ConflictError(f'{_where(tokens, len(tokens))} does not exist')
            del parent[last]
        else:
            del parent[self._index(parent, last, tokens, len(tokens) - 1, False)]

    def _set(self, tokens: list[str], value: object) -> None:
        if not tokens:
            self._holder[0] = value
            return
        parent = self._writable_parent(tokens)
        last = tokens[-1]
        if type(parent) is dict:
            parent[last] = value
        else:
            parent[self._index(parent, last, tokens, len(tokens) - 1, False)] = value

    @staticmethod
    def _index(
        items: list[typing.Any], token: str, tokens: list[str], depth: int, end_ok: bool
    ) -> int:
        if not _INDEX.fullmatch(token):
            raise _ConflictError(
                f'{_where(tokens, depth + 1)}: {token!r} is not an array index'
            )
        index = int(token)
        if index > len(items) or (index == len(items) and not end_ok):
            raise _ConflictError(
                f'{_where(tokens, depth + 1)}: index {index} is out of range '
                f'(the array has {len(items)} items)'
            )
        return index


def _where(tokens: list[str], depth: int) -> str:
    from imbi_toolkit.patching._pointer import join

    return join(*tokens[:depth]) or 'the document root'


def apply_operations(
    document: object, operations: abc.Iterable[abc.Mapping[str, typing.Any]]
) -> object:
    """Apply operations to `document` and return the result.

    The input is left unchanged; the result shares its untouched subtrees.

    Raises:
        PatchValidationError: When an operation does not fit.
    """
    applier = Applier(document)
    for index, operation in enumerate(operations):
        applier.apply(index, operation)
    return applier.document
