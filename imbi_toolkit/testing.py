"""pytest fixtures that run a real Imbi sandbox in a subprocess.

Registered as a pytest plugin through the ``pytest11`` entry point, so any
project that installs ``imbi-toolkit[sandbox]`` gets these fixtures:

- ``imbi_sandbox``: a demo-seeded sandbox (API 2.16), shared by the session
  and reset (data reloaded, fault rules removed) before each test;
- ``imbi_sandbox_session``: the same sandbox, never reset;
- ``imbi_sandbox_factory``: starts sandboxes with other options
  (``seed``, ``api_version``, ``latency_ms``, ``db_path``, ``faults``) and
  stops them at the end of the session.

Each gives a :class:`SandboxProcess`. This module imports nothing heavy, so
loading the plugin costs nothing for test runs that do not use it.
"""

from __future__ import annotations

import contextlib
import typing
from collections import abc

import pytest

from imbi_toolkit.sandbox.process import (
    SandboxProcess,
    SandboxStartError,
    start_sandbox,
)

__all__ = ['SandboxProcess', 'SandboxStartError', 'start_sandbox']


@pytest.fixture(scope='session')
def imbi_sandbox_factory() -> abc.Iterator[abc.Callable[..., SandboxProcess]]:
    """Start sandboxes with :func:`start_sandbox`'s options; all stop at session end."""
    started: list[SandboxProcess] = []

    def start(**options: typing.Any) -> SandboxProcess:
        sandbox = start_sandbox(**options)
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        with contextlib.suppress(Exception):
            sandbox.stop()


@pytest.fixture(scope='session')
def imbi_sandbox_session(
    imbi_sandbox_factory: abc.Callable[..., SandboxProcess],
) -> SandboxProcess:
    """One demo-seeded sandbox (API 2.16) for the whole session, never reset."""
    return imbi_sandbox_factory()


@pytest.fixture
def imbi_sandbox(imbi_sandbox_session: SandboxProcess) -> SandboxProcess:
    """The session's demo sandbox, with fresh data and no fault rules."""
    status = imbi_sandbox_session.process.poll()
    if status is not None:
        pytest.fail(
            f'the session sandbox exited (status {status}); a test must not stop '
            'imbi_sandbox: start its own with imbi_sandbox_factory'
        )
    imbi_sandbox_session.reset()
    return imbi_sandbox_session
