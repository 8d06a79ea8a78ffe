"""Loading, unloading, reloading and configuring the extension."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from imbi_toolkit import magics


def _ours(shell: InteractiveShell) -> list[object]:
    return [c for c in shell.configurables if type(c).__name__ == 'ImbiMagics']


def _handlers(shell: InteractiveShell) -> dict[str, int]:
    return {name: len(funcs) for name, funcs in shell.events.callbacks.items()}


def test_load_registers_one_line_and_cell_magic(shell: InteractiveShell) -> None:
    assert 'imbi' in shell.magics_manager.magics['line']
    assert 'imbi' in shell.magics_manager.magics['cell']
    assert len(_ours(shell)) == 1
    # Loading again (e.g. a notebook's first cell run twice) changes nothing.
    shell.run_line_magic('load_ext', 'imbi_toolkit')
    magics.load(shell)
    assert len(_ours(shell)) == 1


def test_unload_and_reload_leave_no_duplicates(shell: InteractiveShell) -> None:
    handlers = _handlers(shell)
    configurables = len(shell.configurables)
    for _ in range(3):
        shell.run_line_magic('reload_ext', 'imbi_toolkit')
    assert len(_ours(shell)) == 1
    assert len(shell.configurables) == configurables
    assert _handlers(shell) == handlers
    shell.run_line_magic('unload_ext', 'imbi_toolkit')
    assert _ours(shell) == []
    assert 'imbi' not in shell.magics_manager.magics['line']
    assert 'imbi' not in shell.magics_manager.magics['cell']
    assert 'ImbiMagics' not in shell.magics_manager.registry
    assert len(shell.configurables) == configurables - 1
    shell.run_line_magic('load_ext', 'imbi_toolkit')
    assert len(_ours(shell)) == 1


def test_unload_closes_the_background_loop(shell: InteractiveShell) -> None:
    instance = magics.loaded(shell)
    assert instance is not None
    instance.session.loop.run(_noop())
    assert instance.session.loop.running
    shell.run_line_magic('unload_ext', 'imbi_toolkit')
    assert not instance.session.loop.running
    shell.run_line_magic('load_ext', 'imbi_toolkit')


async def _noop() -> None:
    return None


def test_config_sets_traits_and_defaults_come_from_settings(
    shell: InteractiveShell, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv('IMBI_CLIENT_API_BASE_URL', 'http://127.0.0.1:9/api')
    clean_env.setenv('IMBI_CLIENT_TIMEOUT', '12.5')
    shell.run_line_magic('reload_ext', 'imbi_toolkit')
    instance = magics.loaded(shell)
    assert instance is not None
    assert instance.base_url == 'http://127.0.0.1:9/api'
    assert instance.timeout == 12.5
    assert instance.test_ops is True
    shell.run_line_magic('config', "ImbiMagics.org = 'engineering'")
    shell.run_line_magic('config', 'ImbiMagics.test_ops = False')
    assert instance.org == 'engineering'
    assert instance.test_ops is False


def test_defaults_are_read_from_a_dotenv_file(
    shell: InteractiveShell, clean_env: pytest.MonkeyPatch, tmp_path: object
) -> None:
    with open('.env', 'w', encoding='utf-8') as handle:
        handle.write('IMBI_CLIENT_API_BASE_URL=http://127.0.0.1:10/from-dotenv\n')
    shell.run_line_magic('reload_ext', 'imbi_toolkit')
    instance = magics.loaded(shell)
    assert instance is not None
    assert instance.base_url == 'http://127.0.0.1:10/from-dotenv'


def test_help_is_the_magic_docstring(shell: InteractiveShell) -> None:
    doc = shell.magics_manager.magics['line']['imbi'].__doc__
    for command in (
        'connect',
        'projects',
        'fetch',
        'diff',
        'patch',
        'release',
        'deploy',
        'user',
        'plugins',
    ):
        assert command in doc
    assert 'fetch' in repr(shell.run_line_magic('imbi', 'help'))
    assert '--send' in repr(shell.run_line_magic('imbi', 'help patch'))
    with pytest.raises(UsageError, match='unknown %imbi command'):
        shell.run_line_magic('imbi', 'help nonsense')


def test_a_missing_token_is_a_one_line_usage_error(shell: InteractiveShell) -> None:
    with pytest.raises(
        UsageError, match='no Imbi API token: set IMBI_CLIENT_API_TOKEN'
    ):
        shell.run_line_magic('imbi', 'whoami')


def test_a_named_token_variable_must_exist(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError, match='MY_TOKEN is not set'):
        shell.run_line_magic('imbi', 'connect --token-env MY_TOKEN')


def test_an_invalid_base_url_is_a_usage_error(
    shell: InteractiveShell, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv('IMBI_CLIENT_API_TOKEN', 'ik_x_y')
    with pytest.raises(UsageError, match='invalid base URL'):
        shell.run_line_magic('imbi', 'connect --base-url not-a-url')


@pytest.mark.parametrize(
    ('line', 'message'),
    [
        ('frobnicate', 'invalid choice'),
        ('fetch', 'required'),
        ('fetch billing-api 1abc', 'not a valid Python variable name'),
        ('deploy p production', 'one of the arguments'),
        ('deploy p production --tag 1 --status shipped', 'invalid choice'),
        ('diff nothing', "'nothing' was not filled by %imbi fetch"),
        ('patch nothing --send', "'nothing' was not filled by %imbi fetch"),
        ('projects -o for', 'not a valid Python variable name'),
    ],
)
def test_argument_mistakes_are_usage_errors(
    shell: InteractiveShell, line: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        shell.run_line_magic('imbi', line)


def test_only_patch_takes_a_cell(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError, match='takes no cell body'):
        shell.run_cell_magic('imbi', 'projects', '[]')


def test_lines_are_not_variable_expanded(shell: InteractiveShell) -> None:
    # JSON and pointers contain {} and $: IPython must pass them through.
    shell.user_ns['x'] = 'EXPANDED'
    with pytest.raises(UsageError) as raised:
        shell.run_line_magic('imbi', 'help {x}')
    assert '{x}' in str(raised.value)
