"""Check a patch before it is sent, whatever produced it.

The real server answers a malformed pointer or an `add` under a missing
parent with a 500, a read-only path with a 400, and silently ignores some
writes (docs/imbi-api.md#projects-patch). These checks turn each of those
into a clear `PatchValidationError` that names the operation and the problem.
"""

from __future__ import annotations

import json
import typing
from collections import abc

from imbi_toolkit.patching import _document as imbi_document
from imbi_toolkit.patching._apply import Applier
from imbi_toolkit.patching._pointer import split
from imbi_toolkit.patching.errors import PatchValidationError, Problem

OPERATIONS = ('add', 'remove', 'replace', 'move', 'copy', 'test')
_NEEDS_VALUE = frozenset({'add', 'replace', 'test'})
_NEEDS_FROM = frozenset({'move', 'copy'})
_READ_ONLY = frozenset(imbi_document.READ_ONLY_PATHS)
_UNDER_READ_ONLY = tuple(path + '/' for path in imbi_document.READ_ONLY_PATHS)
_SAFE_INT = 1 << 63


def validate(
    patch: object,
    document: abc.Mapping[str, typing.Any] | None = None,
    *,
    imbi: bool = True,
) -> None:
    """Raise `PatchValidationError` if the patch must not be sent.

    Args:
        patch: A sequence of operation mappings (a `Patch`, a list of dicts).
        document: The project as it is now (GET shape or patchable shape).
            When given, the operations are also tried against it: paths that
            `remove`, `replace`, `move`, `copy` and `test` read must exist,
            and so must the parent of each `add`.
        imbi: Apply Imbi's rules (read-only and GET-only paths, the values
            the server ignores). `False` checks RFC 6902 only.

    Raises:
        PatchValidationError: With one `Problem` per operation at fault.
    """
    found = problems(patch, document, imbi=imbi)
    if found:
        raise PatchValidationError(found)


def problems(
    patch: object,
    document: abc.Mapping[str, typing.Any] | None = None,
    *,
    imbi: bool = True,
) -> list[Problem]:
    """Return what `validate` would complain about (an empty list if fine)."""
    if type(patch) is not list and (
        isinstance(patch, str | bytes | abc.Mapping)
        or not isinstance(patch, abc.Sequence)
    ):
        return [
            Problem(
                None,
                'a JSON Patch is a list of operations, not '
                f'{type(patch).__name__}; wrap a single operation in a list',
            )
        ]
    found: list[Problem] = []
    for index, operation in enumerate(patch):
        found.extend(Problem(index, message) for message in _check(operation, imbi))
    if found or document is None:
        return found
    start = imbi_document.patchable(document) if imbi else document
    applier = Applier(start)
    for index, operation in enumerate(patch):
        try:
            applier.apply(index, operation)
        except PatchValidationError as error:
            # Later operations would run against an unknown state.
            return list(error.problems)
    return found


def _check(operation: object, imbi: bool) -> list[str]:
    if type(operation) is not dict and not isinstance(operation, abc.Mapping):
        return [f'an operation is an object, not {type(operation).__name__}']
    name = operation.get('op')
    if name not in OPERATIONS:
        return [f'unknown op {name!r}; use one of {", ".join(OPERATIONS)}']
    messages = []
    pointers = [('path', operation.get('path'))]
    if name in _NEEDS_FROM:
        if 'from' not in operation:
            messages.append(f'{name} needs a "from" pointer')
        else:
            pointers.append(('from', operation['from']))
    for field, pointer in pointers:
        messages.extend(_check_pointer(field, pointer, imbi))
    if name in _NEEDS_VALUE:
        if 'value' not in operation:
            messages.append(f'{name} needs a "value"')
        else:
            messages.extend(_check_value(operation['value']))
    if imbi and not messages:
        messages.extend(_check_imbi_semantics(name, operation))
    return messages


def _check_pointer(field: str, pointer: object, imbi: bool) -> list[str]:
    if not isinstance(pointer, str):
        return [f'"{field}" must be a string pointer such as "/description"']
    if pointer == '':
        return [
            f'"{field}" is the document root, which cannot be patched; '
            'name a key such as "/description"'
        ]
    try:
        tokens = split(pointer)
    except ValueError as error:
        return [str(error)]
    if not imbi:
        return []
    if pointer in _READ_ONLY or pointer.startswith(_UNDER_READ_ONLY):
        for read_only in imbi_document.READ_ONLY_PATHS:
            if pointer == read_only or pointer.startswith(read_only + '/'):
                return [f'{pointer} is read-only: the server owns {read_only}']
    top = tokens[0]
    if top in imbi_document.GET_SHAPE_KEYS:
        return [
            f'/{top} is not in the patchable document; '
            f'{imbi_document.GET_SHAPE_KEYS[top]}'
        ]
    if top in imbi_document.SERVER_KEYS:
        return [f'/{top} is computed by the server and cannot be patched']
    return []


def _check_value(value: object) -> list[str]:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return []  # always JSON: the usual value needs no `json.dumps`
    if kind is int and -_SAFE_INT < typing.cast(int, value) < _SAFE_INT:
        return []  # (a huge int exceeds Python's digits limit for `str`)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        return [f'"value" is not JSON ({error})']
    return []


def _check_imbi_semantics(
    name: str, operation: abc.Mapping[str, typing.Any]
) -> list[str]:
    path = operation['path']
    if path.count('/') != 1:
        return []  # below the top level: none of these rules
    key = split(path)[0]
    value = operation.get('value')
    if key in imbi_document.CLEARED_BY_EMPTY_STRING:
        if name == 'remove':
            return [
                f'remove does not clear /{key} (the server keeps the old value); '
                'replace it with "" instead'
            ]
        if name in ('add', 'replace') and value is None:
            return [
                f'null does not clear /{key} (the server keeps the old value); '
                'replace it with "" instead'
            ]
    if key in imbi_document.REQUIRED_STRINGS:
        if name == 'remove':
            return [f'/{key} cannot be removed; replace it with a new {key}']
        if name in ('add', 'replace') and (value is None or value == ''):
            return [
                f'the server ignores an empty /{key} and keeps the old one; '
                f'give a non-empty {key}'
            ]
    if key in ('team_slug', 'project_type_slugs') and name == 'remove':
        return [f'/{key} cannot be removed; replace it instead']
    if key == 'project_type_slugs' and name in ('add', 'replace') and value == []:
        return ['/project_type_slugs needs at least one project type slug']
    if name == 'remove' and key not in imbi_document.CORE_KEYS:
        return [
            f'remove does not clear the blueprint attribute /{key} (the server '
            'keeps the stored value); replace it with null instead'
        ]
    return []
