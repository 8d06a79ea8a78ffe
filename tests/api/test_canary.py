"""A canary token goes through every path at DEBUG and shows up nowhere.

Records of every logger are captured through the root logger at DEBUG and
also formatted (with tracebacks) onto stderr, which is checked with stdout.
"""

from __future__ import annotations

import logging
import pathlib
import sys
import traceback
from collections import abc

import httpx
import pytest

from imbi_toolkit import bulk
from imbi_toolkit.api import Imbi, errors

from ..fakes import FAST, FakeImbi, Script

pytestmark = pytest.mark.attack('tokens')

SECRET = 'ik_feedfacefeedfacefeedfacefeedface_CANARY-t0k3n'


def _assert_clean(text: str) -> None:
    assert SECRET not in text
    assert 'CANARY' not in text


@pytest.fixture
def everything(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> abc.Iterator[abc.Callable[[], str]]:
    caplog.set_level(logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter('%(name)s %(levelname)s %(message)s'))
    root = logging.getLogger()
    root.addHandler(handler)

    def collected() -> str:
        out, err = capsys.readouterr()
        records = '\n'.join(
            f'{r.getMessage()} {r.exc_text or ""} {r.stack_info or ""}'
            for r in caplog.records
        )
        return '\n'.join((out, err, records, caplog.text))

    try:
        yield collected
    finally:
        root.removeHandler(handler)


def _echo(status: int) -> abc.Callable[[httpx.Request], httpx.Response]:
    # A hostile or buggy server that echoes the request headers back.
    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status,
            json={'detail': f'bad auth {request.headers["authorization"]}'},
            headers={'x-echo': request.headers['authorization']},
        )

    return respond


async def test_errors_and_retries_leak_nothing(
    everything: abc.Callable[[], str],
) -> None:
    script = Script(
        [
            _echo(503),
            httpx.ConnectError(f'refused, Bearer {SECRET}'),
            _echo(401),
        ]
    )
    texts: list[str] = []
    async with Imbi(
        base_url='http://imbi.test/api',
        token=SECRET,
        transport=httpx.MockTransport(script),
        max_retries=3,
        retry_policy=FAST,
    ) as client:
        response = await client.get('/organizations/')
        assert response.status_code == 401
        with pytest.raises(errors.AuthenticationError) as excinfo:
            errors.raise_for_status(response)
        error = excinfo.value
        texts += [str(error), repr(error), *error._render_traceback_()]
        texts.append(error.detail_text)
        texts.append(''.join(traceback.format_exception(error)))
        logging.getLogger('imbi_toolkit.test').exception('logged with traceback')
        # The seed's helpers log error bodies at warning level.
        await client.create_release('eng', 'p1', {'committish': 'abc1234'})
        await client.patch_project('eng', 'p1', [])
        await client.record_deployment('eng', 'p1', 'r1', 'prod', {})
        await client.find_user_by_identity('github', '1')
        script.steps.append(httpx.ReadError(f'reset {SECRET}'))
        with pytest.raises(errors.ImbiConnectionError) as transport_info:
            await client.find_release('eng', 'p1', tag='1')
        texts += [str(transport_info.value), *transport_info.value._render_traceback_()]
    assert len(script.requests) > 6
    for text in texts:
        _assert_clean(text)
    _assert_clean(everything())


async def test_real_socket_trace_and_headers_leak_nothing(
    everything: abc.Callable[[], str],
) -> None:
    seen: list[str] = []

    async def trace(event: str, info: dict[str, object]) -> None:
        seen.append(f'{event} {info!r}')
        logging.getLogger('httpcore.trace').debug('%s %r', event, info)

    with pytest.raises(ValueError, match='must not contain credentials') as refused:
        Imbi(base_url=f'http://user:{SECRET}@127.0.0.1:9/api', token=SECRET)
    _assert_clean(str(refused.value))
    async with Imbi(
        base_url='http://127.0.0.1:9/api',
        token=SECRET,
        max_retries=1,
        retry_policy=FAST,
    ) as client:
        # Imbi refuses credentials in its base URL, assigned later too.
        with pytest.raises(ValueError, match='must not contain credentials') as late:
            client.base_url = f'http://user:{SECRET}@127.0.0.1:9/api'
        _assert_clean(str(late.value))
        with pytest.raises(httpx.ConnectError):
            await client.get(
                '/organizations/',
                params={'token': SECRET},
                extensions={'trace': trace},
            )
        with pytest.raises(errors.ImbiConnectionError) as excinfo:
            await client.find_release('eng', 'p1', tag=SECRET)
        _assert_clean(str(excinfo.value))
    assert seen
    _assert_clean(everything())


async def test_bulk_run_leaks_nothing(
    everything: abc.Callable[[], str], tmp_path: pathlib.Path
) -> None:
    fake = FakeImbi()
    fake.add_release('p1', '1.0.0')
    fake.add_release('p2', '1.0.0')

    def echo_token(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith('/p2/releases/'):
            auth = request.headers['authorization']
            return httpx.Response(500, text=f'crashed handling {auth}')
        return None

    fake.fault = echo_token
    journal = tmp_path / 'journal.jsonl'
    async with Imbi(
        base_url='http://imbi.test',
        token=SECRET,
        transport=httpx.MockTransport(fake),
        max_retries=1,
        retry_policy=FAST,
    ) as client:
        results = await bulk.run(
            client,
            bulk.RecordDeployment('prod', status='success', tag='1.0.0'),
            [('eng', 'p1'), ('eng', 'p2')],
            journal=journal,
        )
    assert [r.status for r in results] == ['ok', 'failed']
    for text in (str(results), repr(results), results._repr_html_()):
        _assert_clean(text)
    _assert_clean(journal.read_text())
    _assert_clean(everything())


def test_plugin_trace_leaks_nothing(everything: abc.Callable[[], str]) -> None:
    from imbi_toolkit.plugins import _tracing as tracing

    Imbi(base_url='http://imbi.test', token=SECRET)  # registers the token
    request = httpx.Request(
        'POST',
        f'http://user:{SECRET}@imbi.test/x?token={SECRET}',
        headers={'authorization': f'Bearer {SECRET}'},
    )
    tracing.trace_call(
        'imbi_release_created',
        'canary-plugin',
        {'request': request, 'headers': dict(request.headers), 'note': f'x {SECRET} y'},
        result={'echo': SECRET},
    )
    tracing.trace_call(
        'imbi_release_created',
        'canary-plugin',
        {'token': SECRET},
        error=RuntimeError(f'failed with {SECRET}'),
    )
    text = everything()
    assert 'imbi-toolkit trace: imbi_release_created [canary-plugin]' in text
    _assert_clean(text)
