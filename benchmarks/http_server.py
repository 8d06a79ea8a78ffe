"""The fast local server of the HTTP benchmark: a raw ASGI app for uvicorn.

Every POST reads and parses its JSON body and answers 201 with a small
release document, as Imbi does; `GET /stats` answers (and resets) how many
requests and distinct client connections it saw, so the benchmark can tell
how many connections a client really used. No framework: the server must
cost as little as possible, since the clients are what is measured.
"""

from __future__ import annotations

import json
import typing

Scope = dict[str, typing.Any]
Message = dict[str, typing.Any]
Receive = typing.Callable[[], typing.Awaitable[Message]]
Send = typing.Callable[[Message], typing.Awaitable[None]]

RELEASE = json.dumps(
    {
        'id': 'V1StGXR8_Z5jdHi6B-myT',
        'committish': 'a1b2c3d',
        'tag': '1.2.3',
        'title': 'v1.2.3',
        'created_by': 'someone@example.com',
        'created_at': '2026-11-28T12:00:00Z',
    }
).encode()
_JSON_HEADERS = [
    (b'content-type', b'application/json'),
    (b'content-length', str(len(RELEASE)).encode()),
]

_ports: set[int] = set()
_requests = 0


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer POSTs with 201 and a release; `GET /stats` with the counters."""
    global _requests
    if scope['type'] == 'lifespan':
        while True:
            message = await receive()
            if message['type'] == 'lifespan.startup':
                await send({'type': 'lifespan.startup.complete'})
            elif message['type'] == 'lifespan.shutdown':
                await send({'type': 'lifespan.shutdown.complete'})
                return
    if scope['type'] != 'http':
        return
    if scope['path'] == '/stats':
        body = json.dumps({'connections': len(_ports), 'requests': _requests}).encode()
        _ports.clear()
        _requests = 0
        await _respond(send, 200, body)
        return
    _requests += 1
    client = scope.get('client')
    if client:
        _ports.add(client[1])
    body = b''
    more = True
    while more:
        message = await receive()
        body += message.get('body', b'')
        more = message.get('more_body', False)
    if body:
        json.loads(body)
    await send({'type': 'http.response.start', 'status': 201, 'headers': _JSON_HEADERS})
    await send({'type': 'http.response.body', 'body': RELEASE})


async def _respond(send: Send, status: int, body: bytes) -> None:
    headers = [
        (b'content-type', b'application/json'),
        (b'content-length', str(len(body)).encode()),
    ]
    await send({'type': 'http.response.start', 'status': status, 'headers': headers})
    await send({'type': 'http.response.body', 'body': body})
