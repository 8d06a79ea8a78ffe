"""The pytest plugin: registered by entry point, light to import."""

from __future__ import annotations

import importlib.metadata
import pathlib
import subprocess
import sys

import httpx
import pytest

from imbi_toolkit.testing import API_VERSIONS, SandboxProcess


def test_plugin_is_registered_through_pytest11() -> None:
    entry_points = importlib.metadata.entry_points(group='pytest11')
    assert any(ep.value == 'imbi_toolkit.testing' for ep in entry_points)


def test_importing_the_plugin_does_not_import_the_server() -> None:
    code = (
        'import sys, imbi_toolkit.testing; '
        "heavy = ('starlette', 'uvicorn', 'imbi_toolkit.sandbox._app'); "
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


def test_imbi_sandbox_emulates_2_41_by_default(imbi_sandbox: SandboxProcess) -> None:
    assert imbi_sandbox.api_version == '2.41'


@pytest.mark.imbi_api_version('2.41')
def test_the_marker_picks_the_api_line(
    imbi_sandbox: SandboxProcess, imbi_api_version: str
) -> None:
    assert imbi_api_version == imbi_sandbox.api_version == '2.41'
    spec = httpx.get(imbi_sandbox.base_url + '/openapi.json').json()
    assert spec['info']['version'] == '2.41.0'


@pytest.mark.parametrize('imbi_api_version', API_VERSIONS)
def test_parametrizing_the_line_runs_on_each(
    imbi_sandbox: SandboxProcess, imbi_api_version: str
) -> None:
    assert imbi_sandbox.api_version == imbi_api_version


def test_an_unknown_line_is_a_clear_usage_error(tmp_path: pathlib.Path) -> None:
    (tmp_path / 'test_line.py').write_text(
        'import pytest\n\n\n'
        "@pytest.mark.imbi_api_version('2.99')\n"
        'def test_it(imbi_sandbox):\n'
        '    pass\n'
    )
    result = subprocess.run(
        [sys.executable, '-m', 'pytest', '-q', '-p', 'no:randomly', str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode != 0
    assert (
        "imbi_api_version must be one of 2.11, 2.16, 2.30, 2.41, not '2.99'"
        in result.stdout
    )
