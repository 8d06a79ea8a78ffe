"""Check that operations turn `before` into `after`; a coarse fallback.

The check applies the operations copy-on-write (`_apply.Applier`) and then
compares only what they touched: a subtree that is still the very object of
`before` at the same path was judged equal to `after` by the diff engine's
strict comparison and is not compared again. Everything the operations
built, moved or replaced is compared strictly, so index, order and move
mistakes (python-json-patch #124, #138, #160, #179) are caught.
"""

from __future__ import annotations

import operator
import typing

from imbi_toolkit.patching._apply import Applier
from imbi_toolkit.patching._engine import Operation, diff_json
from imbi_toolkit.patching._equality import same_batch, strictly_equal
from imbi_toolkit.patching._pointer import escape
from imbi_toolkit.patching.errors import PatchValidationError

_MISSING = object()
_is = operator.is_
_eq = operator.eq


def verifies(
    before: object, after: object, operations: list[Operation], *, full: bool = False
) -> bool:
    """Tell whether applying `operations` to `before` gives `after`.

    Args:
        before: The old document.
        after: The new document.
        operations: The operations to check.
        full: Compare the untouched subtrees too. Without it (the default)
            the check catches wrong operations but trusts the diff engine
            that nothing is missing; with it, it catches both, for about the
            cost of a second diff.
    """
    applier = Applier(before)
    try:
        for index, operation in enumerate(operations):
            applier.apply(index, operation)
    except PatchValidationError:
        return False
    return _matches(applier.document, after, _MISSING if full else before, applier)


def verified_diff(
    before: object, after: object, *, full: bool = False
) -> list[Operation]:
    """`diff_json`, checked with `verifies`, else `coarse_diff`."""
    operations = diff_json(before, after)
    if verifies(before, after, operations, full=full):
        return operations
    return coarse_diff(before, after)


def coarse_diff(before: object, after: object) -> list[Operation]:
    """Replace each changed top-level value whole (never the root of a dict)."""
    if type(before) is not dict or type(after) is not dict:
        return (
            []
            if strictly_equal(before, after)
            else [{'op': 'replace', 'path': '', 'value': after}]
        )
    operations: list[Operation] = []
    for key, value in before.items():
        path = '/' + escape(key)
        if key not in after:
            operations.append({'op': 'remove', 'path': path})
        elif not strictly_equal(value, after[key]):
            operations.append({'op': 'replace', 'path': path, 'value': after[key]})
    for key, value in after.items():
        if key not in before:
            operations.append({'op': 'add', 'path': '/' + escape(key), 'value': value})
    return operations


def _matches(
    result: object, target: object, original: object, applier: Applier
) -> bool:
    if result is target or (original is not _MISSING and result is original):
        return True
    if not applier.owns(result):
        return strictly_equal(result, target)
    kind = type(result)
    if kind is not type(target):
        return False
    if kind is dict:
        result_dict = typing.cast(dict[str, object], result)
        target_dict = typing.cast(dict[str, object], target)
        if result_dict.keys() != target_dict.keys():
            return False
        keys = list(result_dict)
        results = list(result_dict.values())
        targets = list(map(target_dict.__getitem__, keys))
        if original is not _MISSING and type(original) is dict:
            originals = [original.get(key, _MISSING) for key in keys]
        else:
            originals = [_MISSING] * len(keys)
    else:
        result_list = typing.cast(list[object], result)
        target_list = typing.cast(list[object], target)
        if len(result_list) != len(target_list):
            return False
        results, targets = result_list, target_list
        # An item at the same index in `before` is not necessarily the same
        # item (inserts and moves shift them), so no item is taken on trust.
        originals = [_MISSING] * len(results)
    return _children_match(results, targets, originals, applier)


def _children_match(
    results: list[object],
    targets: list[object],
    originals: list[object],
    applier: Applier,
) -> bool:
    loose_results: list[object] = []
    loose_targets: list[object] = []
    for result, target, original in zip(results, targets, originals, strict=True):
        if result is target or (original is not _MISSING and result is original):
            continue
        if applier.owns(result):
            if not _matches(result, target, original, applier):
                return False
        else:
            loose_results.append(result)
            loose_targets.append(target)
    if not loose_results:
        return True
    if not all(map(_eq, loose_results, loose_targets)):
        return False
    if same_batch(loose_results, loose_targets):
        return True
    return all(map(strictly_equal, loose_results, loose_targets))
