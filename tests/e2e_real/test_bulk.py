"""The bulk runner against the real server: patches, releases, deployments, plans.

Works on the four `consumer` projects the session added (conftest), so the
notebooks (which select `api-service` projects) do not see these changes.
"""

from __future__ import annotations

import pathlib

from imbi_toolkit import Toolkit, bulk
from imbi_toolkit.api import Imbi, Settings

from .conftest import CONSUMERS, RealOrg


def targets(real: RealOrg) -> list[bulk.Target]:
    return [bulk.Target(real.org, real.projects[slug], slug) for slug in CONSUMERS]


def client() -> Imbi:
    return Imbi.from_settings(Settings())  # real_env set IMBI_CLIENT_*


async def test_apply_patch_with_a_journal_then_a_rerun(
    real_env: RealOrg, tmp_path: pathlib.Path
) -> None:
    url = 'https://runbooks.example.com/consumers'
    operation = bulk.ApplyPatch([{'op': 'add', 'path': '/links/runbook', 'value': url}])
    journal = tmp_path / 'runbook.jsonl'
    async with client() as imbi:
        first = await bulk.run(
            imbi, operation, targets(real_env), journal=journal, progress=False
        )
        again = await bulk.run(
            imbi, operation, targets(real_env), journal=journal, progress=False
        )
    assert first.counts()['ok'] == 4, str(first)
    assert {(r.detail, r.http_status) for r in first} == {('patched', 200)}
    assert again.counts()['skipped'] == 4, str(again)
    for slug in CONSUMERS:
        assert real_env.project(slug)['links']['runbook'] == url


async def test_a_guarded_patch_reports_the_projects_that_differ_as_conflicts(
    real_env: RealOrg,
) -> None:
    # The test op holds events-consumer's description: the other three differ,
    # which is what a concurrent change looks like to the runner.
    operation = bulk.ApplyPatch(
        [
            {'op': 'test', 'path': '/description', 'value': 'Consumes domain events'},
            {'op': 'replace', 'path': '/description', 'value': 'Consumes every event'},
        ]
    )
    async with client() as imbi:
        results = await bulk.run(imbi, operation, targets(real_env), progress=False)
    by_slug = {str(result.target): result for result in results}
    assert by_slug['events-consumer'].status == 'ok'
    for slug in CONSUMERS[1:]:
        assert by_slug[slug].status == 'conflict', by_slug[slug]
        assert by_slug[slug].http_status == 422
        assert by_slug[slug].detail.startswith('Patch test operation failed')
    assert real_env.project('events-consumer')['description'] == 'Consumes every event'
    assert real_env.project('audit-consumer')['description'] == 'Writes the audit trail'


async def test_create_release_twice_then_deploy_with_a_run_id_twice(
    real_env: RealOrg, tmp_path: pathlib.Path
) -> None:
    release = bulk.CreateRelease({'committish': 'c0ffee1', 'tag': '4.2.0'})
    deploy = bulk.RecordDeployment(
        'production',
        status='success',
        tag='4.2.0',
        external_run_id='e2e-run-4.2.0',
        external_run_url='https://ci.example.com/runs/42',
    )
    async with client() as imbi:
        created = await bulk.run(imbi, release, targets(real_env), progress=False)
        # 2.41 answers 200 with the stored release: "already there", not an error.
        existing = await bulk.run(imbi, release, targets(real_env), progress=False)
        # No journal: the second run really sends every event again.
        first = await bulk.run(imbi, deploy, targets(real_env), progress=False)
        second = await bulk.run(imbi, deploy, targets(real_env), progress=False)
        toolkit = Toolkit(imbi)
        counts = {}
        for target in targets(real_env):
            release_id = await toolkit.resolve_release_id(
                real_env.org, target.project_id, tag='4.2.0'
            )
            counts[str(target)] = await toolkit.deployment_count(
                real_env.org, target.project_id, release_id, 'production'
            )
            edge = await imbi.get_deployments(
                real_env.org, target.project_id, release_id, 'production'
            )
            assert edge is not None and edge['current_status'] == 'success'
            (event,) = edge['deployments']
            assert event['external_run_id'] == 'e2e-run-4.2.0'
            assert event['external_run_url'] == 'https://ci.example.com/runs/42'
    assert created.counts()['ok'] == 4 and {r.http_status for r in created} == {201}
    assert all(r.detail.endswith('created') for r in created), str(created)
    assert existing.counts()['ok'] == 4, str(existing)
    assert all(r.detail.endswith('was already there') for r in existing), str(existing)
    assert first.counts()['ok'] == 4 and second.counts()['ok'] == 4, str(second)
    # The server keeps one event per (project, external_run_id).
    assert counts == dict.fromkeys(CONSUMERS, 1)


async def test_a_deployment_without_run_id_is_not_recorded_twice_by_a_rerun(
    real_env: RealOrg, tmp_path: pathlib.Path
) -> None:
    release = bulk.CreateRelease({'committish': 'c0ffee2', 'tag': '4.3.0'})
    deploy = bulk.RecordDeployment(
        'staging', status='success', tag='4.3.0', note='bulk'
    )
    journal = tmp_path / 'deploy.jsonl'
    async with client() as imbi:
        await bulk.run(imbi, release, targets(real_env), progress=False)
        first = await bulk.run(
            imbi, deploy, targets(real_env), journal=journal, progress=False
        )
        again = await bulk.run(
            imbi, deploy, targets(real_env), journal=journal, progress=False
        )
        toolkit = Toolkit(imbi)
        target = targets(real_env)[0]
        release_id = await toolkit.resolve_release_id(
            real_env.org, target.project_id, tag='4.3.0'
        )
        events = await toolkit.deployment_count(
            real_env.org, target.project_id, release_id, 'staging'
        )
    assert first.counts()['ok'] == 4 and again.counts()['skipped'] == 4, str(again)
    assert events == 1


async def test_plan_then_apply_exactly_the_plan(
    real_env: RealOrg, tmp_path: pathlib.Path
) -> None:
    def add_dashboard(project: dict[str, object]) -> None:
        links = project['links']
        assert isinstance(links, dict)
        links['grafana'] = f'https://grafana.example.com/d/{project["slug"]}'

    async with client() as imbi:
        toolkit = Toolkit(imbi)
        planned = await bulk.plan(
            toolkit,
            add_dashboard,
            targets(real_env),
            description='dashboards',
            progress=False,
        )
        path = planned.save(tmp_path / 'dashboards.plan.json')
        reviewed = bulk.Plan.load(path)
        results = await bulk.apply(toolkit, reviewed, progress=False)
        replanned = await bulk.plan(
            toolkit, add_dashboard, targets(real_env), progress=False
        )
    assert planned.counts()['change'] == 4, str(planned)
    assert results.counts()['ok'] == 4, str(results)
    assert replanned.counts()['unchanged'] == 4, str(replanned)
    for slug in CONSUMERS:
        links = real_env.project(slug)['links']
        assert links['grafana'] == f'https://grafana.example.com/d/{slug}'
