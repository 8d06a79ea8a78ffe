"""`test` operations: optimistic concurrency and replay safety.

Imbi has no ETags (docs/imbi-api.md#concurrency). A `test` op before each
change makes the server answer 422 when someone else changed that value since
it was read, instead of silently overwriting their edit. The same ops make a
patch safe to send again when its answer was lost: a write may be retried only
when applying it twice cannot change the result.

`replace` (and `add` of an object member) writes a constant, so writing it
again changes nothing. Every other change depends on the document it meets:
an `add` into an array inserts again (`['a']` becomes `['a', 'b', 'b']`), a
`remove` from an array removes the next item, a `move` or `copy` moves or
copies whatever is there now. Each of those is guarded by a `test` of the old
value of the container it changes (the array or object), so that once the
patch has been applied the test fails and the second application is refused.
A `test` of some other path does not help: it passes again.
"""

from __future__ import annotations

import copy
import re
import typing
from collections import abc

from imbi_toolkit.patching._apply import Applier
from imbi_toolkit.patching._engine import Operation
from imbi_toolkit.patching._pointer import join, split

# A token that may name an array item: an index, or `-` (past the end).
_INDEX_LIKE = re.compile(r'-|0|[1-9][0-9]*')


def with_tests(
    operations: abc.Iterable[abc.Mapping[str, typing.Any]], before: object
) -> list[Operation]:
    """Return the operations with `test` ops of the old values they change.

    Each change is preceded, unless an earlier `test` already covers it, by
    a `test` of:

    * the path it replaces or removes, when that is an object member;
    * the whole array, for anything inside an array (a concurrent insert
      shifts the indices, so a test of one item would check another);
    * the object that gains a member, for an `add` of a new key (JSON Patch
      cannot test that a key is absent), except at the top level, where
      that would be the whole document (Imbi refuses a test of the root)
      and where writing the same key twice changes nothing anyway;
    * for `move` and `copy`, the `from` location in the same way.

    A location is tested once, before the first operation that changes it,
    with its value at that point (the state the earlier operations left,
    which the server will also see). The result passes `replay_safe`.

    Raises:
        PatchValidationError: When an operation does not fit `before`.
    """
    applier = Applier(before)
    guarded: list[list[str]] = []
    result: list[Operation] = []
    for index, operation in enumerate(operations):
        if operation.get('op') != 'test':
            member_ok = operation.get('op') == 'replace'
            for pointer in _changed_or_read(operation):
                tokens = _guard(applier, pointer, member_ok)
                if tokens is None or any(
                    tokens[: len(done)] == done for done in guarded
                ):
                    continue  # nothing to test, or an earlier test covers it
                guarded.append(tokens)
                guard = join(*tokens)
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


