"""The sandbox's connections send small answers at once (TCP_NODELAY).

Without it, an answer written in two parts on a kept-alive connection waits
~40 ms for the client's delayed ACK: every request after a connection's
first one would take 40 ms longer.
"""

from __future__ import annotations

import asyncio
import socket

from imbi_toolkit.sandbox._server import bind


async def test_accepted_connections_have_nodelay() -> None:
    sock = bind('127.0.0.1', 0)
    flags: list[int] = []

    async def accepted(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        conn = writer.get_extra_info('socket')
        flags.append(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(accepted, sock=sock)
    async with server:
        port = sock.getsockname()[1]
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        await reader.read()
        writer.close()
    assert flags and flags[0] != 0
