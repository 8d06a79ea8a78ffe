"""``--projects N``: a generated organisation of N projects, deterministic."""

from __future__ import annotations

import subprocess
import sys
import typing
from collections import abc

import httpx
import pytest

from imbi_toolkit import bulk
from imbi_toolkit.sandbox import _seed as seed
from imbi_toolkit.testing import SandboxProcess


@pytest.fixture(scope='module')
def generated(
    imbi_sandbox_factory: abc.Callable[..., SandboxProcess],
) -> SandboxProcess:
    return imbi_sandbox_factory(projects=300)


def _get(sandbox: SandboxProcess, path: str, **params: str) -> typing.Any:
    response = httpx.get(
        sandbox.base_url + path,
        params=params,
        headers={'authorization': f'Bearer {sandbox.token}'},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def test_the_organisation_has_n_projects_besides_the_demo_ones(
    generated: SandboxProcess,
) -> None:
    projects = _get(
        generated,
        '/organizations/engineering/projects/',
        slim='true',
        include_archived='true',
    )
    slugs = {project['slug'] for project in projects}
    assert len(projects) == len(slugs) == 300
    assert {'billing-api', 'legacy-billing'} <= slugs  # the demo seed is kept
    # The second organisation is left as the demo has it.
    assert len(_get(generated, '/organizations/research/projects/')) == 2
    teams = {project['team']['slug'] for project in projects}
    types = {t['slug'] for project in projects for t in project['project_types']}
    assert teams == {'platform', 'payments', 'growth', 'data', 'mobile'}
    assert types == {'api-service', 'consumer', 'frontend', 'library', 'scheduled-job'}


def test_generated_projects_have_realistic_shapes(generated: SandboxProcess) -> None:
    listed = _get(generated, '/organizations/engineering/projects/', slim='true')
    generated_ids = [p['id'] for p in listed if p['slug'][-5:].isdigit()][:40]
    assert len(generated_ids) == 40
    environments = 0
    for project_id in generated_ids:
        project = _get(generated, f'/organizations/engineering/projects/{project_id}')
        assert project['links']['github-repository'].startswith(
            'https://github.com/example/'
        )
        assert project['identifiers']['sonarqube'] == f'example:{project["slug"]}'
        assert project['description']
        environments += len(project['environments'])
        for environment in project['environments']:
            assert environment['url'].endswith('.example.com')
    assert environments > 40  # most are deployed somewhere


async def test_every_generated_project_takes_a_planned_patch(
    generated: SandboxProcess,
) -> None:
    # The attributes match their types' blueprints: the server accepts a
    # patch of every one of them (it validates the whole document).
    async with generated.client() as client:
        projects = await client.list_projects('engineering', {'slim': 'true'})
        targets = [('engineering', str(p['id'])) for p in projects]
        plan = await bulk.plan(
            client,
            [{'op': 'add', 'path': '/links/runbook', 'value': 'https://r.example'}],
            targets,
            progress=False,
        )
        results = await bulk.apply(client, plan, progress=False)
    assert results.counts()['ok'] == len(plan.changes) > 250


def test_generation_is_deterministic() -> None:
    assert seed.build('demo', projects=500) == seed.build('demo', projects=500)
    data = seed.build('demo', projects=500)
    assert len(data['projects']) == 500 + 2  # and the second organisation's two
    assert seed.build('demo', projects=seed.DEMO_PROJECTS) == seed.build('demo')


@pytest.mark.parametrize(
    ('args', 'message'),
    [
        (
            ['--seed', 'empty', '--projects', '100'],
            "projects can only be generated with the demo seed, not 'empty'",
        ),
        (['--projects', '3'], 'projects must be between 25'),
        (['--projects', '9999999'], 'projects must be between 25'),
    ],
)
def test_a_bad_project_count_is_refused_in_one_line(
    args: list[str], message: str
) -> None:
    completed = subprocess.run(
        [sys.executable, '-m', 'imbi_toolkit', 'sandbox', '--port', '0', *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith('imbi-toolkit sandbox: error: ')
    assert message in completed.stderr
    assert completed.stderr.count('\n') == 1
