"""A failing magic says what went wrong in one line, and settings changes apply."""

from __future__ import annotations

import logging
import pathlib
import typing

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from imbi_toolkit.api import errors
from imbi_toolkit.magics import loaded

from .conftest import CANARY_TOKEN, renderings

pytestmark = pytest.mark.attack('crashes')

LOGIN_PAGE = '<html><body><form action="/login">Sign in</form></body></html>'


def _one_line(error: BaseException) -> str:
    render = getattr(error, '_render_traceback_', None)
    assert render is not None, repr(error)
    (line,) = render()
    assert CANARY_TOKEN not in line
    return str(line)


@pytest.mark.parametrize(
    ('line', 'path'),
    [
        ('whoami', '/users/me'),
        ('projects', '/organizations/engineering/projects/'),
        ('fetch billing-api p', '/organizations/engineering/projects/'),
        ('release billing-api --committish abc1234 --tag 9.9.9', '*/releases/'),
    ],
)
def test_a_login_page_instead_of_json_is_one_line(
    ip: InteractiveShell, sandbox: typing.Any, line: str, path: str
) -> None:
    sandbox.add_fault(path=path, status=200, text=LOGIN_PAGE)
    with pytest.raises(errors.UnexpectedResponseError) as raised:
        ip.run_line_magic('imbi', line)
    text = _one_line(raised.value)
    assert 'answered 200 with text/html; charset=utf-8, not ' in text, text
    assert 'is the base URL the Imbi API' in text


def test_json_of_the_wrong_shape_is_one_line(
    shell: InteractiveShell, sandbox: typing.Any
) -> None:
    # No default organization: the magic reads the list of organizations.
    sandbox.add_fault(path='/organizations/', status=200, body={'items': []})
    with pytest.raises(errors.UnexpectedResponseError) as raised:
        shell.run_line_magic('imbi', 'projects')
    text = _one_line(raised.value)
    assert '/organizations/ answered 200 with application/json, not ' in text


def test_a_document_missing_a_field_is_one_line(
    ip: InteractiveShell, sandbox: typing.Any
) -> None:
    # A JSON object, as the typed reader checks, but not a project.
    sandbox.add_fault(
        method='GET',
        path='/organizations/engineering/projects/?*',
        status=200,
        body={'message': 'welcome'},
    )
    with pytest.raises(errors.UnexpectedResponseError) as raised:
        ip.run_line_magic('imbi', 'fetch billing-api p')
    text = _one_line(raised.value)
    assert 'answered 200 with application/json, JSON of another shape' in text
    assert 'KeyError' in text
    assert 'p' not in ip.user_ns


def test_a_failing_cell_shows_one_line_without_the_helpers_warning(
    ip: InteractiveShell,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    ip.run_line_magic('imbi', 'fetch billing-api p')
    ip.user_ns['p']['team_slug'] = 'nobody'
    result = ip.run_cell('%imbi patch p --send', store_history=False)
    assert isinstance(result.error_in_exec, errors.UnprocessableEntityError)
    # The seed helper still logs its warning, but not into the cell's output.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    out = capsys.readouterr()
    lines = [line for line in (out.out + out.err).splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith('UnprocessableEntityError: 422')


def test_the_helpers_warnings_still_show_when_the_magic_succeeds(
    ip: InteractiveShell, sandbox: typing.Any, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.add_fault(path='/users/by-identity', status=500)
    caplog.set_level(logging.WARNING)
    message = ip.run_line_magic('imbi', 'user github 583231')
    assert 'No Imbi user matches' in repr(message)
    assert any('Failed to look up user' in r.getMessage() for r in caplog.records)


def test_env_set_after_loading_is_used_by_the_next_magic(
    shell: InteractiveShell, sandbox: typing.Any, clean_env: pytest.MonkeyPatch
) -> None:
    # Loaded with nothing set: the first magic fails, naming the variable.
    for name in sandbox.env():
        clean_env.delenv(name)
    shell.run_line_magic('unload_ext', 'imbi_toolkit')
    shell.run_line_magic('load_ext', 'imbi_toolkit')
    with pytest.raises(UsageError, match='set IMBI_CLIENT_API_TOKEN'):
        shell.run_line_magic('imbi', 'whoami')
    # As %env does.
    for name, value in sandbox.env().items():
        clean_env.setenv(name, value)
    banner = shell.run_line_magic('imbi', 'whoami')
    assert repr(banner) == (
        f'Connected to {sandbox.base_url}/ as admin@example.com (Sandbox Admin)'
    )
    magics = loaded(shell)
    assert magics is not None and magics.base_url.rstrip('/') == sandbox.base_url


def test_a_fixed_token_is_used_after_a_401(
    ip: InteractiveShell, sandbox: typing.Any, clean_env: pytest.MonkeyPatch
) -> None:
    ip.run_line_magic('imbi', 'whoami')
    clean_env.setenv('IMBI_CLIENT_API_TOKEN', 'ik_not-a-valid-token')
    with pytest.raises(errors.AuthenticationError) as raised:
        ip.run_line_magic('imbi', 'whoami')
    text = _one_line(raised.value)
    assert text.startswith('AuthenticationError: 401')
    assert 'set IMBI_CLIENT_API_TOKEN to a valid token' in text
    assert 'ik_not-a-valid-token' not in text
    clean_env.setenv('IMBI_CLIENT_API_TOKEN', sandbox.token)
    assert 'admin@example.com' in repr(ip.run_line_magic('imbi', 'whoami'))


def test_a_changed_token_variable_or_env_file_is_used(
    ip: InteractiveShell, sandbox: typing.Any, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv('MY_TOKEN', sandbox.readonly_token)
    assert 'readonly@' in repr(
        ip.run_line_magic('imbi', 'connect --token-env MY_TOKEN')
    )
    clean_env.setenv('MY_TOKEN', sandbox.token)
    assert 'admin@' in repr(ip.run_line_magic('imbi', 'whoami'))
    # A .env file in the working directory counts too.
    ip.run_line_magic('config', "ImbiMagics.token_env = 'IMBI_CLIENT_API_TOKEN'")
    clean_env.delenv('IMBI_CLIENT_API_TOKEN')
    pathlib.Path('.env').write_text(f'IMBI_CLIENT_API_TOKEN={sandbox.readonly_token}\n')
    assert 'readonly@' in repr(ip.run_line_magic('imbi', 'whoami'))


def test_the_fingerprint_holds_no_token(
    ip: InteractiveShell, sandbox: typing.Any
) -> None:
    import hashlib

    magics = loaded(ip)
    assert magics is not None
    ip.run_line_magic('imbi', 'whoami')
    fingerprint = magics._fingerprint
    assert CANARY_TOKEN not in fingerprint
    assert hashlib.sha256(CANARY_TOKEN.encode()).hexdigest() != fingerprint
    assert CANARY_TOKEN not in renderings(magics.session)
