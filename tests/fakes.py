"""The shared stand-ins for unit tests of edge cases the sandbox cannot produce.

Tests talk to the sandbox over sockets (`imbi_sandbox` and friends in
`imbi_toolkit/testing.py`); these are for the rest, imported from any test
folder as ``from ..fakes import ...`` (pytest's importlib mode makes `tests`
a namespace package):

- `Script`: a `httpx.MockTransport` handler that plays ordered steps
  (responses, exceptions or callables) and records the requests;
- `FakeImbi`: a `httpx.MockTransport` handler keeping state for releases,
  deployment edges, project documents (GET, PATCH) and identity lookups, with
  hooks to inject faults;
- `FAST`: a retry policy with short delays;
- `CaptureServer`: a loopback HTTP server that keeps what it receives (a proxy,
  or another host a redirect points at), served by the `capture_server`
  fixture of `tests/conftest.py`.
"""

from __future__ import annotations

import dataclasses
import json
import re
import socketserver
import threading
import typing
from collections import abc

import httpx

from imbi_toolkit.api import retries

# Short delays keep the retry tests fast; the logic is the same.
FAST = retries.RetryPolicy(backoff=0.001, max_backoff=0.01, max_retry_after=0.05)

Step = httpx.Response | Exception | abc.Callable[[httpx.Request], httpx.Response]


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={})


