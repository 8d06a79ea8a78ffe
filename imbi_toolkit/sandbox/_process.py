"""Run a sandbox in a subprocess on a free loopback port, and stop it.

Used by the pytest fixtures of :mod:`imbi_toolkit.testing`, by ``make demo``
and by the benchmarks. It imports neither the server nor pytest: the child
process runs ``python -m imbi_toolkit sandbox``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
import typing
from collections import abc

from imbi_toolkit.sandbox import _versions as versions

if typing.TYPE_CHECKING:
    import httpx

    from imbi_toolkit.api import Imbi

__all__ = ['SandboxProcess', 'SandboxStartError', 'start_sandbox']

_START_TIMEOUT = 30.0


class SandboxStartError(RuntimeError):
    """The sandbox process did not come up; the message holds its stderr."""


@dataclasses.dataclass(repr=False)
class SandboxProcess:
    """A sandbox running in a subprocess on a free loopback port.

    Attributes:
        base_url: Root URL of the API, e.g. `http://127.0.0.1:41234`
            (with the prefix, when started with one).
        token: The admin token (every permission).
        readonly_token: A token with read permissions only (writes get 403).
        api_version: The emulated API line (`2.11`, `2.16`, `2.30`, `2.41`).
        db_path: The SQLite file, or `None` for an in-memory database.
        process: The server process.
    """

    base_url: str
    token: str
    readonly_token: str
    api_version: str
    db_path: str | None
    process: subprocess.Popen[bytes]

    def __repr__(self) -> str:
        return (
            f'<SandboxProcess base_url={self.base_url!r} '
            f'api_version={self.api_version!r} pid={self.process.pid}>'
        )

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The `IMBI_CLIENT_*` variables that point `Settings` here."""
        return {
            'IMBI_CLIENT_API_BASE_URL': self.base_url,
            'IMBI_CLIENT_API_TOKEN': self.token,
        }

    def client(self, *, readonly: bool = False, **kwargs: typing.Any) -> Imbi:
        """Return an `imbi_toolkit.api.Imbi` client for this sandbox."""
        from imbi_toolkit.api import Imbi

        token = self.readonly_token if readonly else self.token
        return Imbi(base_url=self.base_url, token=token, **kwargs)

    def _admin(self, method: str, path: str, body: object = None) -> httpx.Response:
        import httpx

        response = httpx.request(
            method,
            self.base_url + path,
            json=body,
            headers={'authorization': f'Bearer {self.token}'},
            timeout=10,
        )
        response.raise_for_status()
        return response

    def reset(self) -> None:
        """Reload the seed data and remove every fault rule."""
        self._admin('POST', '/_sandbox/reset')

    def add_fault(self, **rule: object) -> dict[str, typing.Any]:
        """Add a fault rule (see the README's *Fault injection*); return it."""
        return typing.cast(
            dict[str, typing.Any], self._admin('POST', '/_sandbox/faults', rule).json()
        )

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._admin('DELETE', '/_sandbox/faults')

    def stop(self, timeout: float = 10.0) -> int:
        """Stop the server (SIGTERM, then SIGKILL) and return its exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


def _read_settings(
    process: subprocess.Popen[bytes], stderr: typing.IO[bytes], timeout: float
) -> dict[str, str]:
    assert process.stdout is not None
    settings: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        # The server announces IMBI_SANDBOX_API_VERSION last.
        while 'IMBI_SANDBOX_API_VERSION' not in settings:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                process.kill()
                raise SandboxStartError(f'the sandbox did not start within {timeout} s')
            line = process.stdout.readline().decode()
            if not line:
                process.wait()
                stderr.seek(0)
                raise SandboxStartError(
                    f'the sandbox exited with status {process.returncode}:\n'
                    + stderr.read().decode(errors='replace')
                )
            key, _, value = line.strip().partition('=')
            settings[key] = value
    return settings


def start_sandbox(
    *,
    seed: str = 'demo',
    api_version: str = versions.DEFAULT_LINE,
    latency_ms: int = 0,
    response_time_ms: int = 0,
    db_path: str | os.PathLike[str] | None = None,
    faults: abc.Iterable[abc.Mapping[str, object]] = (),
    token: str | None = None,
    prefix: str = '',
    projects: int | None = None,
    timeout: float = _START_TIMEOUT,
) -> SandboxProcess:
    """Start ``imbi-toolkit sandbox`` on a free loopback port and wait for it.

    Args:
        seed: `demo` or `empty`, for a new database.
        api_version: The API line to emulate: `2.11`, `2.16` (the
            default), `2.30` or `2.41`.
        latency_ms: Delay added to every API answer after handling it.
        response_time_ms: Answer every API request this long after it
            arrived, handling included.
        db_path: Keep the data in this SQLite file.
        faults: Fault rules active from the start.
        token: The admin token; random when omitted.
        prefix: Mount the API under this path (e.g. `/api`); `base_url`
            then ends with it.
        projects: With the `demo` seed, generate projects until the demo
            organisation (`engineering`) has this many.
        timeout: Seconds to wait for the server to accept connections.

    Raises:
        SandboxStartError: When the server fails to start.
    """
    command = [
        sys.executable,
        '-m',
        'imbi_toolkit',
        'sandbox',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--seed',
        seed,
        '--api-version',
        api_version,
        '--latency-ms',
        str(latency_ms),
        '--response-time-ms',
        str(response_time_ms),
    ]
    if db_path is not None:
        command += ['--db', os.fspath(db_path)]
    if token is not None:
        command += ['--token', token]
    if prefix:
        command += ['--prefix', prefix]
    if projects is not None:
        command += ['--projects', str(projects)]
    for rule in faults:
        command += ['--fault', json.dumps(dict(rule))]
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            # Unbuffered: a buffered readline would swallow the lines the
            # selector is waiting for.
            bufsize=0,
        )
        try:
            settings = _read_settings(process, stderr, timeout)
        except BaseException:
            if process.poll() is None:
                process.kill()
                process.wait()
            raise
    return SandboxProcess(
        base_url=settings['IMBI_CLIENT_API_BASE_URL'],
        token=settings['IMBI_CLIENT_API_TOKEN'],
        readonly_token=settings['IMBI_SANDBOX_READONLY_TOKEN'],
        api_version=settings['IMBI_SANDBOX_API_VERSION'],
        db_path=settings.get('IMBI_SANDBOX_DB'),
        process=process,
    )
