"""Local uvicorn servers for the transport tests, each in a thread of its own."""

from __future__ import annotations

import contextlib
import socket
import threading
import typing
from collections import abc

import uvicorn


@contextlib.contextmanager
def serve_in_thread(app: typing.Any, **options: typing.Any) -> abc.Iterator[int]:
    """Serve ``app`` on a free loopback port until the block ends; yield the port.

    Args:
        app: The ASGI application.
        **options: More `uvicorn.Config` options (`http='h11'`, TLS files...).
    """
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    config = uvicorn.Config(
        app, **{'lifespan': 'off', 'log_level': 'warning', **options}
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={'sockets': [sock]})
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
