"""The magics in a real terminal IPython, started as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import typing

from .conftest import CANARY_TOKEN

SESSION = """\
%load_ext imbi_toolkit
import sys; [m for m in ('httpx', 'pydantic_settings', 'jsonpatch') if m in sys.modules]
%config ImbiMagics.org = 'engineering'
%imbi whoami
%imbi projects --search api
%imbi fetch billing-api project
project['description'] = 'Edited in a terminal'
%imbi patch project
%imbi patch project --send
%imbi diff project
%imbi release project --committish abcdef1 --tag 7.7.7
%imbi deploy project production --tag 7.7.7
%imbi fetch no-such-project other
%reload_ext imbi_toolkit
%imbi whoami
%unload_ext imbi_toolkit
"""


def _ipython(
    sandbox: typing.Any, args: list[str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **sandbox.env(),
        'IMBI_CLIENT_MAX_RETRIES': '0',
        'NO_COLOR': '1',
    }
    return subprocess.run(
        [sys.executable, '-m', 'IPython', '--no-banner', '--colors=nocolor', *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
        check=False,
    )


def test_an_interactive_terminal_session(
    sandbox: typing.Any, tmp_path: typing.Any
) -> None:
    result = _ipython(sandbox, ['--simple-prompt', '--no-confirm-exit'], SESSION)
    out = result.stdout + result.stderr
    assert CANARY_TOKEN not in out
    assert 'Traceback' not in out
    # %load_ext imported none of the heavy dependencies.
    assert 'Out[2]: []' in out
    assert f'Connected to {sandbox.base_url}/ as admin@example.com' in out
    assert 'billing-api' in out and 'projects in engineering' in out
    assert 'billing-api: 1 change (+1 test op), not sent; add --send to send' in out
    assert 'billing-api: 1 change (+1 test op), sent' in out
    assert 'billing-api: no changes' in out
    assert 'Release 7.7.7 (abcdef1) of billing-api' in out
    assert 'Recorded success of 7.7.7 in production for billing-api' in out
    assert "UsageError: no project 'no-such-project' in engineering" in out
    assert out.count('as admin@example.com') == 2  # still works after a reload


def test_a_failing_magic_fails_the_run(sandbox: typing.Any) -> None:
    code = (
        '%load_ext imbi_toolkit\n'
        '%imbi fetch no-such-project p --org engineering\n'
        "print('not reached')\n"
    )
    result = _ipython(sandbox, ['-c', code])
    assert result.returncode != 0
    assert 'not reached' not in result.stdout
    assert "UsageError: no project 'no-such-project'" in result.stdout + result.stderr
