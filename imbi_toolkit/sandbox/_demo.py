"""``make demo``: the toolkit's main job against a fresh demo sandbox.

Starts ``imbi-toolkit sandbox --seed demo`` on a free port, then, with the
real client: lists projects, changes one and shows the change, creates a
release, records a deployment of it (resolving the release id) and looks a
user up by GitHub identity. Stops the sandbox at the end.

Run it with ``imbi-toolkit demo``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import typing

from imbi_toolkit.api import Imbi
from imbi_toolkit.sandbox import _process as process

ORG = 'engineering'
PROJECT_SLUG = 'billing-api'
GITHUB_SUBJECT = '583231'  # Alice's numeric GitHub user id in the demo seed


def _say(text: str = '') -> None:
    print(text, flush=True)


def _step(number: int, title: str) -> None:
    _say()
    _say(f'{number}. {title}')


async def walk_through(client: Imbi) -> None:
    """Run the demo's five steps with ``client``, printing what happens."""
    _step(1, f'List the projects of {ORG!r}')
    response = await client.get(
        f'/organizations/{ORG}/projects/', params={'slim': 'true'}
    )
    response.raise_for_status()
    projects: list[dict[str, typing.Any]] = response.json()
    _say(f'   {len(projects)} projects, for example:')
    for item in projects[:5]:
        types = ', '.join(t['slug'] for t in item['project_types'])
        _say(f'   - {item["name"]:<22} team={item["team"]["slug"]:<9} types={types}')
    project = next(item for item in projects if item['slug'] == PROJECT_SLUG)
    project_id = project['id']

    _step(2, f'Change {project["name"]} ({project_id}) with a JSON Patch')
    path = f'/organizations/{ORG}/projects/{project_id}'
    before = (await client.get(path)).json()
    operations = [
        {'op': 'test', 'path': '/framework', 'value': before['framework']},
        {'op': 'replace', 'path': '/framework', 'value': 'litestar'},
        {
            'op': 'add',
            'path': '/links/runbook',
            'value': 'https://runbooks.example.com/billing-api',
        },
    ]
    response = await client.patch_project(ORG, project_id, operations)
    response.raise_for_status()
    after = response.json()
    for operation in operations:
        _say(f'   {operation["op"]:<8} {operation["path"]}')
    _say(f'   framework: {before["framework"]!r} -> {after["framework"]!r}')
    _say(f'   links:     {sorted(before["links"])} -> {sorted(after["links"])}')
    _say(f'   updated_at {before["updated_at"]} -> {after["updated_at"]}')

    _step(3, 'Create a release')
    body = {
        'committish': 'd3adb33',
        'title': 'Release 2.0.0',
        'tag': '2.0.0',
        'created_by': 'alice@example.com',
    }
    response = await client.create_release(ORG, project_id, body)
    response.raise_for_status()
    release = response.json()
    _say(f'   {response.status_code} {release["title"]}: id={release["id"]}')
    again = await client.create_release(ORG, project_id, body)
    _say(
        f'   the same again answers {again.status_code} (already there: '
        '200 from API 2.32.3, 409 before)'
    )

    _step(4, 'Record a deployment of tag 2.0.0 to production')
    found = await client.find_release(ORG, project_id, tag='2.0.0')
    assert found is not None  # created in step 3
    release_id = str(found['id'])
    _say(f'   tag 2.0.0 resolves to release id {release_id}')
    response = await client.record_deployment(
        ORG, project_id, release_id, 'production', {'status': 'success', 'note': 'demo'}
    )
    response.raise_for_status()
    edge = response.json()
    _say(
        f'   {edge["environment"]["name"]}: {len(edge["deployments"])} event(s), '
        f'current status {edge["current_status"]!r}'
    )
    project_now = (await client.get(path)).json()
    production = next(
        e for e in project_now['environments'] if e['slug'] == 'production'
    )
    _say(f'   production now runs release {production["current_release"]}')

    _step(5, f'Look up GitHub user {GITHUB_SUBJECT}')
    email = await client.find_user_by_identity('github', GITHUB_SUBJECT)
    _say(f'   GitHub subject {GITHUB_SUBJECT} is {email}')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`imbi-toolkit demo` takes no options."""


def run(args: argparse.Namespace) -> int:
    """Start a demo sandbox, walk through the toolkit, stop the sandbox."""
    _say('Starting the Imbi sandbox (demo seed) ...')
    try:
        sandbox = process.start_sandbox(seed='demo')
    except process.SandboxStartError as exc:
        print(f'demo: {exc}', file=sys.stderr)
        return 1
    with sandbox:
        _say(f'Sandbox at {sandbox.base_url} (API {sandbox.api_version})')

        async def walk() -> None:
            async with sandbox.client() as client:
                await walk_through(client)

        asyncio.run(walk())
    _say()
    _say('Sandbox stopped. Done.')
    return 0