@dataclasses.dataclass
class Script:
    """A MockTransport handler that plays steps in order and records requests.

    Each step is a response (sent as a fresh copy), an exception (raised) or a
    callable taking the request and returning the response. The last step
    repeats once the script runs out; with no steps given, every request is
    answered ``200 {}``.
    """

    steps: list[Step] = dataclasses.field(default_factory=lambda: [_ok])
    requests: list[httpx.Request] = dataclasses.field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return httpx.Response(
                step.status_code, headers=step.headers, content=step.content
            )
        return step(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def last_json(self) -> typing.Any:
        return json.loads(self.last.content)

    def bodies(self) -> list[typing.Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


_PROJECT = r'^/organizations/(?P<org>[^/]+)/projects/(?P<project>[^/]+)'
_RELEASES = re.compile(_PROJECT + r'/releases/$')
_EDGE = re.compile(
    _PROJECT + r'/releases/(?P<release>[^/]+)/environments/(?P<env>[^/]+)$'
)
_DOCUMENT = re.compile(_PROJECT + r'$')


@dataclasses.dataclass
class FakeImbi:
    """A stateful stand-in for the bookkeeping endpoints of API 2.16.

    Releases per project (``POST`` answers 409 for a (committish, tag) pair it
    already holds; ``GET`` filters by ``tag`` and ``committish``), deployment
    events per (release id, environment), project documents (``GET``, and
    ``PATCH`` applying top-level ``test``/``add``/``replace`` operations) and
    ``/users/by-identity``. Deployment events are not de-duplicated, so a test
    sees every one that was sent. Everything else is 404.

    Releases created through the API get the ids R0, R1... in order;
    `add_release` seeds one with the id ``<project>-<tag>``.
    """

    releases: dict[str, list[dict[str, object]]] = dataclasses.field(
        default_factory=dict
    )
    events: dict[tuple[str, str], list[dict[str, object]]] = dataclasses.field(
        default_factory=dict
    )
    documents: dict[str, dict[str, object]] = dataclasses.field(default_factory=dict)
    # subject -> email, for /users/by-identity.
    identities: dict[str, str] = dataclasses.field(default_factory=dict)
    # When set, every request is answered with this status.
    fail_status: int | None = None
    # Called before each request is handled; may raise or return a response.
    fault: abc.Callable[[httpx.Request], httpx.Response | None] | None = None
    # Called after a write was applied; may raise (response lost).
    after_write: abc.Callable[[httpx.Request], None] | None = None
    # How many deployment events were recorded.
    posts: int = 0
    requests: list[httpx.Request] = dataclasses.field(default_factory=list)

    def add_release(
        self,
        project_id: str,
        tag: str | None,
        committish: str = 'abc1234',
        release_id: str | None = None,
    ) -> str:
        """Seed a release, newest first; returns its id."""
        release_id = release_id or f'{project_id}-{tag}'
        self.releases.setdefault(project_id, []).insert(
            0, {'id': release_id, 'tag': tag, 'committish': committish, 'title': tag}
        )
        return release_id

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def sent(self, method: str) -> list[httpx.Request]:
        """The requests received with ``method``, in order."""
        return [r for r in self.requests if r.method == method]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fault is not None and (response := self.fault(request)) is not None:
            return response
        if self.fail_status is not None:
            return httpx.Response(self.fail_status, json={'detail': 'nope'})
        path = request.url.path
        if path == '/users/by-identity' and request.method == 'GET':
            return self._identity(request)
        if match := _RELEASES.match(path):
            if request.method == 'GET':
                return self._find_releases(match['project'], request.url.params)
            if request.method == 'POST':
                return self._create_release(match['project'], request)
        if match := _EDGE.match(path):
            if request.method == 'GET':
                return self._edge(match['release'], match['env'])
            if request.method == 'POST':
                return self._record_event(match, request)
        if match := _DOCUMENT.match(path):
            if request.method == 'GET':
                return httpx.Response(200, json=self._document(match['project']))
            if request.method == 'PATCH':
                return self._patch(match['project'], request)
        return httpx.Response(404, json={'detail': 'Not Found'})

    def _identity(self, request: httpx.Request) -> httpx.Response:
        email = self.identities.get(request.url.params.get('subject', ''))
        if email is None:
            return httpx.Response(404, json={'detail': 'No user matches'})
        return httpx.Response(200, json={'email': email})

    def _find_releases(self, project: str, params: httpx.QueryParams) -> httpx.Response:
        found = [
            release
            for release in self.releases.get(project, [])
            if all(
                release.get(k) == params[k]
                for k in ('tag', 'committish')
                if k in params
            )
        ]
        return httpx.Response(200, json=found)

    def _create_release(self, project: str, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        held = self.releases.setdefault(project, [])
        for release in held:
            if (release['committish'], release.get('tag') or '') == (
                body['committish'],
                body.get('tag') or '',
            ):
                return httpx.Response(409, json={'detail': 'Release already exists'})
        taken = {r['id'] for rs in self.releases.values() for r in rs}
        number = sum(len(rs) for rs in self.releases.values())
        while f'R{number}' in taken:
            number += 1
        release = {'id': f'R{number}', 'tag': None, **body}
        held.insert(0, release)
        self._written(request)
        return httpx.Response(201, json=release)

    def _edge(self, release_id: str, env: str) -> httpx.Response:
        events = self.events.get((release_id, env))
        if not events:
            return httpx.Response(404, json={'detail': 'not found'})
        return httpx.Response(200, json=self._edge_body(env, events))

    def _record_event(
        self, match: re.Match[str], request: httpx.Request
    ) -> httpx.Response:
        release_id, env = match['release'], match['env']
        if not any(
            r['id'] == release_id for r in self.releases.get(match['project'], [])
        ):
            return httpx.Response(
                404, json={'detail': f"Release '{release_id}' not found"}
            )
        self.posts += 1
        events = self.events.setdefault((release_id, env), [])
        events.append(json.loads(request.content))
        self._written(request)
        return httpx.Response(200, json=self._edge_body(env, events))

    @staticmethod
    def _edge_body(env: str, events: list[dict[str, object]]) -> dict[str, object]:
        return {
            'environment': {'slug': env, 'name': env},
            'deployments': events,
            'current_status': events[-1].get('status'),
        }

    def _document(self, project: str) -> dict[str, object]:
        return self.documents.setdefault(project, {'id': project, 'description': 'old'})

    def _patch(self, project: str, request: httpx.Request) -> httpx.Response:
        document = self._document(project)
        operations = json.loads(request.content)
        for op in operations:
            key = op['path'].lstrip('/')
            if op['op'] == 'test' and document.get(key) != op['value']:
                return httpx.Response(
                    422, json={'detail': 'Patch test operation failed: not equal'}
                )
            if op['op'] in ('add', 'replace'):
                document[key] = op['value']
        self._written(request)
        # `applied` is the fake's own: the operations as they reached it.
        return httpx.Response(200, json={**document, 'applied': operations})

    def _written(self, request: httpx.Request) -> None:
        if self.after_write is not None:
            self.after_write(request)


class CaptureServer(socketserver.ThreadingTCPServer):
    """A loopback HTTP server that keeps each request's head and answers ``[]``.

    It stands for whatever should, or should not, receive our requests: an HTTP
    proxy, or another host a redirect points at. Use it as a context manager
    (or through the `capture_server` fixture).
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.received: list[bytes] = []
        super().__init__(('127.0.0.1', 0), _CaptureHandler)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self) -> typing.Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()


class _CaptureHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        data = b''
        while b'\r\n\r\n' not in data:
            chunk = self.request.recv(65536)
            if not chunk:
                break
            data += chunk
        typing.cast(CaptureServer, self.server).received.append(data)
        self.wfile.write(
            b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]'
        )
