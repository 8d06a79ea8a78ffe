"""Reproductions of what the real imbi-api 2.41.0 answered in `make conformance`.

Each test replays, with `httpx.MockTransport`, an answer recorded from the
real server that the toolkit mishandled (docs/conformance.md lists them).
`real/project-2.41.json` is a project exactly as 2.41.0 served it.
"""

from __future__ import annotations

import copy
import json
import pathlib
import typing

import httpx
import jsonpatch
import pytest

from imbi_toolkit import Toolkit, hookimpl
from imbi_toolkit.api import Imbi
from imbi_toolkit.patching import PatchValidationError, diff, patchable, validate
from imbi_toolkit.plugins import PluginManager

PROJECT = json.loads(
    (pathlib.Path(__file__).parent / 'real' / 'project-2.41.json').read_text()
)
ORG = 'engineering'

# imbi 2.41.0 imbi/api/endpoints/projects.py::_PROTECTED_ENV_KEYS: what the
# server leaves out of each environment of the document it patches.
PROTECTED_ENV_KEYS = {
    'id', 'name', 'slug', 'sort_order', 'organization', 'created_at', 'updated_at',
    'label_color', 'description', 'icon', 'can_deploy', 'can_promote', 'terminal',
}  # fmt: skip


def server_document(project: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """The environments of the document 2.41.0 applies a PATCH to."""
    return {
        'environments': {
            env['slug']: {k: v for k, v in env.items() if k not in PROTECTED_ENV_KEYS}
            for env in project['environments']
        }
    }


def real_server(project: dict[str, typing.Any]) -> httpx.MockTransport:
    """GET and PATCH of one project, with 2.41.0's `test` op answer."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == 'GET':
            return httpx.Response(200, json=project)
        operations = json.loads(request.content)
        try:
            patched = jsonpatch.apply_patch(server_document(project), operations)
        except jsonpatch.JsonPatchTestFailed as exc:
            # The answer 2.41.0 gave (the message is jsonpatch's).
            return httpx.Response(
                422, json={'detail': f'Patch test operation failed: {exc}'}
            )
        except jsonpatch.JsonPatchException:
            return httpx.Response(400, json={'detail': 'not a finding of this test'})
        kept = set(patched['environments'])
        project['environments'] = [
            e for e in project['environments'] if e['slug'] in kept
        ]
        return httpx.Response(200, json=project)

    return httpx.MockTransport(handle)


async def test_removing_an_environment_passes_its_own_test_op() -> None:
    # Real 2.41.0: PATCH [test /environments/testing {terminal, allow_autonomous,
    # url}, remove ...] -> 422 "Patch test operation failed: {'allow_autonomous':
    # False, 'url': ...} is not equal to tested value {'terminal': False, ...}":
    # every such patch failed as if somebody had changed the project.
    project = copy.deepcopy(PROJECT)
    edited = patchable(project)
    del edited['environments']['testing']
    patch = diff(project, edited, tests=True)
    assert [op['op'] for op in patch] == ['test', 'remove']
    async with Imbi(
        base_url='http://imbi', token='t', transport=real_server(project)
    ) as client:
        toolkit = Toolkit(client, plugin_manager=PluginManager())
        answer = await toolkit.patch_project(ORG, project['id'], patch)
    assert [env['slug'] for env in answer['environments']] == ['staging', 'production']


def test_the_fetched_document_has_what_the_server_patches() -> None:
    document = patchable(PROJECT)
    assert document['environments'] == server_document(PROJECT)['environments']
    # Computed per request by 2.41 (like current_releases): not patchable.
    assert 'latest_deployments' in PROJECT and 'latest_deployments' not in document
    with pytest.raises(PatchValidationError, match='computed by the server'):
        validate([{'op': 'replace', 'path': '/latest_deployments', 'value': {}}])


# Real 2.41.0, one project, one release: POST .../environments/staging with
# {"status": "success", "external_run_id": "gha-200"} answered the event; the
# same run id POSTed to production moved the event there (2.26+: one event per
# project and run id) and was answered with this empty edge, while a GET
# right after showed the moved event (MOVED_EDGE).
EMPTY_ANSWER = {
    'environment': {'slug': 'production', 'name': 'Production'},
    'deployments': [],
    'current_status': None,
}
MOVED_EDGE = {
    'environment': {'slug': 'production', 'name': 'Production'},
    'deployments': [
        {
            'timestamp': '2026-12-02T01:21:12.435683Z',
            'status': 'success',
            'note': None,
            'external_run_id': 'gha-200',
            'external_run_url': None,
            'performed_by': None,
            'credential': None,
        }
    ],
    'current_status': 'success',
}


def moving_server(edge: dict[str, typing.Any] | None) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == '/openapi.json':
            return httpx.Response(200, json={'info': {'version': '2.41.0'}})
        if request.method == 'POST':
            return httpx.Response(200, json=EMPTY_ANSWER)
        if edge is None:
            return httpx.Response(404, json={'detail': 'Deployment edge not found'})
        return httpx.Response(200, json=edge)

    return httpx.MockTransport(handle)


async def test_a_moved_event_is_read_back_instead_of_shown_as_nothing() -> None:
    seen: list[dict[str, typing.Any]] = []

    class Watcher:
        @hookimpl
        def imbi_after_deployment_event(self, result: dict[str, typing.Any]) -> None:
            seen.append(result)

    manager = PluginManager()
    manager.register(Watcher())
    async with Imbi(
        base_url='http://imbi', token='t', transport=moving_server(MOVED_EDGE)
    ) as client:
        toolkit = Toolkit(client, plugin_manager=manager)
        result = await toolkit.record_deployment(
            ORG,
            'AryC76cQGq3su_PjAv7B1',
            'production',
            {'status': 'success', 'external_run_id': 'gha-200'},
            release_id='9tZB4ZdiBn3KZb9aTUORY',
        )
    assert result == MOVED_EDGE
    assert seen == [MOVED_EDGE]


async def test_an_empty_answer_stays_when_there_is_nothing_to_read_back() -> None:
    async with Imbi(
        base_url='http://imbi', token='t', transport=moving_server(None)
    ) as client:
        toolkit = Toolkit(client, plugin_manager=PluginManager())
        result = await toolkit.record_deployment(
            ORG, 'p' * 21, 'production', {'status': 'success'}, release_id='r' * 21
        )
    assert result == EMPTY_ANSWER
