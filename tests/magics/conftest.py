"""An IPython shell with the extension loaded, and a clean environment."""

from __future__ import annotations

import typing
from collections import abc

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing import globalipapp

from imbi_toolkit import magics

SETTINGS_VARIABLES = (
    'IMBI_CLIENT_API_BASE_URL',
    'IMBI_CLIENT_API_TOKEN',
    'IMBI_CLIENT_USER_AGENT',
    'IMBI_CLIENT_MAX_RETRIES',
    'IMBI_CLIENT_TIMEOUT',
)


@pytest.fixture
def clean_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: typing.Any
) -> pytest.MonkeyPatch:
    """No IMBI_CLIENT_* variables and no .env file from the developer's machine."""
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.fixture
def shell(clean_env: pytest.MonkeyPatch) -> abc.Iterator[InteractiveShell]:
    """The test IPython shell, with the extension loaded for one test."""
    globalipapp.start_ipython()  # once per process; later calls return None
    ip = typing.cast(InteractiveShell, globalipapp.get_ipython())
    # %config values live in the shell's config, which outlives the extension.
    ip.config.pop('ImbiMagics', None)
    ip.run_line_magic('load_ext', 'imbi_toolkit')
    try:
        yield ip
    finally:
        ip.run_line_magic('unload_ext', 'imbi_toolkit')
        ip.extension_manager.loaded.discard('imbi_toolkit')
        ip.config.pop('ImbiMagics', None)
        assert magics.loaded(ip) is None


def run_cell(shell: InteractiveShell, source: str) -> typing.Any:
    """Run a cell as a notebook would; return its result object."""
    return shell.run_cell(source, store_history=False)


# A token only these tests use: it must never show up in any output.
CANARY_TOKEN = 'ik_00000000000000000000000000000000_CANARY-magics-token-never-shown'


@pytest.fixture(scope='session')
def canary_sandbox(imbi_sandbox_factory: typing.Any) -> typing.Any:
    """A demo sandbox whose admin token is the canary."""
    return imbi_sandbox_factory(token=CANARY_TOKEN)


@pytest.fixture
def sandbox(canary_sandbox: typing.Any, clean_env: pytest.MonkeyPatch) -> typing.Any:
    """The canary sandbox with fresh data, and IMBI_CLIENT_* pointing at it."""
    canary_sandbox.reset()
    for name, value in canary_sandbox.env().items():
        clean_env.setenv(name, value)
    clean_env.setenv('IMBI_CLIENT_MAX_RETRIES', '0')
    return canary_sandbox


@pytest.fixture
def ip(sandbox: typing.Any, shell: InteractiveShell) -> InteractiveShell:
    """The shell, connected to the canary sandbox's engineering organization."""
    shell.run_line_magic('config', "ImbiMagics.org = 'engineering'")
    return shell


def renderings(value: object) -> str:
    """Everything a front end could show for `value`."""
    parts = [repr(value), str(value)]
    for method in ('_repr_html_', '_repr_markdown_'):
        render = getattr(value, method, None)
        if render is not None:
            parts.append(str(render()))
    render_tb = getattr(value, '_render_traceback_', None)
    if render_tb is not None:
        parts.extend(render_tb())
    return '\n'.join(parts)
