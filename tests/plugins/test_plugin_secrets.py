"""Plugin errors and the plugin trace show no secrets, and the errors pickle."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import pickle
import typing

import pytest

from imbi_toolkit import hookimpl
from imbi_toolkit.api import Imbi
from imbi_toolkit.plugins import PluginHookError, PluginManager, Toolkit
from imbi_toolkit.plugins import errors as plugin_errors

pytestmark = pytest.mark.attack('tokens')

ORG = 'eng'
PID = 'P1'
CANARY = 'canary-token-3f9a'  # the client fixture's token
GITHUB = 'ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij'


async def test_a_plugin_error_is_redacted(client: Imbi) -> None:
    class Leaky:
        @hookimpl
        def imbi_before_release_create(
            self, client: Imbi, body: dict[str, object]
        ) -> dict[str, object]:
            raise RuntimeError(
                f'failed with {client.headers["authorization"]} and {GITHUB} at '
                'https://bot:hunter2-pw@git.example.com'
            )

    manager = PluginManager()
    manager.register(Leaky(), name='leaky')
    with pytest.raises(PluginHookError) as excinfo:
        await Toolkit(client, plugin_manager=manager).create_release(
            ORG, PID, {'committish': 'abc1234', 'title': 'T'}
        )
    text = str(excinfo.value)
    assert text.startswith("plugin 'leaky' failed in imbi_before_release_create:")
    for secret in (CANARY, GITHUB, 'hunter2-pw'):
        assert secret not in text
        assert secret not in repr(excinfo.value)


async def test_the_trace_masks_credential_shaped_values(
    client: Imbi, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv('IMBI_TOOLKIT_TRACE_PLUGINS', '1')

    class Annotates:
        @hookimpl
        def imbi_before_release_create(
            self, body: dict[str, object]
        ) -> dict[str, object]:
            return {**body, 'links': {'ci': 'https://bot:hunter2-pw@ci.example.com'}}

    manager = PluginManager()
    manager.register(Annotates(), name='annotates')
    await Toolkit(client, plugin_manager=manager).create_release(
        ORG,
        PID,
        {
            'committish': 'abc1234',
            'title': 'T',
            'description': f'built by {GITHUB}',  # a key that names nothing
            'notes': ['ik_0123456789abcdef0123456789abcdef_s3cr3tpart'],
            'api_key': 'k-123456',
        },
    )
    err = capsys.readouterr().err
    assert 'imbi-toolkit trace: imbi_before_release_create [annotates]' in err
    for secret in (GITHUB, 'hunter2-pw', 's3cr3tpart', 'k-123456', CANARY):
        assert secret not in err
    assert "'description': 'built by [REDACTED]'" in err
    assert "'ci': 'https://[REDACTED]@ci.example.com'" in err


def _errors() -> list[plugin_errors.PluginError]:
    return [
        PluginHookError('p', 'imbi_x', RuntimeError(f'Bearer {CANARY}')),
        PluginHookError('p', 'imbi_x', _UnpicklableError()),
        plugin_errors.RefusedError('no', plugin='p', hook='imbi_x'),
        plugin_errors.PluginValidationError('p', 'unknown hook imbi_y'),
        plugin_errors.PluginLoadError('p', 'dist', ImportError('no module x')),
    ]


class _UnpicklableError(Exception):
    def __init__(self) -> None:
        super().__init__('a lock inside')
        self.lock = typing.cast(typing.Any, __import__('threading').Lock())


@pytest.mark.parametrize('index', range(5))
def test_plugin_errors_pickle(index: int) -> None:
    error = _errors()[index]
    data = pickle.dumps(error)
    assert CANARY.encode() not in data
    copy = pickle.loads(data)
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.plugin == error.plugin
    assert copy.hook == error.hook
    if isinstance(error, PluginHookError):
        assert copy.error is None  # the plugin's exception stays behind


def _raise_hook_error() -> None:
    raise PluginHookError('p', 'imbi_x', RuntimeError(f'Bearer {CANARY}'))


def test_a_plugin_error_crosses_a_process_pool() -> None:
    context = multiprocessing.get_context('spawn')
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        future = pool.submit(_raise_hook_error)
        with pytest.raises(PluginHookError) as excinfo:
            future.result(timeout=60)
    assert str(excinfo.value) == (
        "plugin 'p' failed in imbi_x: RuntimeError: Bearer [REDACTED]"
    )
    assert excinfo.value.plugin == 'p'
