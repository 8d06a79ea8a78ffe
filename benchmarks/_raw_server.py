"""Baseline for bench_sandbox.py: the smallest ASGI app, on the same uvicorn.

It answers every request with a fixed 33-byte JSON body and prints
``IMBI_CLIENT_API_BASE_URL=...`` once it listens, like the sandbox.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import typing

import uvicorn

BODY = b'{"service":"imbi","status":"ok"}'
HEADERS = [(b'content-type', b'application/json'), (b'content-length', b'32')]


async def app(
    scope: dict[str, typing.Any], receive: typing.Any, send: typing.Any
) -> None:
    if scope['type'] != 'http':
        return
    await send({'type': 'http.response.start', 'status': 200, 'headers': HEADERS})
    await send({'type': 'http.response.body', 'body': BODY})


async def main() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(('127.0.0.1', 0))
    sock.listen(socket.SOMAXCONN)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level='warning', access_log=False, lifespan='off')
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task  # startup failed: raise its error
            return
        await asyncio.sleep(0.01)
    print(
        f'IMBI_CLIENT_API_BASE_URL=http://127.0.0.1:{sock.getsockname()[1]}', flush=True
    )
    await task


if __name__ == '__main__':
    assert len(BODY) == 32, len(BODY)
    sys.exit(asyncio.run(main()))