def replay_safe(operations: abc.Iterable[abc.Mapping[str, typing.Any]]) -> bool:
    """Tell whether a patch may be sent again after its answer was lost.

    A patch is replay-safe when applying it a second time cannot change the
    document: every operation either writes a constant (`replace`, and an
    `add` of a top-level member, which Imbi cannot guard) or is guarded by
    an earlier `test` that fails once the patch has been applied:

    * an `add` into an array (an index or `-`), a `remove`, a `move` or a
      `copy` needs a `test` of the container it changes (or of a container
      around that);
    * for an object member, a `test` of the member itself also does: it
      proves an `add` or `copy` target existed (so it is overwritten), and
      a removed or moved-away member is gone on the second application;
    * an `add` of a member of a nested object needs one of those too, so
      that a retry never brings back a key someone removed meanwhile;
    * `move` and `copy` also need their `from` location guarded, since they
      carry whatever is there.

    The check reads the operations only. It takes the document to be an
    object, as an Imbi project always is; below the top level, whether a
    token such as `0` names an array item or an object key is unknown, so
    it is taken as an array item. `with_tests` and `diff(tests=True)`
    produce patches that pass. One limit: Imbi applies `test` with Python's
    `==`, which calls `1` and `True` equal, so a hand-written reorder of
    such items is not caught.

    Args:
        operations: The patch (a `Patch` or a list of operation mappings).

    Returns:
        `False` when a second application could write again, or when an
        operation is malformed (nothing can be promised about it).

    Example:
        >>> replay_safe([{'op': 'add', 'path': '/tags/-', 'value': 'b'}])
        False
        >>> replay_safe([
        ...     {'op': 'test', 'path': '/tags', 'value': ['a']},
        ...     {'op': 'add', 'path': '/tags/-', 'value': 'b'},
        ... ])
        True
    """
    tested: list[list[str]] = []
    try:
        for operation in operations:
            name = operation['op']
            tokens = split(operation['path'])
            if name == 'test':
                tested.append(tokens)
            elif name == 'replace':
                continue
            elif name == 'add':
                if not _target_guarded(tokens, tested):
                    return False
            elif name == 'remove':
                if not tokens or not _source_guarded(tokens, tested):
                    return False
            elif name in ('move', 'copy'):
                source = split(operation['from'])
                if name == 'move':
                    read = bool(source) and _source_guarded(source, tested)
                else:
                    read = _covered(source, tested)
                if not read or not _target_guarded(tokens, tested):
                    return False
            else:
                return False
    except (AttributeError, KeyError, TypeError, ValueError):
        return False  # malformed: `validate` says what is wrong
    return True


def _covered(tokens: list[str], tested: list[list[str]]) -> bool:
    """Whether a `test` of `tokens` or of a container around it came first."""
    return any(tokens[: len(done)] == done for done in tested)


def _member(tokens: list[str]) -> bool:
    """Whether the last token can only name an object member: a top-level
    one (the document is an object), or one that is no array index."""
    return len(tokens) == 1 or (bool(tokens) and not _INDEX_LIKE.fullmatch(tokens[-1]))


def _source_guarded(tokens: list[str], tested: list[list[str]]) -> bool:
    """A location that is removed (by `remove` or `move`)."""
    if _covered(tokens[:-1], tested):
        return True
    return _member(tokens) and tokens in tested


def _target_guarded(tokens: list[str], tested: list[list[str]]) -> bool:
    """A location that is written (by `add`, `move` or `copy`) with a value
    that is known: a constant, or what a guarded `from` holds."""
    if not tokens:
        return True  # the whole document, replaced
    if _covered(tokens[:-1], tested):
        return True
    if not _member(tokens):
        return False  # an insert into an array, unguarded
    # A top-level member written with a known value is written the same
    # way twice; anywhere else the rule asks for a guard.
    return len(tokens) == 1 or tokens in tested


def _changed_or_read(operation: abc.Mapping[str, typing.Any]) -> list[str]:
    name = operation['op']
    pointers = []
    if name in ('move', 'copy'):
        pointers.append(operation['from'])
    pointers.append(operation['path'])
    return pointers


def _guard(applier: Applier, pointer: str, member_ok: bool) -> list[str] | None:
    """The tokens of the location whose old value guards a change at
    `pointer`, or None when nothing needs (or can get) a test.

    Args:
        member_ok: Whether a test of an object member itself will do even
            when its key looks like an array index (`replay_safe` cannot
            tell such a key from an index; a `replace` needs no guard).
    """
    tokens = split(pointer)
    value: typing.Any = applier.document
    for depth, token in enumerate(tokens):
        if type(value) is list:
            return tokens[:depth]  # the whole array
        if type(value) is not dict:
            return None  # the applier will refuse the operation
        if token not in value:
            # A new key: its object, unless that is the whole document.
            return tokens[:depth] if depth else None
        value = value[token]
    if not tokens:
        return None
    if not member_ok and len(tokens) > 1 and _INDEX_LIKE.fullmatch(tokens[-1]):
        return tokens[:-1]
    return tokens
