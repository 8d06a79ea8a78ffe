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
    ip.run_line_magic('load_ext', 'imbi_toolkit')
    try:
        yield ip
    finally:
        ip.run_line_magic('unload_ext', 'imbi_toolkit')
        ip.extension_manager.loaded.discard('imbi_toolkit')
        assert magics.loaded(ip) is None


def run_cell(shell: InteractiveShell, source: str) -> typing.Any:
    """Run a cell as a notebook would; return its result object."""
    return shell.run_cell(source, store_history=False)
