"""The journal's group commit: fewer fsyncs, never a write before its line.

Against a sandbox of 120 projects over a socket, at 10 in flight.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import threading
import typing
from collections import abc

import pytest

from imbi_toolkit import Toolkit, bulk
from imbi_toolkit.bulk import _journal as journal_module
from imbi_toolkit.plugins import PluginManager
from imbi_toolkit.testing import SandboxProcess

ORG = 'engineering'


@pytest.fixture(scope='module')
def sandbox(imbi_sandbox_factory: abc.Callable[..., SandboxProcess]) -> SandboxProcess:
    return imbi_sandbox_factory(projects=120, latency_ms=5)


async def _targets(sandbox: SandboxProcess) -> list[tuple[str, str]]:
    async with sandbox.client() as client:
        listing = await client.list_projects(ORG, {'slim': 'true'})
    return [(ORG, str(project['id'])) for project in listing]


class _Disk:
    """Counts fsyncs of the journal, and which started lines each covered."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self.fsyncs = 0
        self.durable: set[str] = set()
        self._lock = threading.Lock()
        self._real = os.fsync

    def fsync(self, fd: int) -> None:
        # What is in the file when the fsync starts is on disk when it ends.
        keys = {
            record['key']
            for record in map(json.loads, self.path.read_text().splitlines())
            if record.get('type') == 'started'
        }
        self._real(fd)
        with self._lock:
            self.fsyncs += 1
            self.durable |= keys


async def test_workers_share_fsyncs_and_no_patch_leaves_before_its_line(
    sandbox: SandboxProcess, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    targets = await _targets(sandbox)
    path = tmp_path / 'j.jsonl'
    disk = _Disk(path)
    monkeypatch.setattr(journal_module.os, 'fsync', disk.fsync)
    early: list[str] = []
    async with sandbox.client() as client:

        async def check(request: typing.Any) -> None:
            if request.method == 'PATCH':
                project_id = request.url.path.rsplit('/', 1)[-1]
                if f'{ORG}/{project_id}' not in disk.durable:
                    early.append(project_id)

        client.event_hooks['request'].append(check)
        toolkit = Toolkit(client, plugin_manager=PluginManager())
        plan = await bulk.plan(
            toolkit,
            [{'op': 'replace', 'path': '/description', 'value': 'grouped'}],
            targets,
            progress=False,
        )
        results = await bulk.apply(
            toolkit, plan, journal=path, concurrency=10, progress=False
        )
    assert results.counts()['ok'] == len(targets) == 119  # all but the archived one
    assert early == []  # every patch went out after its started line was on disk
    # One fsync per line was 2 x 119 (plus the header and the run line).
    assert disk.fsyncs < len(targets), disk.fsyncs


async def test_a_run_stopped_with_lines_written_ahead_finishes_on_rerun(
    sandbox: SandboxProcess, tmp_path: pathlib.Path
) -> None:
    targets = await _targets(sandbox)
    path = tmp_path / 'j.jsonl'
    async with sandbox.client() as client:
        toolkit = Toolkit(client, plugin_manager=PluginManager())
        plan = await bulk.plan(
            toolkit,
            [{'op': 'replace', 'path': '/description', 'value': 'stopped'}],
            targets,
            progress=False,
        )
        sent: list[str] = []
        thirty = asyncio.Event()

        async def count(request: typing.Any) -> None:
            if request.method == 'PATCH':
                sent.append(request.url.path)
                if len(sent) >= 30:
                    thirty.set()

        client.event_hooks['request'].append(count)
        run = asyncio.create_task(
            bulk.apply(toolkit, plan, journal=path, concurrency=10, progress=False)
        )
        await thirty.wait()
        run.cancel()  # Ctrl-C
        with pytest.raises(asyncio.CancelledError):
            await run
        sent_before = set(sent)
        started = {
            record['key']
            for record in map(json.loads, path.read_text().splitlines())
            if record.get('type') == 'started'
        }
        # Lines were written for projects not sent yet (that is the point).
        assert len(started) > len(set(sent))
        again = await bulk.apply(
            toolkit, plan, journal=path, concurrency=10, progress=False
        )
        descriptions = {
            (await client.get_project(*target))['description'] for target in targets
        }
    counts = again.counts()
    assert counts['conflict'] == counts['failed'] == 0, counts
    assert counts['ok'] + counts['skipped'] == len(targets)
    assert descriptions == {'stopped'}
    # Sent again: at most the 10 in flight when the run stopped (their
    # answers were lost), never one whose line was merely written ahead.
    resent = len(sent) - len(set(sent))
    assert resent <= 10
    assert (
        set(sent) - sent_before
        == {
            f'/organizations/{ORG}/projects/{key.split("/")[1]}'
            for key in {f'{ORG}/{t[1]}' for t in targets}
        }
        - sent_before
    )


def test_appends_are_never_journaled_ahead() -> None:
    # Their reconcile cannot tell a lost write from one never sent, so a
    # line written ahead would turn a crash into a manual check.
    target = bulk.Target(ORG, 'p1')
    append = bulk.ApplyPatch([{'op': 'add', 'path': '/links/-', 'value': 'x'}])
    replace = bulk.ApplyPatch([{'op': 'replace', 'path': '/name', 'value': 'x'}])
    assert not append.journal_ahead(target)
    assert replace.journal_ahead(target)
