"""``imbi-toolkit sandbox`` as a process: its output, signals, files, errors."""

from __future__ import annotations

import pathlib
import signal
import socket
import subprocess
import sys

import httpx
import pytest

from imbi_toolkit.testing import start_sandbox


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, '-m', 'imbi_toolkit', 'sandbox', *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
def test_prints_settings_and_stops_cleanly(signum: signal.Signals) -> None:
    sandbox = start_sandbox(seed='empty', token='my-admin-token')
    try:
        assert sandbox.base_url.startswith('http://127.0.0.1:')
        assert sandbox.token == 'my-admin-token'
        assert sandbox.readonly_token.startswith('ik_')
        assert sandbox.api_version == '2.41'
        response = httpx.get(
            sandbox.base_url + '/organizations/',
            headers={'authorization': 'Bearer my-admin-token'},
        )
        assert response.json() == []  # the empty seed
        sandbox.process.send_signal(signum)
        assert sandbox.process.wait(timeout=15) == 0
    finally:
        sandbox.stop()


def test_file_database_survives_a_restart(tmp_path: pathlib.Path) -> None:
    db = tmp_path / 'imbi.sqlite3'
    first = start_sandbox(db_path=db)
    try:
        assert first.db_path == str(db)
        headers = {'authorization': f'Bearer {first.token}'}
        projects = httpx.get(
            f'{first.base_url}/organizations/engineering/projects/', headers=headers
        )
        project = projects.json()[0]['id']
        created = httpx.post(
            f'{first.base_url}/organizations/engineering/projects/{project}/releases/',
            json={'committish': '1234567', 'title': 'kept'},
            headers=headers,
        )
        assert created.status_code == 201
    finally:
        assert first.stop() == 0
    second = start_sandbox(db_path=db)
    try:
        assert second.token != first.token
        response = httpx.get(
            f'{second.base_url}/organizations/engineering/projects/{project}/releases/',
            params={'committish': '1234567'},
            headers={'authorization': f'Bearer {second.token}'},
        )
        assert [r['title'] for r in response.json()] == ['kept']
    finally:
        second.stop()


@pytest.mark.parametrize(
    ('args', 'message'),
    [
        (['--token', 'has space'], '--token must be non-empty printable ASCII'),
        (['--fault', '{not json'], 'error:'),
        (['--fault', '{"action": "explode"}'], 'action'),
        (['--latency-ms', '-1'], 'latency_ms must not be negative'),
        (['--port', '70000'], '--port must be between 0 and 65535'),
        (['--db', '/nonexistent/dir/x.db'], 'cannot use the database'),
        (['--api-version', '3.0'], 'invalid choice'),
    ],
)
def test_bad_options_fail_with_a_clear_message(args: list[str], message: str) -> None:
    result = _run('--port', '0', *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert 'Traceback' not in result.stderr
    assert result.stdout == ''


def test_a_database_in_use_by_another_sandbox_is_a_clear_error(
    tmp_path: pathlib.Path,
) -> None:
    db = tmp_path / 'busy.sqlite'
    first = start_sandbox(db_path=db)
    try:
        result = _run('--port', '0', '--db', str(db))
        assert (
            httpx.get(
                f'{first.base_url}/users/me',
                headers={'authorization': f'Bearer {first.token}'},
            ).status_code
            == 200
        )
    finally:
        assert first.stop() == 0
    assert result.returncode == 2
    assert 'is in use by another process' in result.stderr
    assert 'Traceback' not in result.stderr


def test_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run('--port', str(port))
    assert result.returncode == 2
    assert f'cannot serve on 127.0.0.1:{port}' in result.stderr
    assert 'Traceback' not in result.stderr


def test_help_lists_the_options() -> None:
    result = _run('--help')
    assert result.returncode == 0
    for option in (
        '--db',
        '--seed',
        '--api-version',
        '--latency-ms',
        '--fault',
        '--token',
    ):
        assert option in result.stdout


def test_missing_extra_is_a_clear_error() -> None:
    code = (
        'import sys; sys.modules["uvicorn"] = None; '
        'from imbi_toolkit.cli import main; '
        'sys.exit(main(["sandbox", "--port", "0"]))'
    )
    result = subprocess.run(
        [sys.executable, '-c', code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "pip install 'imbi-toolkit[sandbox]'" in result.stderr
    assert 'Traceback' not in result.stderr
