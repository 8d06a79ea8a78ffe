"""A JupyterLab server and headless Chromium, driven by Playwright, for the tests.

Chromium is Debian's (`make test` installs it); Playwright drives it through
`executable_path`, so Playwright's own browser download is never needed.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import typing
from collections import abc

import httpx
import pytest

CHROMIUM_VARIABLE = 'IMBI_TEST_CHROMIUM'
#: Screenshots and measurements (gitignored), named in the run's summary.
ARTIFACTS = pathlib.Path(__file__).parent / 'artifacts'
INSTALL_HINT = (
    'run `make install-browser` (as root: Debian chromium, jupyterlab, playwright)'
)


def chromium_path() -> str:
    """The Chromium binary, or a failed test naming how to install it."""
    configured = os.environ.get(CHROMIUM_VARIABLE)
    if configured:
        if not os.access(configured, os.X_OK):
            pytest.fail(
                f'{CHROMIUM_VARIABLE}={configured} is not an executable file: '
                'point it at a Chromium binary or unset it',
                pytrace=False,
            )
        return configured
    found = shutil.which('chromium') or shutil.which('chromium-browser')
    if found is None:
        pytest.fail(
            f'headless Chromium is needed for the browser tests and was not found '
            f'on PATH: {INSTALL_HINT}, or set {CHROMIUM_VARIABLE} to its path',
            pytrace=False,
        )
    return found


def require_modules() -> None:
    """Fail (not skip) when the `browser` extra is not installed."""
    import importlib.util

    missing = [
        name
        for name in ('playwright', 'jupyterlab', 'ipywidgets')
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        pytest.fail(
            f'the browser tests need {", ".join(missing)}: {INSTALL_HINT}',
            pytrace=False,
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


def _write_settings(directory: pathlib.Path) -> None:
    """User settings for a quiet, deterministic JupyterLab."""
    settings: dict[str, dict[str, object]] = {
        # Every cell in the DOM, so that outputs far down can be measured.
        '@jupyterlab/notebook-extension/tracker': {'windowingMode': 'none'},
        # No toasts over the outputs, and nothing fetched from the internet.
        '@jupyterlab/apputils-extension/notification': {
            'fetchNews': 'false',
            'checkForUpdates': False,
            'doNotDisturbMode': True,
        },
        # Start light whatever the browser prefers; the test switches to dark.
        '@jupyterlab/apputils-extension/themes': {
            'theme': 'JupyterLab Light',
            'adaptive-theme': False,
        },
    }
    for plugin, values in settings.items():
        path = directory / f'{plugin}.jupyterlab-settings'
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


class LabServer(typing.NamedTuple):
    """A running JupyterLab: its URL and token, and the process."""

    url: str
    token: str
    process: subprocess.Popen[bytes]
    log: pathlib.Path


@contextlib.contextmanager
def lab_server(
    root: pathlib.Path, state: pathlib.Path, env: abc.Mapping[str, str]
) -> abc.Iterator[LabServer]:
    """Run JupyterLab on 127.0.0.1 serving `root`; kernels get `env`.

    Args:
        root: The folder the file browser shows (holds the notebooks).
        state: A folder for JupyterLab's settings, runtime files and log.
        env: The server's environment, which its kernels inherit.
    """
    import secrets

    token = secrets.token_hex(16)
    port = _free_port()
    settings = state / 'user-settings'
    _write_settings(settings)
    for name in ('config', 'data', 'runtime', 'workspaces', 'ipython'):
        (state / name).mkdir(parents=True, exist_ok=True)
    server_env = {
        **env,
        # Nothing from the developer's own Jupyter or IPython setup.
        'JUPYTER_CONFIG_DIR': str(state / 'config'),
        'JUPYTER_DATA_DIR': str(state / 'data'),
        'JUPYTER_RUNTIME_DIR': str(state / 'runtime'),
        'IPYTHONDIR': str(state / 'ipython'),
        'PYDEVD_DISABLE_FILE_VALIDATION': '1',
    }
    command = [
        sys.executable,
        '-m',
        'jupyterlab',
        '--no-browser',
        # CI runs as root; the server only listens on loopback, with a token.
        '--allow-root',
        '--ServerApp.ip=127.0.0.1',
        f'--ServerApp.port={port}',
        '--ServerApp.port_retries=0',
        f'--IdentityProvider.token={token}',
        f'--ServerApp.root_dir={root}',
        f'--LabApp.user_settings_dir={settings}',
        f'--LabApp.workspaces_dir={state / "workspaces"}',
        # window.jupyterapp: to switch themes and read the kernel's state.
        '--LabApp.expose_app_in_browser=True',
        '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
        '--LabApp.extension_manager=readonly',
    ]
    log = state / 'jupyterlab.log'
    with log.open('wb') as log_file:
        process = subprocess.Popen(
            command,
            env=server_env,
            cwd=root,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f'http://127.0.0.1:{port}'
    try:
        _wait_until_up(url, token, process, log)
        yield LabServer(url, token, process, log)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(15)


def _wait_until_up(
    url: str, token: str, process: subprocess.Popen[bytes], log: pathlib.Path
) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f'JupyterLab exited with status {process.returncode}:\n'
                + log.read_text(errors='replace')[-3000:],
                pytrace=False,
            )
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.get(
                f'{url}/api/status', headers={'authorization': f'token {token}'}
            )
            if response.status_code == 200:
                return
        time.sleep(0.25)
    pytest.fail(
        'JupyterLab did not answer within 90 s:\n'
        + log.read_text(errors='replace')[-3000:],
        pytrace=False,
    )
