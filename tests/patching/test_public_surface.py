"""What `imbi_toolkit.patching` offers (tracker issue 12)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import imbi_toolkit.patching as patching


def test_exports_only_what_users_type() -> None:
    assert sorted(patching.__all__) == [
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
    for name in patching.__all__:
        assert getattr(patching, name).__module__.startswith('imbi_toolkit.patching')
    # `diff` is the function, not a module of the same name.
    assert callable(patching.diff)


def test_internal_modules_are_underscored() -> None:
    public = sorted(
        module.name
        for module in pkgutil.iter_modules(patching.__path__)
        if not module.name.startswith('_')
    )
    # errors: the exceptions users catch; secrets: masking, shared with the
    # magics.
    assert public == ['errors', 'secrets']


def test_import_is_light() -> None:
    code = (
        'import sys, imbi_toolkit.patching; '
        "print(sorted(m for m in ('jsonpatch', 'jsonpointer', 'IPython', 'httpx') "
        'if m in sys.modules))'
    )
    result = subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == '[]'
