"""`diff`: the patch that turns a fetched Imbi project into an edited one."""

from __future__ import annotations

import typing
from collections import abc

from imbi_toolkit.patching import _document as imbi_document
from imbi_toolkit.patching._concurrency import with_tests
from imbi_toolkit.patching._engine import Operation, diff_json
from imbi_toolkit.patching._members import member_diff
from imbi_toolkit.patching._patch import Patch
from imbi_toolkit.patching._validation import problems
from imbi_toolkit.patching._verify import coarse_diff, verifies
from imbi_toolkit.patching.errors import PatchValidationError


def diff(
    before: abc.Mapping[str, typing.Any],
    after: abc.Mapping[str, typing.Any],
    *,
    tests: bool = False,
) -> Patch:
    """Compute the JSON Patch that turns project `before` into `after`.

    Both documents may be in the GET shape (as fetched) or the patchable
    shape; both are translated to the patchable document first, dropping
    what the server owns, so the patch never touches `/id`, `/created_at`,
    `/updated_at`, `/relationships` or the root. Imbi's traps are handled:
    clearing `description` or `icon` (setting `None` or deleting the key)
    sends `""`, and clearing a blueprint attribute (deleting it) sends
    `replace` with `null`, because `remove` would leave the old value.

    The patch is type-strict (`1`, `1.0`, `True` and `"1"` differ), small
    (an insert into a list is one op) and right: an edit of object members
    only is patched in one walk whose operations are right by construction;
    any other is verified (applied to `before` it gives `after`; if it would
    not, a coarser patch that replaces each changed top-level value is
    returned instead).

    Args:
        before: The project as fetched.
        after: The project as it should be.
        tests: Put a `test` op with the old value before each change, so
            that the server answers 422 if someone changed that value in the
            meantime instead of overwriting it. Each insert, removal or move
            is guarded by a test of the array or object it changes, so the
            patch is also `replay_safe`: sent again after its answer was
            lost, it is refused instead of inserting twice. Interactive
            callers (the magics) turn this on.

    Returns:
        A `Patch` (a list of operation dicts) that remembers the translated
        `before` for its preview. It is empty when nothing changed.

    Raises:
        PatchValidationError: When the edit cannot be expressed as a patch
            the server would honour (an empty `name`, a removed `team_slug`).
        TypeError: When a document is not a mapping.
    """
    return diff_patchable(imbi_document.patchable(before), after, tests=tests)


def diff_patchable(
    old: dict[str, typing.Any],
    after: abc.Mapping[str, typing.Any],
    *,
    tests: bool = False,
) -> Patch:
    """`diff` from a document that is `patchable(project)` already.

    `patchable` gives a document it leaves as it is, so this is `diff`
    without a second translation (and copy) of `before`; the patch's
    `before` is `old` itself. A plan calls this once per project.
    """
    new = _resolve_traps(old, imbi_document.patchable(after))
    # The usual edit changes object members only: one walk gives the
    # operations and their guards (see `_members`); anything else, the
    # general path.
    fast = member_diff(old, new, tests=tests)
    operations = _general(old, new) if fast is None else fast[0]
    found = problems(operations)
    if found:
        raise PatchValidationError(found)
    if tests:
        operations = with_tests(operations, old) if fast is None else fast[1]
    return Patch(operations, before=old)


def _general(old: dict[str, typing.Any], new: dict[str, typing.Any]) -> list[Operation]:
    """The engine's operations, checked, else the coarse ones (any edit)."""
    operations = diff_json(old, new)
    if not verifies(old, new, operations, full=True):
        operations = coarse_diff(old, new)
    return operations


def _resolve_traps(
    old: dict[str, typing.Any], new: dict[str, typing.Any]
) -> dict[str, typing.Any]:
    """Rewrite the edits the server would not honour as the ones it does."""
    for key in imbi_document.CLEARED_BY_EMPTY_STRING:
        if new.get(key) is None:
            previous = old.get(key)
            if previous is None or previous == '':
                if key in old:
                    new[key] = previous  # already clear: no change
                else:
                    new.pop(key, None)
            else:
                new[key] = ''
    for key, value in old.items():
        if key not in new and key not in imbi_document.CORE_KEYS:
            new[key] = None if value is not None else value
    return new
