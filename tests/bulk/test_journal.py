"""The bulk journal: one run at a time, and a line cut by a crash recovered."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import time
import typing

import pytest

from imbi_toolkit import bulk
from imbi_toolkit.api import Imbi
from imbi_toolkit.bulk._results import Result, Target

pytestmark = pytest.mark.attack('duplicated-writes')

if typing.TYPE_CHECKING:
    from imbi_toolkit.operations import Toolkit

OPERATION = bulk.CreateRelease({'committish': 'abc1234', 'title': 't'})

# Holds the journal given as argv[1] open until its stdin closes.
HOLDER = textwrap.dedent(
    """
    import sys
    from imbi_toolkit import bulk
    operation = bulk.CreateRelease({'committish': 'abc1234', 'title': 't'})
    with bulk.Journal(sys.argv[1], operation.fingerprint()):
        print('holding', flush=True)
        sys.stdin.read()
    """
)

# A bulk deployment run against the sandbox named by IMBI_CLIENT_*.
RUNNER = textwrap.dedent(
    """
    import asyncio, json, sys
    from imbi_toolkit import bulk
    from imbi_toolkit.api import Imbi, Settings

    async def main() -> None:
        sys.stdin.readline()  # imported, and told to go
        targets = [('engineering', pid) for pid in json.loads(sys.argv[2])]
        operation = bulk.RecordDeployment('production', status='success', tag='7.7.7')
        async with Imbi.from_settings(Settings()) as client:
            try:
                results = await bulk.run(
                    client, operation, targets, journal=sys.argv[1],
                    progress=False, concurrency=1,
                )
            except bulk.JournalError as error:
                print('JournalError:', error, flush=True)
                sys.exit(3)
        print(results.summary(), flush=True)

    asyncio.run(main())
    """
)


def _python(*args: str, **kwargs: typing.Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, '-c', *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _records(path: pathlib.Path) -> list[dict[str, typing.Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_second_run_on_a_journal_in_use_is_refused_with_the_pid(
    tmp_path: pathlib.Path,
) -> None:
    journal = tmp_path / 'j.jsonl'
    holder = _python(HOLDER, str(journal))
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == 'holding\n'
        with pytest.raises(bulk.JournalError) as raised:
            bulk.Journal(journal, OPERATION.fingerprint())
        message = str(raised.value)
        assert f'is in use by another bulk run (process {holder.pid}' in message
        assert 'wait for it to finish' in message
        assert 'run again with the same journal' in message
    finally:
        holder.communicate('', timeout=30)
    assert holder.returncode == 0
    # Its lock went with it: the journal is usable again.
    with bulk.Journal(journal, OPERATION.fingerprint()) as book:
        book.result('eng/p1', 'ok', 'done', 201)


def test_two_journals_on_one_file_in_one_process(tmp_path: pathlib.Path) -> None:
    journal = tmp_path / 'j.jsonl'
    with (
        bulk.Journal(journal, OPERATION.fingerprint()),
        pytest.raises(bulk.JournalError, match=f'this process, pid {os.getpid()}'),
    ):
        bulk.Journal(journal, OPERATION.fingerprint())
    bulk.Journal(journal, OPERATION.fingerprint()).close()


def test_two_bulk_runs_at_once_record_each_event_once(
    imbi_sandbox_factory: typing.Any, tmp_path: pathlib.Path
) -> None:
    import asyncio

    sandbox = imbi_sandbox_factory(latency_ms=100)

    from imbi_toolkit import Toolkit

    async def prepare() -> list[str]:
        async with sandbox.client() as client:
            response = await client.get('/organizations/engineering/projects/')
            ids = [str(project['id']) for project in response.json()][:8]
            for project_id in ids:
                await Toolkit(client).ensure_release(
                    'engineering',
                    project_id,
                    {'committish': 'abc7777', 'title': 'x', 'tag': '7.7.7'},
                )
            return ids

    ids = asyncio.run(prepare())
    journal = tmp_path / 'deploy.jsonl'
    env = {**os.environ, **sandbox.env(), 'IMBI_CLIENT_MAX_RETRIES': '0'}
    first = _python(RUNNER, str(journal), json.dumps(ids), env=env)
    second = _python(RUNNER, str(journal), json.dumps(ids), env=env)
    assert first.stdin is not None and second.stdin is not None
    first.stdin.write('go\n')
    first.stdin.flush()
    # The second starts while the first is sending.
    deadline = time.monotonic() + 30
    while not (journal.exists() and '"started"' in journal.read_text()):
        assert time.monotonic() < deadline, first.communicate(timeout=30)
        time.sleep(0.01)
    out2, err2 = second.communicate('go\n', timeout=60)
    out1, err1 = first.communicate(timeout=60)
    assert '8 ok' in out1, err1
    assert first.returncode == 0, err1
    assert second.returncode == 3, (out2, err2)
    assert f'in use by another bulk run (process {first.pid}' in out2

    async def count() -> dict[str, int]:
        async with sandbox.client() as client:
            events = {}
            for project_id in ids:
                release_id = await Toolkit(client).resolve_release_id(
                    'engineering', project_id, tag='7.7.7'
                )
                response = await client.get(
                    f'/organizations/engineering/projects/{project_id}'
                    f'/releases/{release_id}/environments/production'
                )
                events[project_id] = len(response.json()['deployments'])
            return events

    assert asyncio.run(count()) == dict.fromkeys(ids, 1)


def _write_cut(journal: pathlib.Path, fragment: str) -> None:
    with journal.open('a') as handle:
        handle.write(fragment)  # the crash came mid-write


def test_a_cut_last_line_is_removed_and_its_project_is_in_doubt(
    tmp_path: pathlib.Path,
) -> None:
    journal = tmp_path / 'j.jsonl'
    with bulk.Journal(journal, OPERATION.fingerprint()) as book:
        book.started('eng/p1', {})
        book.result('eng/p1', 'ok', 'done', 201)
        book.result('eng/p2', 'failed', 'timed out', None)
    _write_cut(journal, '{"data": {}, "key": "eng/p2", "ty')
    for _ in range(3):  # the second rerun used to refuse the journal
        with bulk.Journal(journal, OPERATION.fingerprint()) as book:
            assert book.entry('eng/p1').status == 'ok'
            assert not book.entry('eng/p1').in_doubt
            assert book.entry('eng/p2').in_doubt
    records = _records(journal)  # every line is whole JSON again
    recovered = [r for r in records if r['type'] == 'recovered']
    assert len(recovered) == 1
    assert recovered[0]['key'] == 'eng/p2'
    assert recovered[0]['fragment'] == '{"data": {}, "key": "eng/p2", "ty'
    # A settled result ends the doubt.
    with bulk.Journal(journal, OPERATION.fingerprint()) as book:
        book.result('eng/p2', 'ok', 'done', 201)
    with bulk.Journal(journal, OPERATION.fingerprint()) as book:
        assert not book.entry('eng/p2').in_doubt
        assert book.entry('eng/p2').status == 'ok'


def test_a_cut_result_line_keeps_the_started_data(tmp_path: pathlib.Path) -> None:
    journal = tmp_path / 'j.jsonl'
    with bulk.Journal(journal, OPERATION.fingerprint()) as book:
        book.started('eng/p3', {'events_before': 2, 'release_id': 'r'})
    _write_cut(journal, '{"detail": "event rec')  # cut before its key
    with bulk.Journal(journal, OPERATION.fingerprint()) as book:
        entry = book.entry('eng/p3')
        assert entry.in_doubt
        assert entry.started == {'events_before': 2, 'release_id': 'r'}


def test_a_cut_header_starts_the_journal_again(tmp_path: pathlib.Path) -> None:
    journal = tmp_path / 'j.jsonl'
    journal.write_text('{"created": "2026-01-01T00:00:00+00:00", "oper')
    with bulk.Journal(journal, OPERATION.fingerprint()) as book:
        assert book.entries == {}
    assert [r['type'] for r in _records(journal)] == ['header', 'run']


def test_a_line_cut_by_an_older_version_is_tolerated(tmp_path: pathlib.Path) -> None:
    # Older versions appended a newline after a cut line and went on.
    journal = tmp_path / 'j.jsonl'
    with bulk.Journal(journal, OPERATION.fingerprint()) as book:
        book.result('eng/p1', 'failed', 'x', 500)
    _write_cut(journal, '{"data": {}, "key": "eng/p1", "type": "sta\n')
    with journal.open('a') as handle:
        handle.write(json.dumps({'type': 'result', 'key': 'eng/p4', 'status': 'ok'}))
        handle.write('\n')
    with bulk.Journal(journal, OPERATION.fingerprint()) as book:
        assert book.entry('eng/p1').in_doubt
        assert book.entry('eng/p4').status == 'ok'


@pytest.mark.parametrize('damage', ['garbage in the middle\n', 'x'])
def test_other_damage_is_refused_without_advising_to_start_over(
    tmp_path: pathlib.Path, damage: str
) -> None:
    journal = tmp_path / 'j.jsonl'
    with bulk.Journal(journal, OPERATION.fingerprint()) as book:
        book.result('eng/p1', 'ok', 'done', 201)
    before = journal.read_bytes()
    _write_cut(journal, damage)
    if damage.endswith('\n'):
        with journal.open('a') as handle:
            handle.write(json.dumps({'type': 'result', 'key': 'eng/p2'}) + '\n')
    damaged = journal.read_bytes()
    with pytest.raises(bulk.JournalError) as raised:
        bulk.Journal(journal, OPERATION.fingerprint())
    message = str(raised.value)
    assert 'is not a journal record' in message
    assert 'restore or delete that line' in message
    assert 'move it away' not in message and 'start over' not in message
    assert journal.read_bytes() == damaged  # left as it was
    assert damaged.startswith(before)


class _Probe(bulk.Operation):
    """An operation that records what the runner asks of it."""

    kind = 'probe'

    def __init__(self) -> None:
        self.reconciled: list[tuple[str, dict[str, typing.Any]]] = []
        self.applied: list[str] = []

    def spec(self) -> dict[str, typing.Any]:
        return {}

    def describe(self) -> str:
        return 'probe'

    async def apply(
        self,
        toolkit: Toolkit,
        target: Target,
        started: typing.Callable[[dict[str, typing.Any]], typing.Awaitable[None]],
    ) -> Result:
        await started({})
        self.applied.append(target.key)
        return Result(target, 'ok', 'applied')

    async def reconcile(
        self, toolkit: Toolkit, target: Target, data: dict[str, typing.Any]
    ) -> Result | None:
        self.reconciled.append((target.key, data))
        return Result(target, 'ok', 'found on reconcile')


async def test_the_runner_checks_a_recovered_project_before_sending(
    tmp_path: pathlib.Path,
) -> None:
    journal = tmp_path / 'j.jsonl'
    probe = _Probe()
    with bulk.Journal(journal, probe.fingerprint()) as book:
        book.result('eng/p1', 'failed', 'timed out', None)
        book.result('eng/p2', 'failed', 'timed out', None)
    _write_cut(journal, '{"data": {}, "key": "eng/p2", "typ')
    async with Imbi(base_url='http://127.0.0.1:9', token='t') as client:
        results = await bulk.run(
            client,
            probe,
            [('eng', 'p1'), ('eng', 'p2')],
            journal=journal,
            progress=False,
        )
    assert probe.reconciled == [('eng/p2', {})]
    assert probe.applied == ['eng/p1']
    assert [r.detail for r in results] == ['applied', 'found on reconcile']


def test_a_holder_that_has_not_said_who_it_is_yet(tmp_path: pathlib.Path) -> None:
    journal = tmp_path / 'j.jsonl'
    # An earlier run, finished: its `run` line names a process that is gone.
    earlier = _python(
        'import sys\nfrom imbi_toolkit import bulk\n'
        "op = bulk.CreateRelease({'committish': 'abc1234', 'title': 't'})\n"
        'bulk.Journal(sys.argv[1], op.fingerprint()).close()',
        str(journal),
    )
    assert earlier.communicate(timeout=30)[1] == ''
    # The next one holds the lock, and has not written its own line yet.
    holder = _python(
        'import fcntl, sys\n'
        "handle = open(sys.argv[1], 'a+b')\n"
        'fcntl.flock(handle.fileno(), fcntl.LOCK_EX)\n'
        "print('holding', flush=True)\n"
        'sys.stdin.read()',
        str(journal),
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == 'holding\n'
        with pytest.raises(bulk.JournalError) as raised:
            bulk.Journal(journal, OPERATION.fingerprint())
        assert 'in use by another bulk run (a process that is starting)' in str(
            raised.value
        )
        assert str(earlier.pid) not in str(raised.value)
    finally:
        holder.communicate('', timeout=30)
