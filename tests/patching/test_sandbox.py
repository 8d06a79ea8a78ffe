"""Patches from `diff` against a real sandbox over 127.0.0.1."""

from __future__ import annotations

import copy
import typing

from imbi_toolkit.api import Imbi
from imbi_toolkit.patching import diff, patchable
from imbi_toolkit.testing import SandboxProcess

ORG = 'engineering'
Project = dict[str, typing.Any]


async def fetch(client: Imbi, slug: str) -> Project:
    listing = await client.get(
        f'/organizations/{ORG}/projects/', params={'slim': 'true'}
    )
    listing.raise_for_status()
    project_id = next(item['id'] for item in listing.json() if item['slug'] == slug)
    response = await client.get(f'/organizations/{ORG}/projects/{project_id}')
    response.raise_for_status()
    project: Project = response.json()
    return project


async def test_a_patch_from_diff_is_accepted(imbi_sandbox: SandboxProcess) -> None:
    async with imbi_sandbox.client() as client:
        before = await fetch(client, 'billing-api')
        after = copy.deepcopy(before)
        after['description'] = None  # clearing: sent as ""
        after['framework'] = 'litestar'
        del after['programming_language']  # clearing a blueprint attribute
        after['links']['runbook/main'] = 'https://runbooks.example.com/billing'
        after['environments'] = [
            env for env in after['environments'] if env['slug'] != 'testing'
        ]
        for env in after['environments']:
            if env['slug'] == 'production':
                env['url'] = 'https://pay.example.com/'
        patch = diff(before, after, tests=True)
        patch.validate(before)
        response = await client.patch_project(ORG, before['id'], patch)
        assert response.status_code == 200, response.text
        fetched = await fetch(client, 'billing-api')
    result = patchable(fetched)
    assert result['description'] == ''
    assert result['framework'] == 'litestar'
    assert result.get('programming_language') is None
    assert result['links']['runbook/main'] == 'https://runbooks.example.com/billing'
    assert set(result['environments']) == {'staging', 'production'}
    assert result['environments']['production']['url'] == 'https://pay.example.com/'
    # What the server now holds is what we asked for, nothing else changed.
    expected = patchable(after)
    expected['description'] = ''
    expected['programming_language'] = None
    result.setdefault('programming_language', None)
    assert diff(expected, result) == []


async def test_a_concurrent_edit_is_caught_by_the_test_ops(
    imbi_sandbox: SandboxProcess,
) -> None:
    async with imbi_sandbox.client() as client:
        before = await fetch(client, 'billing-api')
        # Someone else changes the framework after we fetched the project.
        theirs = await client.patch_project(
            ORG,
            before['id'],
            [{'op': 'replace', 'path': '/framework', 'value': 'flask'}],
        )
        assert theirs.status_code == 200, theirs.text
        after = copy.deepcopy(before)
        after['framework'] = 'litestar'
        response = await client.patch_project(
            ORG, before['id'], diff(before, after, tests=True)
        )
        assert response.status_code == 422
        assert response.json()['detail'].startswith('Patch test operation failed')
        # Without the tests the other edit would have been overwritten.
        current = await fetch(client, 'billing-api')
    assert current['framework'] == 'flask'
