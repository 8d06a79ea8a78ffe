"""The listening socket the sandbox binds."""

from __future__ import annotations

import asyncio
import socket

from imbi_toolkit.sandbox import server


async def test_accepted_connections_have_nagle_off() -> None:
    # Without TCP_NODELAY each keep-alive answer waits ~40 ms for an ACK.
    sock = server.bind('127.0.0.1', 0)
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info('socket')
        accepted.set_result(peer.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    listener = await asyncio.start_server(on_connect, sock=sock)
    async with listener:
        host, port = sock.getsockname()[:2]
        _, writer = await asyncio.open_connection(host, port)
        assert await asyncio.wait_for(accepted, 5) == 1
        writer.close()
