"""Serve a sandbox with uvicorn on a socket we bind, so port 0 works."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import typing
from collections import abc

import uvicorn

from imbi_toolkit.sandbox import _app as sandbox_app
from imbi_toolkit.sandbox import _config as sandbox_config
from imbi_toolkit.sandbox import _faults as faults
from imbi_toolkit.sandbox import _seed as seed
from imbi_toolkit.sandbox import _store as store

LOGGER = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    # uvicorn re-raises a captured SIGINT/SIGTERM after shutting down, which
    # turns a clean stop into a KeyboardInterrupt or a signal exit status;
    # `serve` installs handlers that only ask the server to exit.
    @contextlib.contextmanager
    def capture_signals(self) -> abc.Generator[None, None, None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket; port 0 picks a free port."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    # proto=IPPROTO_TCP, not socket.create_server's 0: asyncio sets
    # TCP_NODELAY only on accepted sockets whose proto says TCP, and without
    # it every answer on a kept-alive connection waits ~40 ms for the
    # client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen()
    except BaseException:
        sock.close()
        raise
    return sock


def base_url(sock: socket.socket) -> str:
    """The URL clients use to reach a socket bound by :func:`bind`."""
    host, port = sock.getsockname()[:2]
    # A wildcard address is reached through loopback (IPv6-only for '::').
    host = {'0.0.0.0': '127.0.0.1', '::': '::1'}.get(host, host)  # noqa: S104
    if ':' in host:
        host = f'[{host}]'
    return f'http://{host}:{port}'


def _aborter(server: uvicorn.Server) -> abc.Callable[[faults.Scope], bool]:
    def abort(scope: faults.Scope) -> bool:
        client = tuple(scope.get('client') or ())
        for connection in list(server.server_state.connections):
            transport = getattr(connection, 'transport', None)
            if (
                transport is not None
                and tuple(getattr(connection, 'client', None) or ()) == client
            ):
                transport.abort()
                return True
        return False

    return abort


def serve(
    config: sandbox_config.SandboxConfig,
    *,
    host: str = '127.0.0.1',
    port: int = 0,
    db_path: str | None = None,
    fault_rules: abc.Sequence[faults.FaultRule] = (),
    access_log: bool = False,
    announce: abc.Callable[[dict[str, str]], None],
) -> None:
    """Run a sandbox until SIGINT or SIGTERM.

    Args:
        config: What the sandbox emulates.
        host: Address to bind.
        port: Port to bind; 0 picks a free one.
        db_path: SQLite file to keep the data in; in memory when `None`.
            A new (empty) database is loaded with ``config.seed``.
        fault_rules: Fault rules active from the start.
        access_log: Log every request on stderr.
        announce: Called once the server accepts connections, with the
            settings a client needs (`IMBI_CLIENT_API_BASE_URL`, ...).
    """
    data = store.Store(db_path)
    try:
        if data.is_empty():
            data.load(seed.build(config.seed, config.api_version, config.projects))
        application = sandbox_app.create_app(config, data)
        sandbox = application.state.sandbox
        for rule in fault_rules:
            sandbox.faults.add(rule)
        sock = bind(host, port)
        server = _Server(
            uvicorn.Config(
                application,
                log_level='warning',
                access_log=access_log,
                lifespan='off',
                timeout_graceful_shutdown=5,
            )
        )
        sandbox.faults.abort_connection = _aborter(server)
        settings = {
            'IMBI_CLIENT_API_BASE_URL': base_url(sock) + config.prefix,
            'IMBI_CLIENT_API_TOKEN': config.admin_token,
            'IMBI_SANDBOX_READONLY_TOKEN': config.readonly_token,
        }
        if db_path:
            settings['IMBI_SANDBOX_DB'] = db_path
        # Always last: readers wait for it to know the announcement is whole.
        settings['IMBI_SANDBOX_API_VERSION'] = config.api_version
        # The event loop uvicorn itself would run (uvloop when installed),
        # as `uvicorn.run` does.
        with asyncio.Runner(loop_factory=server.config.get_loop_factory()) as runner:
            runner.run(_run(server, sock, lambda: announce(settings)))
    finally:
        data.close()


async def _run(
    server: uvicorn.Server, sock: socket.socket, on_started: abc.Callable[[], None]
) -> None:
    loop = asyncio.get_running_loop()

    def stop(*_: typing.Any) -> None:
        server.should_exit = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task  # startup failed: raise its error
            return
        await asyncio.sleep(0.01)
    on_started()
    await task
