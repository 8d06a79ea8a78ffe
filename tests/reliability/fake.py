"""A tiny stateful stand-in for the release/deployment/patch endpoints.

For unit tests of the bulk runner's edge cases (MockTransport); the fault
suite runs against the real sandbox over sockets.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import abc

import httpx

_RELEASES = re.compile(r'^/organizations/([^/]+)/projects/([^/]+)/releases/$')
_EDGE = re.compile(
    r'^/organizations/([^/]+)/projects/([^/]+)/releases/([^/]+)/environments/([^/]+)$'
)
_PROJECT = re.compile(r'^/organizations/([^/]+)/projects/([^/]+)$')


@dataclasses.dataclass
class FakeImbi:
    """Projects with releases and deployment edges; no de-duplication."""

    releases: dict[str, list[dict[str, object]]] = dataclasses.field(
        default_factory=dict
    )
    events: dict[tuple[str, str], list[dict[str, object]]] = dataclasses.field(
        default_factory=dict
    )
    documents: dict[str, dict[str, object]] = dataclasses.field(default_factory=dict)
    # Called before each request is handled; may raise or return a response.
    fault: abc.Callable[[httpx.Request], httpx.Response | None] | None = None
    # Called after a write was applied; may raise (response lost).
    after_write: abc.Callable[[httpx.Request], None] | None = None
    posts: int = 0

    def add_release(
        self, project_id: str, tag: str, committish: str = 'abc1234'
    ) -> str:
        release_id = f'{project_id}-{tag}'
        self.releases.setdefault(project_id, []).insert(
            0, {'id': release_id, 'tag': tag, 'committish': committish, 'title': tag}
        )
        return release_id

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.fault is not None and (response := self.fault(request)) is not None:
            return response
        path = request.url.path
        if match := _RELEASES.match(path):
            project = match.group(2)
            if request.method == 'GET':
                params = request.url.params
                found = [
                    r
                    for r in self.releases.get(project, [])
                    if all(
                        r.get(k) == params[k]
                        for k in ('tag', 'committish')
                        if k in params
                    )
                ]
                return httpx.Response(200, json=found)
            body = json.loads(request.content)
            for release in self.releases.get(project, []):
                if (release['committish'], release.get('tag') or '') == (
                    body['committish'],
                    body.get('tag') or '',
                ):
                    return httpx.Response(
                        409, json={'detail': 'Release already exists'}
                    )
            release_id = self.add_release(project, body.get('tag'), body['committish'])
            self._written(request)
            return httpx.Response(
                201, json=self.releases[project][0] | {'id': release_id}
            )
        if match := _EDGE.match(path):
            key = (match.group(3), match.group(4))
            if request.method == 'GET':
                if not self.events.get(key):
                    return httpx.Response(404, json={'detail': 'not found'})
                return httpx.Response(200, json={'deployments': self.events[key]})
            if not any(r['id'] == key[0] for rs in self.releases.values() for r in rs):
                return httpx.Response(
                    404, json={'detail': f"Release '{key[0]}' not found"}
                )
            self.posts += 1
            self.events.setdefault(key, []).append(json.loads(request.content))
            self._written(request)
            return httpx.Response(200, json={'deployments': self.events[key]})
        if (match := _PROJECT.match(path)) and request.method == 'GET':
            document = self.documents.setdefault(match.group(2), {'description': 'old'})
            return httpx.Response(200, json=document)
        if (match := _PROJECT.match(path)) and request.method == 'PATCH':
            document = self.documents.setdefault(match.group(2), {'description': 'old'})
            for op in json.loads(request.content):
                key = op['path'].lstrip('/')
                if op['op'] == 'test' and document.get(key) != op['value']:
                    return httpx.Response(
                        422, json={'detail': 'Patch test operation failed: not equal'}
                    )
                if op['op'] in ('add', 'replace'):
                    document[key] = op['value']
            self._written(request)
            return httpx.Response(200, json=document)
        return httpx.Response(404, json={'detail': 'Not Found'})

    def _written(self, request: httpx.Request) -> None:
        if self.after_write is not None:
            self.after_write(request)
