"""Without Chromium the browser test fails and says how to install it (no skip)."""

from __future__ import annotations

import pathlib

import pytest

from . import lab


def test_missing_chromium_fails_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.delenv(lab.CHROMIUM_VARIABLE, raising=False)
    monkeypatch.setenv('PATH', str(tmp_path))  # no chromium on it
    with pytest.raises(pytest.fail.Exception) as failure:
        lab.chromium_path()
    message = str(failure.value)
    assert 'Chromium' in message and 'make install-browser' in message
    assert lab.CHROMIUM_VARIABLE in message


def test_a_wrong_chromium_path_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(lab.CHROMIUM_VARIABLE, '/nonexistent/chromium')
    with pytest.raises(pytest.fail.Exception, match='/nonexistent/chromium'):
        lab.chromium_path()


def test_chromium_is_found_here() -> None:
    # `make test` installs it; on this machine the browser test must run.
    assert pathlib.Path(lab.chromium_path()).exists()
