"""The bulk runner: bounded, journaled, resumable, and a readable table."""

from __future__ import annotations

import asyncio
import json
import pathlib

import httpx
import pytest

from imbi_toolkit import bulk
from imbi_toolkit.api import Imbi

from ..fakes import FAST, FakeImbi

PROJECTS = [f'p{i:02d}' for i in range(12)]


def _client(fake: FakeImbi) -> Imbi:
    return Imbi(
        base_url='http://imbi.test',
        token='bulk-token',
        transport=httpx.MockTransport(fake),
        max_retries=2,
        retry_policy=FAST,
    )


def _targets() -> list[tuple[str, str]]:
    return [('eng', project) for project in PROJECTS]


def _fake_with_releases() -> FakeImbi:
    fake = FakeImbi()
    for project in PROJECTS:
        fake.add_release(project, '1.0.0')
    return fake


async def test_deployment_to_every_project(tmp_path: pathlib.Path) -> None:
    fake = _fake_with_releases()
    operation = bulk.RecordDeployment('prod', status='success', tag='1.0.0')
    async with _client(fake) as client:
        results = await bulk.run(
            client, operation, _targets(), journal=tmp_path / 'j.jsonl', progress=False
        )
    assert results.counts() == {
        'ok': 12,
        'skipped': 0,
        'conflict': 0,
        'refused': 0,
        'failed': 0,
    }
    assert results.succeeded
    assert all(len(fake.events[(f'{p}-1.0.0', 'prod')]) == 1 for p in PROJECTS)
    assert [str(r.target) for r in results] == [f'eng/{p}' for p in PROJECTS]


async def test_rerun_skips_what_succeeded(tmp_path: pathlib.Path) -> None:
    fake = _fake_with_releases()
    operation = bulk.RecordDeployment('prod', status='success', tag='1.0.0')
    journal = tmp_path / 'j.jsonl'
    async with _client(fake) as client:
        await bulk.run(client, operation, _targets(), journal=journal, progress=False)
        again = await bulk.run(
            client, operation, _targets(), journal=journal, progress=False
        )
    assert again.counts()['skipped'] == 12
    assert fake.posts == 12


async def test_missing_release_fails_only_that_project(tmp_path: pathlib.Path) -> None:
    fake = _fake_with_releases()
    fake.releases['p03'] = []
    async with _client(fake) as client:
        results = await bulk.run(
            client,
            bulk.RecordDeployment('prod', status='success', tag='1.0.0'),
            _targets(),
            progress=False,
        )
    (failed,) = results.failed
    assert failed.target.project_id == 'p03'
    assert "no release with tag '1.0.0'" in failed.detail
    assert results.counts()['ok'] == 11


async def test_concurrency_is_bounded() -> None:
    fake = _fake_with_releases()
    in_flight = 0
    peak = 0

    class Slow(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.005)
            in_flight -= 1
            response = fake(request)
            return httpx.Response(
                response.status_code, headers=response.headers, content=response.content
            )

    async with Imbi(base_url='http://imbi.test', token='tok-en', transport=Slow()) as c:
        targets = [('eng', p) for p in PROJECTS] * 1
        await bulk.run(
            c,
            bulk.RecordDeployment('prod', status='success', tag='1.0.0'),
            targets,
            concurrency=3,
            progress=False,
        )
    assert peak == 3


