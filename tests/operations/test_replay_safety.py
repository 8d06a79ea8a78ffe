"""A write is repeated only when applying it twice cannot change the result.

After a lost answer (the sandbox acts, then drops the connection), the client
retries a PATCH only when it is replay-safe: a `test` of another path does not
make an append safe; a guard of the array it changes does.
"""

from __future__ import annotations

import typing

import pytest

from imbi_toolkit import Toolkit
from imbi_toolkit.api import RetryPolicy, errors
from imbi_toolkit.patching import diff, patchable
from imbi_toolkit.plugins import PluginManager

pytestmark = pytest.mark.attack('duplicated-writes')

ORG = 'engineering'
FAST = RetryPolicy(backoff=0.01, max_backoff=0.01, jitter=0)


async def _setup(client: typing.Any) -> tuple[Toolkit, str, list[str]]:
    project = await client.find_project(ORG, 'billing-api')
    types = [t['slug'] for t in project['project_types']]
    return Toolkit(client, plugin_manager=PluginManager()), str(project['id']), types


def _drop_next_patch(sandbox: typing.Any) -> None:
    sandbox.add_fault(
        method='PATCH', path='/organizations/*', action='drop_after', times=1
    )


async def test_an_append_pinned_elsewhere_is_not_retried(
    imbi_sandbox: typing.Any,
) -> None:
    async with imbi_sandbox.client(max_retries=3, retry_policy=FAST) as client:
        toolkit, project, types = await _setup(client)
        _drop_next_patch(imbi_sandbox)
        patch = [
            {'op': 'test', 'path': '/name', 'value': 'Billing API'},
            {'op': 'add', 'path': '/project_type_slugs/-', 'value': 'library'},
        ]
        with pytest.raises(errors.ImbiConnectionError) as caught:
            await toolkit.patch_project(ORG, project, patch)
        assert caught.value.sent is None  # it may have been applied
        after = await client.get_project(ORG, project)
    # Applied once, not twice.
    assert [t['slug'] for t in after['project_types']] == [*types, 'library']


@pytest.mark.parametrize('where', ['end', 'front'])
async def test_a_guarded_insert_is_retried_and_applied_once(
    imbi_sandbox: typing.Any, where: str
) -> None:
    async with imbi_sandbox.client(max_retries=3, retry_policy=FAST) as client:
        toolkit, project, types = await _setup(client)
        before = patchable(await client.get_project(ORG, project))
        edited = {
            **before,
            'project_type_slugs': [*types, 'library']
            if where == 'end'
            else ['library', *types],
        }
        patch = list(diff(before, edited, tests=True))
        _drop_next_patch(imbi_sandbox)
        # The retry meets its own guard: the server refuses the second
        # application (422), and nothing is applied twice.
        with pytest.raises(errors.UnprocessableEntityError) as caught:
            await toolkit.patch_project(ORG, project, patch)
        assert caught.value.test_failed
        after = await client.get_project(ORG, project)
    slugs = [t['slug'] for t in after['project_types']]
    assert slugs.count('library') == 1
    assert sorted(slugs) == sorted([*types, 'library'])
