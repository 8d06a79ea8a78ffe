"""Fault injection against a real sandbox over loopback sockets.

Each case injects one kind of fault with the sandbox's fault rules (or by
stopping, killing and restarting it), asserts what the user sees, that no
deployment event was written twice, that nothing was lost, and that the
sandbox's token appears in no log record, output or error text. The figures
are printed at the end of the session.
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
import socket
import time
import typing
from collections import abc

import httpx
import pytest

from imbi_toolkit import bulk
from imbi_toolkit.api import Imbi, errors, retries
from imbi_toolkit.operations import Toolkit
from imbi_toolkit.plugins import PluginManager
from imbi_toolkit.testing import SandboxProcess

from ..fakes import CaptureServer
from .conftest import FIGURES

pytestmark = pytest.mark.fault

ORG = 'engineering'
ENV = 'staging'
# Short backoff keeps the suite fast; Retry-After is honoured up to 1 s.
POLICY = retries.RetryPolicy(backoff=0.02, max_backoff=0.1, max_retry_after=1.0)


class Watch:
    """Collects every text a user could see, to look for the token."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.texts: list[str] = []

    def error(self, error: BaseException) -> BaseException:
        self.texts.append(str(error))
        render = getattr(error, '_render_traceback_', None)
        if render is not None:
            self.texts.extend(render())
        return error


@pytest.fixture
def sandbox(imbi_sandbox: SandboxProcess) -> SandboxProcess:
    return imbi_sandbox