async def test_an_unexpected_error_stops_the_whole_run() -> None:
    # A bug (not a failed project) ends the run with its own exception, and
    # no worker goes on sending requests behind the caller's back.
    fake = _fake_with_releases()
    sent: list[str] = []

    class Broken(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(request.url.path)
            await asyncio.sleep(0.005)
            if len(sent) == 4:
                raise RuntimeError('transport bug')
            response = fake(request)
            return httpx.Response(
                response.status_code, headers=response.headers, content=response.content
            )

    async with Imbi(
        base_url='http://imbi.test', token='tok-en', transport=Broken()
    ) as c:
        with pytest.raises(RuntimeError, match='transport bug'):
            await bulk.run(
                c,
                bulk.RecordDeployment('prod', status='success', tag='1.0.0'),
                _targets(),
                concurrency=3,
                progress=False,
            )
        count = len(sent)
        await asyncio.sleep(0.05)
    assert len(sent) == count < len(PROJECTS)


async def test_lost_response_is_reconciled_not_resent(tmp_path: pathlib.Path) -> None:
    # The server records the event, then the connection drops.
    fake = _fake_with_releases()
    dropped: set[str] = set()

    def drop_first(request: httpx.Request) -> None:
        if request.method == 'POST' and request.url.path not in dropped:
            dropped.add(request.url.path)
            raise httpx.ReadError('connection reset by peer')

    fake.after_write = drop_first
    async with _client(fake) as client:
        results = await bulk.run(
            client,
            bulk.RecordDeployment('prod', status='success', tag='1.0.0'),
            _targets(),
            journal=tmp_path / 'j.jsonl',
            progress=False,
        )
    assert results.counts()['ok'] == 12
    assert 'found on reconcile' in results[0].detail
    assert fake.posts == 12  # one event per project, none duplicated


async def test_interrupted_run_is_reconciled_on_rerun(tmp_path: pathlib.Path) -> None:
    fake = _fake_with_releases()
    journal = tmp_path / 'j.jsonl'
    operation = bulk.RecordDeployment('prod', status='success', tag='1.0.0')
    server_down = False

    def fault(request: httpx.Request) -> httpx.Response | None:
        if server_down:
            raise httpx.ConnectError('connection refused')
        return None

    def crash_after_fifth(request: httpx.Request) -> None:
        nonlocal server_down
        if fake.posts == 5:
            server_down = True  # recorded, but the answer never arrives
            raise httpx.RemoteProtocolError('server disconnected')

    fake.fault = fault
    fake.after_write = crash_after_fifth
    async with _client(fake) as client:
        first = await bulk.run(
            client,
            operation,
            _targets(),
            journal=journal,
            progress=False,
            concurrency=1,
        )
        assert first.counts()['ok'] == 4
        assert first.counts()['failed'] == 8
        assert 'may still arrive' in first[4].detail
        server_down = False
        fake.after_write = None
        second = await bulk.run(
            client, operation, _targets(), journal=journal, progress=False
        )
    assert second.counts() == {
        'ok': 8,
        'skipped': 4,
        'conflict': 0,
        'refused': 0,
        'failed': 0,
    }
    assert 'found on reconcile' in second[4].detail
    assert fake.posts == 12
    assert all(len(fake.events[(f'{p}-1.0.0', 'prod')]) == 1 for p in PROJECTS)


async def test_release_bulk_is_idempotent(tmp_path: pathlib.Path) -> None:
    fake = FakeImbi()
    fake.add_release('p00', '2.0.0', 'def5678')
    operation = bulk.CreateRelease(
        {'committish': 'def5678', 'title': 'v2', 'tag': '2.0.0'}
    )
    async with _client(fake) as client:
        results = await bulk.run(client, operation, _targets(), progress=False)
    assert results.counts()['ok'] == 12
    assert all(len(fake.releases[p]) == 1 for p in PROJECTS)


async def test_patch_conflicts_are_reported(tmp_path: pathlib.Path) -> None:
    fake = FakeImbi()
    fake.documents['p01'] = {'description': 'changed by someone'}
    patch = bulk.ApplyPatch(
        [
            {'op': 'test', 'path': '/description', 'value': 'old'},
            {'op': 'replace', 'path': '/description', 'value': 'new'},
        ]
    )
    async with _client(fake) as client:
        results = await bulk.run(client, patch, _targets()[:3], progress=False)
    assert [r.status for r in results] == ['ok', 'conflict', 'ok']
    assert 'Patch test operation failed' in results[1].detail
    assert results[1].http_status == 422


def test_journal_of_another_operation_is_refused(tmp_path: pathlib.Path) -> None:
    journal = tmp_path / 'j.jsonl'
    one = bulk.RecordDeployment('prod', status='success', tag='1.0.0')
    other = bulk.RecordDeployment('prod', status='success', tag='2.0.0')
    bulk.Journal(journal, one.fingerprint()).close()
    with pytest.raises(bulk.JournalError, match='another operation'):
        bulk.Journal(journal, other.fingerprint())


def test_journal_survives_a_cut_last_line(tmp_path: pathlib.Path) -> None:
    journal = tmp_path / 'j.jsonl'
    operation = bulk.CreateRelease({'committish': 'abc1234', 'title': 't'})
    with bulk.Journal(journal, operation.fingerprint()) as book:
        book.started('eng/p1', {})
        book.result('eng/p1', 'ok', 'done', 201)
    with journal.open('a') as handle:
        handle.write('{"type": "result", "key": "eng/p2", "sta')  # crash mid-write
    with bulk.Journal(journal, operation.fingerprint()) as book:
        assert book.entry('eng/p1').status == 'ok'
        assert book.entry('eng/p2').status is None
        book.result('eng/p3', 'ok', 'done', 201)
    lines = journal.read_text().splitlines()
    assert json.loads(lines[-1])['key'] == 'eng/p3'


@pytest.mark.parametrize(
    ('make', 'message'),
    [
        (
            lambda: bulk.RecordDeployment('prod', status='done', tag='1'),
            'unknown deployment',
        ),
        (
            lambda: bulk.RecordDeployment('prod', status='success'),
            'tag= or committish=',
        ),
        (lambda: bulk.RecordDeployment('..', status='success', tag='1'), 'dot segment'),
        (lambda: bulk.ApplyPatch([]), 'empty'),
        (
            lambda: bulk.ApplyPatch([{'op': 'replace', 'path': 'x'}]),
            'must start with "/"',
        ),
        (lambda: bulk.ApplyPatch([{'op': 'remove', 'path': '/id'}]), 'read-only'),
        (lambda: bulk.CreateRelease({'title': 't'}), 'committish'),
    ],
)
def test_bad_operations_are_refused(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


async def test_duplicate_targets_are_refused() -> None:
    async with _client(FakeImbi()) as client:
        with pytest.raises(ValueError, match='listed twice'):
            await bulk.run(
                client,
                bulk.CreateRelease({'committish': 'abc1234', 'title': 't'}),
                [('eng', 'p1'), ('eng', 'p1')],
                progress=False,
            )


def test_result_table_renders_for_terminal_and_notebook() -> None:
    results = bulk.Results(
        [
            bulk.Result(bulk.Target('eng', 'p1', 'billing'), 'ok', 'patched', 200),
            bulk.Result(
                bulk.Target('eng', 'p2'), 'failed', '<b>boom</b> Bearer xyz', 500
            ),
        ],
        'patch (1 op)',
    )
    text = str(results)
    assert text.splitlines()[0] == 'patch (1 op): 1 ok, 1 failed'
    assert 'billing' in text and 'eng/p2' in text
    assert 'xyz' not in text
    page = results._repr_html_()
    assert '&lt;b&gt;boom&lt;/b&gt;' in page
    assert '<b>boom' not in page
    assert 'xyz' not in page
    assert repr(results) == '<Results patch (1 op): 1 ok, 1 failed>'
    assert len(results.failed) == 1


async def test_progress_bar_is_shown(capsys: pytest.CaptureFixture[str]) -> None:
    fake = _fake_with_releases()
    async with _client(fake) as client:
        await bulk.run(
            client,
            bulk.RecordDeployment('prod', status='success', tag='1.0.0'),
            _targets(),
        )
    err = capsys.readouterr().err
    assert 'deploy 1.0.0 to prod (success)' in err
    assert '12/12' in err


async def test_server_error_on_deployment_is_checked_before_resending(
    tmp_path: pathlib.Path,
) -> None:
    fake = _fake_with_releases()
    failing = {'p02'}

    def fault(request: httpx.Request) -> httpx.Response | None:
        project = request.url.path.split('/')[4]
        if request.method == 'POST' and project in failing:
            failing.discard(project)
            return httpx.Response(503, json={'detail': 'Service Unavailable'})
        return None

    fake.fault = fault
    journal = tmp_path / 'j.jsonl'
    operation = bulk.RecordDeployment('prod', status='success', tag='1.0.0')
    async with _client(fake) as client:
        first = await bulk.run(
            client, operation, _targets(), journal=journal, progress=False
        )
        (failed,) = first.failed
        assert failed.in_doubt
        assert failed.http_status == 503
        second = await bulk.run(
            client, operation, _targets(), journal=journal, progress=False
        )
    assert second.counts() == {
        'ok': 1,
        'skipped': 11,
        'conflict': 0,
        'refused': 0,
        'failed': 0,
    }
    assert fake.posts == 12


async def test_patch_retried_after_lost_answer_is_ok_not_conflict() -> None:
    fake = FakeImbi()
    lost: set[str] = set()

    def lose_first_answer(request: httpx.Request) -> None:
        if request.method == 'PATCH' and request.url.path not in lost:
            lost.add(request.url.path)
            raise httpx.ReadError('connection reset')

    fake.after_write = lose_first_answer
    patch = bulk.ApplyPatch(
        [
            {'op': 'test', 'path': '/description', 'value': 'old'},
            {'op': 'replace', 'path': '/description', 'value': 'new'},
        ]
    )
    async with _client(fake) as client:
        results = await bulk.run(client, patch, _targets()[:4], progress=False)
    assert [r.status for r in results] == ['ok'] * 4
    assert 'earlier attempt applied it' in results[0].detail
    assert all(fake.documents[p]['description'] == 'new' for p in PROJECTS[:4])


async def test_interrupted_patch_is_recognised_on_rerun(tmp_path: pathlib.Path) -> None:
    fake = FakeImbi()
    patch = bulk.ApplyPatch([{'op': 'replace', 'path': '/description', 'value': 'new'}])
    journal = tmp_path / 'j.jsonl'
    with bulk.Journal(journal, patch.fingerprint()) as book:
        book.started('eng/p00', {})  # crashed after sending, before the answer
    fake.documents['p00'] = {'description': 'new'}
    async with _client(fake) as client:
        results = await bulk.run(
            client, patch, _targets()[:2], journal=journal, progress=False
        )
    assert [r.detail for r in results] == ['patched (found on reconcile)', 'patched']


async def test_interrupted_append_is_not_resent(tmp_path: pathlib.Path) -> None:
    fake = FakeImbi()
    patch = bulk.ApplyPatch([{'op': 'add', 'path': '/tags/-', 'value': 'x'}])
    journal = tmp_path / 'j.jsonl'
    with bulk.Journal(journal, patch.fingerprint()) as book:
        book.started('eng/p00', {})
    async with _client(fake) as client:
        results = await bulk.run(
            client, patch, _targets()[:1], journal=journal, progress=False
        )
    assert results[0].status == 'failed'
    assert 'may have applied this patch' in results[0].detail
    assert 'p00' not in fake.documents or 'tags' not in fake.documents['p00']


async def test_ctrl_c_mid_run_then_rerun_writes_nothing_twice(
    tmp_path: pathlib.Path,
) -> None:
    fake = _fake_with_releases()
    journal = tmp_path / 'j.jsonl'
    operation = bulk.RecordDeployment('prod', status='success', tag='1.0.0')
    four_recorded = asyncio.Event()

    def count(request: httpx.Request) -> None:
        if fake.posts >= 4:
            four_recorded.set()

    fake.after_write = count

    class Slow(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0.01)
            response = fake(request)
            return httpx.Response(
                response.status_code, headers=response.headers, content=response.content
            )

    async with Imbi(base_url='http://imbi.test', token='tok-en', transport=Slow()) as c:
        run = asyncio.create_task(
            bulk.run(
                c, operation, _targets(), journal=journal, progress=False, concurrency=3
            )
        )
        await four_recorded.wait()
        run.cancel()  # what Ctrl-C does to a notebook cell's task
        with pytest.raises(asyncio.CancelledError):
            await run
        interrupted = fake.posts
        assert interrupted < 12
        again = await bulk.run(
            c, operation, _targets(), journal=journal, progress=False
        )
    assert again.succeeded
    assert again.counts()['skipped'] >= 4
    assert fake.posts == 12
    assert all(len(fake.events[(f'{p}-1.0.0', 'prod')]) == 1 for p in PROJECTS)


def test_target_from_project() -> None:
    full = {'id': 'p1', 'slug': 'billing', 'team': {'organization': {'slug': 'eng'}}}
    assert bulk.Target.from_project(full) == bulk.Target('eng', 'p1')
    assert str(bulk.Target.from_project(full)) == 'billing'
    slim = {'id': 'p2', 'slug': 'web', 'team': {'name': 'Web', 'slug': 'web'}}
    assert bulk.Target.from_project(slim, 'eng').key == 'eng/p2'
    with pytest.raises(ValueError, match='org_slug='):
        bulk.Target.from_project(slim)
    with pytest.raises(ValueError, match='no "id"'):
        bulk.Target.from_project({'slug': 'x'}, 'eng')
