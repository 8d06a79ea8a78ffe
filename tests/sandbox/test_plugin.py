"""The pytest plugin: registered by entry point, light to import."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

from imbi_toolkit.testing import SandboxProcess


def test_plugin_is_registered_through_pytest11() -> None:
    entry_points = importlib.metadata.entry_points(group='pytest11')
    assert any(ep.value == 'imbi_toolkit.testing' for ep in entry_points)


def test_importing_the_plugin_does_not_import_the_server() -> None:
    code = (
        'import sys, imbi_toolkit.testing; '
        "heavy = ('starlette', 'uvicorn', 'imbi_toolkit.sandbox.app'); "
        'print([name for name in heavy if name in sys.modules])'
    )
    result = subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == '[]'


def test_fixture_object_hides_tokens(imbi_sandbox: SandboxProcess) -> None:
    text = repr(imbi_sandbox)
    assert imbi_sandbox.base_url in text
    assert imbi_sandbox.token not in text
    assert imbi_sandbox.readonly_token not in text
    assert imbi_sandbox.env()['IMBI_CLIENT_API_TOKEN'] == imbi_sandbox.token