@pytest.fixture
def watch(
    sandbox: SandboxProcess,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> abc.Iterator[Watch]:
    caplog.set_level(logging.DEBUG)
    watcher = Watch(sandbox.token)
    yield watcher
    out, err = capsys.readouterr()
    seen = [out, err, caplog.text, *watcher.texts]
    seen += [f'{r.getMessage()} {r.exc_text or ""}' for r in caplog.records]
    leaks = sum(text.count(sandbox.token) for text in seen)
    FIGURES.leaks += leaks
    assert leaks == 0, 'the token leaked'


def _client(sandbox: SandboxProcess, **kwargs: typing.Any) -> Imbi:
    options: dict[str, typing.Any] = {
        'max_retries': 3,
        'retry_policy': POLICY,
        'timeout': 5.0,
        'connect_timeout': 1.0,
    }
    options.update(kwargs)
    return Imbi(base_url=sandbox.base_url, token=sandbox.token, **options)


async def _projects(client: Imbi, count: int | None = None) -> list[str]:
    response = await client.get(
        f'/organizations/{ORG}/projects/', params={'slim': 'true'}
    )
    errors.raise_for_status(response)
    ids = [str(project['id']) for project in response.json()]
    assert ids, 'the demo seed has projects'
    return ids[:count] if count else ids


async def _release_everywhere(
    client: Imbi, projects: list[str], tag: str, committish: str = 'feed123'
) -> None:
    results = await bulk.run(
        _toolkit(client),
        bulk.CreateRelease({'committish': committish, 'title': tag, 'tag': tag}),
        [(ORG, project) for project in projects],
        progress=False,
    )
    assert results.succeeded, str(results)


async def _events(client: Imbi, project: str, tag: str) -> int:
    release_id = await _toolkit(client).resolve_release_id(ORG, project, tag=tag)
    response = await client.get(
        f'/organizations/{ORG}/projects/{project}/releases/{release_id}/environments/{ENV}'
    )
    if response.status_code == 404:
        return 0
    errors.raise_for_status(response)
    return len(response.json()['deployments'])


async def _assert_one_event_each(client: Imbi, projects: list[str], tag: str) -> None:
    counts = [await _events(client, project, tag) for project in projects]
    FIGURES.duplicates += sum(max(0, n - 1) for n in counts)
    assert counts == [1] * len(projects), 'every project has exactly one event'


def _toolkit(client: Imbi) -> Toolkit:
    return Toolkit(client, plugin_manager=PluginManager())


def _deploy(tag: str) -> bulk.RecordDeployment:
    return bulk.RecordDeployment(ENV, status='success', tag=tag, note='fault suite')


def _status_error(
    cls: type[errors.ImbiStatusError], response: httpx.Response
) -> errors.ImbiStatusError:
    with pytest.raises(cls) as excinfo:
        errors.raise_for_status(response)
    return excinfo.value


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return int(probe.getsockname()[1])


def _retries_logged(caplog: pytest.LogCaptureFixture) -> int:
    return sum('Retrying' in r.getMessage() for r in caplog.records)


# -- server down, connection refused -----------------------------------------


async def test_server_down(
    sandbox: SandboxProcess, watch: Watch, caplog: pytest.LogCaptureFixture
) -> None:
    port = _free_port()  # nothing listens there any more
    started = time.monotonic()
    async with Imbi(
        base_url=f'http://127.0.0.1:{port}',
        token=sandbox.token,
        max_retries=2,
        retry_policy=POLICY,
    ) as client:
        with pytest.raises(errors.ImbiConnectionError) as excinfo:
            await _toolkit(client).record_deployment(
                ORG, 'p' * 21, ENV, {'status': 'success'}, tag='1.0.0'
            )
        watch.error(excinfo.value)
        assert excinfo.value.sent is False
        assert 'ConnectError' in str(excinfo.value)
        results = await bulk.run(
            _toolkit(client),
            _deploy('1.0.0'),
            [(ORG, 'a' * 21), (ORG, 'b' * 21)],
            progress=False,
        )
    assert [r.status for r in results] == ['failed', 'failed']
    assert not any(r.in_doubt for r in results)
    assert _retries_logged(caplog) == 2 * 3
    assert time.monotonic() - started < 10


async def test_connection_refused_on_deployment_is_retried(
    sandbox: SandboxProcess, watch: Watch
) -> None:
    async with _client(sandbox) as client:
        (project,) = await _projects(client, 1)
        await _release_everywhere(client, [project], 'refused-1')
        release_id = await _toolkit(client).resolve_release_id(
            ORG, project, tag='refused-1'
        )
    # A server that comes up while the client is retrying its connection.
    async with _client(sandbox, max_retries=3) as client:
        real = client._transport

        class RefuseOnce(httpx.AsyncBaseTransport):
            refused = 0

            async def handle_async_request(
                self, request: httpx.Request
            ) -> httpx.Response:
                if not RefuseOnce.refused:
                    RefuseOnce.refused += 1
                    raise httpx.ConnectError('[Errno 111] Connection refused')
                return await real.handle_async_request(request)

        client._transport = RefuseOnce()
        response = await client.record_deployment(
            ORG, project, release_id, ENV, {'status': 'success'}
        )
        client._transport = real
        assert response.status_code == 200
        assert RefuseOnce.refused == 1
        await _assert_one_event_each(client, [project], 'refused-1')


# -- connection reset mid-request ----------------------------------------------


@pytest.mark.parametrize('action', ['drop', 'truncate'])
async def test_reset_read_is_retried(
    sandbox: SandboxProcess, watch: Watch, action: str
) -> None:
    async with _client(sandbox) as client:
        (project,) = await _projects(client, 1)
        await _release_everywhere(client, [project], 'reset-1')
        sandbox.add_fault(
            method='GET',
            path=f'/organizations/{ORG}/projects/*/releases/',
            action=action,
            times=2,
        )
        release = await client.find_release(ORG, project, tag='reset-1')
    assert release is not None and release['tag'] == 'reset-1'


async def test_reset_deployment_is_never_duplicated(
    sandbox: SandboxProcess, watch: Watch, tmp_path: pathlib.Path
) -> None:
    journal = tmp_path / 'deploy.jsonl'
    async with _client(sandbox) as client:
        projects = await _projects(client, 4)
        await _release_everywhere(client, projects, 'reset-2')
        sandbox.add_fault(
            method='POST',
            path='/organizations/*/environments/*',
            action='drop',
            times=2,
        )
        first = await bulk.run(
            _toolkit(client),
            _deploy('reset-2'),
            [(ORG, p) for p in projects],
            journal=journal,
            progress=False,
            concurrency=1,
        )
        assert first.counts()['failed'] == 2
        assert all(r.in_doubt for r in first.failed)
        for result in first.failed:
            watch.texts.append(result.detail)
        second = await bulk.run(
            _toolkit(client),
            _deploy('reset-2'),
            [(ORG, p) for p in projects],
            journal=journal,
            progress=False,
        )
        assert second.counts() == {
            'ok': 2,
            'skipped': 2,
            'conflict': 0,
            'refused': 0,
            'failed': 0,
        }
        await _assert_one_event_each(client, projects, 'reset-2')
    watch.texts.append(journal.read_text())


async def test_lost_answer_after_deployment_is_found_not_resent(
    sandbox: SandboxProcess, watch: Watch, tmp_path: pathlib.Path
) -> None:
    # The server records the event, then the connection drops before the
    # answer: the runner counts the events and finds it.
    async with _client(sandbox) as client:
        projects = await _projects(client, 3)
        await _release_everywhere(client, projects, 'lost-1')
        sandbox.add_fault(
            method='POST',
            path='/organizations/*/environments/*',
            action='drop_after',
            times=2,
        )
        results = await bulk.run(
            _toolkit(client),
            _deploy('lost-1'),
            [(ORG, p) for p in projects],
            journal=tmp_path / 'lost.jsonl',
            progress=False,
            concurrency=1,
        )
        assert [r.status for r in results] == ['ok', 'ok', 'ok']
        assert [('found on reconcile' in r.detail) for r in results] == [
            True,
            True,
            False,
        ]
        await _assert_one_event_each(client, projects, 'lost-1')


async def test_lost_answer_after_release_create_is_looked_up(
    sandbox: SandboxProcess, watch: Watch
) -> None:
    body = {'committish': 'abad1de', 'title': 'lost', 'tag': 'lost-2'}
    async with _client(sandbox) as client:
        (project,) = await _projects(client, 1)
        sandbox.add_fault(
            method='POST',
            path='/organizations/*/releases/',
            action='drop_after',
            times=1,
        )
        release = await _toolkit(client).create_release(ORG, project, body)
        response = await client.get(
            f'/organizations/{ORG}/projects/{project}/releases/',
            params={'committish': 'abad1de'},
        )
    assert [r['id'] for r in response.json()] == [release['id']]


async def test_lost_answer_after_guarded_patch_is_recognised(
    sandbox: SandboxProcess, watch: Watch
) -> None:
    async with _client(sandbox) as client:
        projects = await _projects(client, 2)
        descriptions = []
        for project in projects:
            response = await client.get(f'/organizations/{ORG}/projects/{project}')
            descriptions.append(response.json()['description'])
        sandbox.add_fault(
            method='PATCH', path='/organizations/*', action='drop_after', times=1
        )
        operation = bulk.ApplyPatch(
            [
                {'op': 'test', 'path': '/description', 'value': descriptions[0]},
                {'op': 'replace', 'path': '/description', 'value': 'Patched once'},
            ]
        )
        results = await bulk.run(
            _toolkit(client), operation, [(ORG, projects[0])], progress=False
        )
        assert [r.status for r in results] == ['ok']
        assert 'earlier attempt applied it' in results[0].detail
        # The same guarded patch on a project that differs is a conflict.
        assert descriptions[1] != descriptions[0]
        conflict = await bulk.run(
            _toolkit(client), operation, [(ORG, projects[1])], progress=False
        )
        assert [r.status for r in conflict] == ['conflict']
        assert 'Patch test operation failed' in conflict[0].detail


# -- slow responses hitting timeouts --------------------------------------------


async def test_slow_read_times_out_and_is_retried(
    sandbox: SandboxProcess, watch: Watch
) -> None:
    async with _client(sandbox, timeout=0.4) as client:
        (project,) = await _projects(client, 1)
        sandbox.add_fault(
            method='GET',
            path=f'/organizations/{ORG}/projects/*',
            action='delay',
            delay_ms=3000,
            times=1,
        )
        started = time.monotonic()
        response = await client.get(f'/organizations/{ORG}/projects/{project}')
        assert response.status_code == 200
        assert (
            0.4 <= time.monotonic() - started < 2.5
        )  # did not wait for the slow answer


async def test_slow_deployment_is_reconciled_not_resent(
    sandbox: SandboxProcess, watch: Watch, tmp_path: pathlib.Path
) -> None:
    journal = tmp_path / 'slow.jsonl'
    async with _client(sandbox, timeout=0.4) as client:
        projects = await _projects(client, 2)
        await _release_everywhere(client, projects, 'slow-1')
        sandbox.add_fault(
            method='POST',
            path='/organizations/*/environments/*',
            action='delay',
            delay_ms=1000,
            times=1,
        )
        targets = [(ORG, p) for p in projects]
        first = await bulk.run(
            _toolkit(client),
            _deploy('slow-1'),
            targets,
            journal=journal,
            progress=False,
            concurrency=1,
        )
        assert [r.status for r in first] == ['failed', 'ok']
        assert first[0].in_doubt
        assert 'ReadTimeout' in first[0].detail
        await asyncio.sleep(1.0)  # the server finishes the slow request
        second = await bulk.run(
            _toolkit(client),
            _deploy('slow-1'),
            targets,
            journal=journal,
            progress=False,
        )
        # The server dropped the request when the client went away, so the
        # rerun found no event and sent it (once); either way, one event.
        assert [r.status for r in second] == ['ok', 'skipped']
        await _assert_one_event_each(client, projects, 'slow-1')


async def test_slow_release_create_is_retried_without_duplicate(
    sandbox: SandboxProcess, watch: Watch
) -> None:
    body = {'committish': 'bead123', 'title': 'slow', 'tag': 'slow-2'}
    async with _client(sandbox, timeout=0.4) as client:
        (project,) = await _projects(client, 1)
        sandbox.add_fault(
            method='POST',
            path='/organizations/*/releases/',
            action='delay',
            delay_ms=800,
            times=1,
        )
        release = await _toolkit(client).create_release(ORG, project, body)
        await asyncio.sleep(0.8)  # let the first, slow create finish
        response = await client.get(
            f'/organizations/{ORG}/projects/{project}/releases/',
            params={'committish': 'bead123'},
        )
    assert [r['id'] for r in response.json()] == [release['id']]


# -- 5xx, 429 and Retry-After ----------------------------------------------------


@pytest.mark.parametrize('status', [500, 502, 503, 504])
async def test_server_errors(
    sandbox: SandboxProcess, watch: Watch, status: int
) -> None:
    async with _client(sandbox) as client:
        (project,) = await _projects(client, 1)
        await _release_everywhere(client, [project], f'status-{status}')
        sandbox.add_fault(
            method='GET',
            path=f'/organizations/{ORG}/projects/*',
            status=status,
            times=1,
        )
        response = await client.get(f'/organizations/{ORG}/projects/{project}')
        if status == 500:  # not a transient status: the caller sees it
            error = watch.error(_status_error(errors.ServerError, response))
            assert 'Internal Server Error' in str(error)
        else:
            assert response.status_code == 200
        sandbox.add_fault(
            method='POST',
            path='/organizations/*/environments/*',
            status=status,
            times=1,
        )
        with pytest.raises(errors.ServerError) as excinfo:
            await _toolkit(client).record_deployment(
                ORG, project, ENV, {'status': 'success'}, tag=f'status-{status}'
            )
        watch.error(excinfo.value)
        assert excinfo.value.status == status
        assert await _events(client, project, f'status-{status}') == 0  # not retried
        await _toolkit(client).record_deployment(
            ORG, project, ENV, {'status': 'success'}, tag=f'status-{status}'
        )
        await _assert_one_event_each(client, [project], f'status-{status}')


@pytest.mark.parametrize('status', [429, 503])
async def test_retry_after_is_honoured(
    sandbox: SandboxProcess, watch: Watch, status: int
) -> None:
    async with _client(sandbox) as client:
        sandbox.add_fault(
            method='GET',
            path='/organizations/',
            status=status,
            headers={'Retry-After': '1'},
            times=1,
            body={'error': 'Rate limit exceeded: 10 per 1 minute'}
            if status == 429
            else None,
        )
        started = time.monotonic()
        response = await client.get('/organizations/')
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert 0.9 <= elapsed < 3


async def test_long_retry_after_is_capped(
    sandbox: SandboxProcess, watch: Watch
) -> None:
    async with _client(sandbox, max_retries=1) as client:
        sandbox.add_fault(
            method='GET',
            path='/organizations/',
            status=503,
            headers={'Retry-After': '3600'},
            times=2,
        )
        started = time.monotonic()
        response = await client.get('/organizations/')
        elapsed = time.monotonic() - started
        error = watch.error(_status_error(errors.ServerError, response))
    assert elapsed < 3  # capped at max_retry_after, not an hour
    assert error.status == 503


# -- a body that is not JSON -------------------------------------------------------


async def test_non_json_bodies(sandbox: SandboxProcess, watch: Watch) -> None:
    async with _client(sandbox) as client:
        (project,) = await _projects(client, 1)
        sandbox.add_fault(
            method='GET',
            path='/organizations/*/releases/',
            status=200,
            text='<html>captive portal</html>',
            times=1,
        )
        with pytest.raises(
            errors.UnexpectedResponseError, match='not a JSON array'
        ) as excinfo:
            await client.find_release(ORG, project, tag='1.0.0')
        watch.error(excinfo.value)
        sandbox.add_fault(
            method='POST',
            path='/organizations/*/releases/',
            status=502,
            text='<html><body>' + 'Bad Gateway ' * 200 + '</body></html>',
            times=1,
        )
        response = await client.create_release(
            ORG, project, {'committish': 'c0ffee1', 'title': 't', 'tag': 'html-1'}
        )
        # create_release is retried on 502: the second attempt creates it.
        assert response.status_code == 201
        sandbox.add_fault(
            method='GET',
            path='/users/by-identity',
            status=200,
            text='not json',
            times=1,
        )
        assert await client.find_user_by_identity('github', '1') is None
        sandbox.add_fault(
            method='PATCH',
            path='/organizations/*',
            status=500,
            text='Internal Server Error',
            times=1,
        )
        response = await client.patch_project(
            ORG, project, [{'op': 'replace', 'path': '/description', 'value': 'x'}]
        )
        error = watch.error(_status_error(errors.ServerError, response))
    assert error.detail == 'Internal Server Error'


# -- a 307 to another host: the token must not follow -----------------------------


async def test_redirect_to_another_host_keeps_the_token(
    sandbox: SandboxProcess, watch: Watch, capture_server: CaptureServer
) -> None:
    port = capture_server.server_address[1]
    location = f'http://localhost:{port}/stolen'
    async with _client(sandbox) as client:
        sandbox.add_fault(
            method='GET', path='/organizations/', action='redirect', location=location
        )
        response = await client.get('/organizations/')
        assert response.status_code == 307
        error = watch.error(_status_error(errors.UnexpectedRedirectError, response))
        assert 'not followed' in str(error)
        assert capture_server.received == []
        # Even when the caller opts into following redirects, httpx drops the
        # Authorization header on the way to another origin.
        followed = await client.get('/organizations/', follow_redirects=True)
    assert followed.status_code == 200
    (request,) = capture_server.received
    assert request.startswith(b'GET /stolen ')
    assert sandbox.token.encode() not in request
    assert b'authorization' not in request.lower()


# -- the sandbox killed and restarted with --db in the middle of a bulk run -------


async def test_killed_and_restarted_mid_bulk_run(
    imbi_sandbox_factory: abc.Callable[..., SandboxProcess],
    tmp_path: pathlib.Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    token = 'ik_0123456789abcdef0123456789abcdef_fault-suite-token'
    db = tmp_path / 'imbi.sqlite'
    # Slow deployment POSTs, so that the kill catches some in flight.
    slow_posts = {
        'method': 'POST',
        'path': '/organizations/*/environments/*',
        'action': 'delay',
        'delay_ms': 800,
    }
    first_server = imbi_sandbox_factory(
        db_path=db, token=token, latency_ms=20, faults=[slow_posts]
    )
    journal = tmp_path / 'deploy.jsonl'
    async with _client(first_server, max_retries=2) as client:
        projects = await _projects(client)
        targets = [(ORG, p) for p in projects]
        await _release_everywhere(client, projects, 'kill-1')

        async def kill_after(done: int) -> None:
            # Wait until `done` projects are finished and two deployment
            # POSTs are inside the server (arrived, not yet answered), then
            # kill it while it holds them.
            while True:
                rules = await asyncio.to_thread(
                    httpx.get,
                    f'{first_server.base_url}/_sandbox/faults',
                    headers={'authorization': f'Bearer {token}'},
                )
                arrived = sum(rule['matched'] for rule in rules.json())
                text = journal.read_text() if journal.exists() else ''
                answered = text.count('"status": "ok"')
                if answered >= done and arrived - answered >= 2:
                    break
                await asyncio.sleep(0.005)
            first_server.process.kill()  # SIGKILL: no clean shutdown

        killer = asyncio.create_task(kill_after(len(projects) // 6))
        first = await bulk.run(
            _toolkit(client),
            _deploy('kill-1'),
            targets,
            journal=journal,
            progress=False,
            concurrency=5,
        )
        await killer
    counts = first.counts()
    assert counts['ok'] >= len(projects) // 6
    assert counts['failed'] >= 1
    assert counts['ok'] + counts['failed'] == len(projects)
    assert any(result.in_doubt for result in first), 'a POST was in flight'

    second_server = imbi_sandbox_factory(db_path=db, token=token)
    async with _client(second_server) as client:
        second = await bulk.run(
            _toolkit(client),
            _deploy('kill-1'),
            targets,
            journal=journal,
            progress=False,
        )
        assert second.succeeded, str(second)
        assert second.counts()['skipped'] == counts['ok']
        await _assert_one_event_each(client, projects, 'kill-1')
        third = await bulk.run(
            _toolkit(client),
            _deploy('kill-1'),
            targets,
            journal=journal,
            progress=False,
        )
        assert third.counts()['skipped'] == len(projects)
    out, err = capsys.readouterr()
    seen = '\n'.join(
        (out, err, caplog.text, journal.read_text(), str(first), str(second))
    )
    FIGURES.leaks += seen.count(token)
    assert token not in seen
