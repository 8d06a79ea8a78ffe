"""pytest fixtures that run a real Imbi sandbox in a subprocess.

Registered as a pytest plugin through the ``pytest11`` entry point, so any
project that installs ``imbi-toolkit[sandbox]`` gets these fixtures:

- ``imbi_sandbox``: a demo-seeded sandbox, shared by the session and reset
  (data reloaded, fault rules removed) before each test. It emulates the
  API line of ``imbi_api_version``;
- ``imbi_api_version``: the line to emulate, `2.41` unless a test says
  otherwise with ``@pytest.mark.imbi_api_version('2.16')`` or by
  parametrizing it (``@pytest.mark.parametrize('imbi_api_version',
  ['2.16', '2.41'])``); the lines are `2.11`, `2.16`, `2.30` and `2.41`;
- ``imbi_sandbox_session``: the default line's sandbox, never reset;
- ``imbi_sandbox_factory``: starts sandboxes with other options
  (``seed``, ``api_version``, ``latency_ms``, ``response_time_ms``,
  ``db_path``, ``faults``, ``projects``) and stops them at the end of the
  session.

Each gives a :class:`SandboxProcess`. One sandbox per API line is started,
when a test first asks for it. This module imports nothing heavy, so
loading the plugin costs nothing for test runs that do not use it.
"""

from __future__ import annotations

import contextlib
import typing
from collections import abc

import pytest

from imbi_toolkit.sandbox._process import (
    SandboxProcess,
    SandboxStartError,
    start_sandbox,
)
from imbi_toolkit.sandbox._versions import DEFAULT_LINE, GENERATIONS

__all__ = [
    'API_VERSIONS',
    'SandboxProcess',
    'SandboxStartError',
    'start_sandbox',
]

API_VERSIONS: tuple[str, ...] = tuple(GENERATIONS)
"""Every API line the sandbox emulates, oldest first."""

_MARKER = 'imbi_api_version'


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        'markers',
        f'{_MARKER}(line): the API line imbi_sandbox emulates '
        f'(one of {", ".join(API_VERSIONS)})',
    )


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
    _imbi_sandboxes: abc.Callable[[str], SandboxProcess],
) -> SandboxProcess:
    """One demo-seeded sandbox (API 2.16) for the whole session, never reset."""
    return _imbi_sandboxes(DEFAULT_LINE)


@pytest.fixture(scope='session')
def _imbi_sandboxes(
    imbi_sandbox_factory: abc.Callable[..., SandboxProcess],
) -> abc.Callable[[str], SandboxProcess]:
    """The session's shared sandbox of an API line, started on first use."""
    shared: dict[str, SandboxProcess] = {}

    def get(line: str) -> SandboxProcess:
        if line not in GENERATIONS:
            raise pytest.UsageError(
                f'imbi_api_version must be one of {", ".join(API_VERSIONS)}, '
                f'not {line!r}'
            )
        if line not in shared:
            shared[line] = imbi_sandbox_factory(api_version=line)
        return shared[line]

    return get


@pytest.fixture
def imbi_api_version(request: pytest.FixtureRequest) -> str:
    """The API line ``imbi_sandbox`` emulates: the marker's, or the default (2.41)."""
    marker = request.node.get_closest_marker(_MARKER)
    if marker is None:
        return DEFAULT_LINE
    if len(marker.args) != 1:
        raise pytest.UsageError(f'{_MARKER} takes one API line, e.g. "2.41"')
    return str(marker.args[0])


@pytest.fixture
def imbi_sandbox(
    _imbi_sandboxes: abc.Callable[[str], SandboxProcess], imbi_api_version: str
) -> SandboxProcess:
    """The session's demo sandbox of ``imbi_api_version``, reset: fresh data,
    no fault rules."""
    sandbox = _imbi_sandboxes(imbi_api_version)
    status = sandbox.process.poll()
    if status is not None:
        pytest.fail(
            f'the session sandbox exited (status {status}); a test must not stop '
            'imbi_sandbox: start its own with imbi_sandbox_factory'
        )
    sandbox.reset()
    return sandbox
