"""JSON Patch for Imbi: diff, build, validate and preview patches.

Examples:
    >>> from imbi_toolkit.patching import diff
    >>> before = {'name': 'Billing', 'description': 'Invoices', 'links': {}}
    >>> after = {'name': 'Billing', 'description': None,
    ...          'links': {'docs': 'https://docs.example.com'}}
    >>> diff(before, after)
    Patch([{"op": "replace", "path": "/description", "value": ""}, \
{"op": "add", "path": "/links/docs", "value": "https://docs.example.com"}])
"""

from imbi_toolkit.patching.builder import PatchBuilder
from imbi_toolkit.patching.concurrency import with_tests
from imbi_toolkit.patching.diff import diff
from imbi_toolkit.patching.document import patchable
from imbi_toolkit.patching.engine import diff_json
from imbi_toolkit.patching.errors import PatchValidationError, Problem
from imbi_toolkit.patching.patch import Patch
from imbi_toolkit.patching.pointer import escape, join, split
from imbi_toolkit.patching.preview import Preview
from imbi_toolkit.patching.validation import validate
from imbi_toolkit.patching.verify import verified_diff, verifies

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
    'split',
    'validate',
    'verified_diff',
    'verifies',
    'with_tests',
]
