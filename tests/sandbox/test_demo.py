"""``imbi-toolkit demo`` walks through the client end to end and says what it did."""

from __future__ import annotations

import subprocess
import sys


def test_demo_walks_through_the_main_job() -> None:
    result = subprocess.run(
        [sys.executable, '-m', 'imbi_toolkit', 'demo'],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert '24 projects' in out
    assert "framework: 'fastapi' -> 'litestar'" in out
    assert '201 Release 2.0.0' in out
    assert 'the same again answers 200' in out
    assert "current status 'success'" in out
    assert 'GitHub subject 583231 is alice@example.com' in out
    assert 'Sandbox stopped' in out
    assert 'ik_' not in out + result.stderr  # no token is printed
