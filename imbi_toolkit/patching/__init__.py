"""JSON Patch for Imbi: diff, build, validate and preview patches.

Examples:
    >>> from imbi_toolkit.patching import diff
    >>> before = {'name': 'Billing', 'description': 'Invoices', 'links': {}}
    >>> after = {'name': 'Billing', 'description': None,
    ...          'links': {'docs': 'https://docs.example.com'}}
    >>> diff(before, after)
    Patch([{"op": "replace", "path": "/description", "value": ""}, \
{"op": "add", "path": "/links/docs", "value": "https://docs.example.com"}])

Everything a user needs is importable from here; the modules whose names start
with `_` (the diff engine, the strictness checks, the list planner, the
applier) are internal and may change without notice.
"""

from imbi_toolkit.patching._builder import PatchBuilder
from imbi_toolkit.patching._concurrency import replay_safe
from imbi_toolkit.patching._diff import diff
from imbi_toolkit.patching._document import patchable
from imbi_toolkit.patching._engine import diff_json
from imbi_toolkit.patching._patch import Patch
from imbi_toolkit.patching._pointer import escape, join, split
from imbi_toolkit.patching._preview import Preview
from imbi_toolkit.patching._validation import validate
from imbi_toolkit.patching.errors import PatchValidationError, Problem

__all__ = [
    'Patch',
    'PatchBuilder',
    'PatchValidationError',
    'Preview',
    'Problem',
    'diff',
    'diff_json',
    'escape',
    'join',
    'patchable',
    'replay_safe',
    'split',
    'validate',
]
