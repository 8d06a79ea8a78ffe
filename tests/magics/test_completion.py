"""Tab completion of `%imbi` lines, through IPython's own completer."""

from __future__ import annotations

import typing
import warnings

import pytest
from IPython.core.completer import provisionalcompleter
from IPython.core.interactiveshell import InteractiveShell

from imbi_toolkit.magics import _completion as completion


def complete(ip: InteractiveShell, line: str) -> list[str]:
    """What the completer offers, as terminal IPython lists it."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', PendingDeprecationWarning)
        _, matches = ip.Completer.complete(line_buffer=line, cursor_pos=len(line))
    return list(matches)


def test_jupyter_gets_the_same_matches(shell: InteractiveShell) -> None:
    # Jupyter asks through the newer API, which adds Jedi's guesses to ours.
    line = '%imbi deploy billing-api production --st'
    with provisionalcompleter():
        found = [match.text for match in shell.Completer.completions(line, len(line))]
    assert '--status' in found


def test_commands_and_options(shell: InteractiveShell) -> None:
    assert {'fetch', 'patch', 'plan', 'apply', 'undo', 'history'} <= set(
        complete(shell, '%imbi ')
    )
    assert complete(shell, '%imbi fe') == ['fetch']
    assert complete(shell, '%imbi hi') == ['history']
    assert complete(shell, '%imbi deploy billing-api production --st') == ['--status']
    options = complete(shell, '%imbi release x --')
    assert {'--committish', '--tag', '--title', '--org'} <= set(options)


def test_projects_environments_and_tags_from_the_api(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert 'billing-api' in complete(ip, '%imbi fetch bil')
    assert complete(ip, '%imbi deploy billing-api prod') == ['production']
    ip.run_line_magic('imbi', 'release billing-api --committish abcdef1 --tag 4.5.6')
    completion.CACHE_SECONDS = 0.0  # the tags changed: read them again
    try:
        assert '4.5.6' in complete(ip, '%imbi deploy billing-api production --tag 4.')
    finally:
        completion.CACHE_SECONDS = 60.0
    ip.run_line_magic('imbi', 'fetch billing-api project')
    assert complete(ip, '%imbi diff pro') == ['project']


def test_plan_lines_complete_their_release_and_deploy_options(
    ip: InteractiveShell,
) -> None:
    options = set(complete(ip, '%imbi plan rollout --'))
    assert {'--release', '--deploy', '--status', '--tag', '--committish'} <= options
    assert complete(ip, '%imbi plan rollout --deploy prod') == ['production']
    assert complete(ip, '%imbi plan rollout --deploy production --status su') == [
        'success'
    ]


def test_listings_are_cached(ip: InteractiveShell) -> None:
    magics = typing.cast(typing.Any, ip.magics_manager.registry['ImbiMagics'])
    calls: list[str] = []
    original = magics._call

    def counting(work: typing.Any) -> typing.Any:
        calls.append('call')
        return original(work)

    magics._call = counting
    complete(ip, '%imbi fetch a')
    complete(ip, '%imbi fetch b')
    assert len(calls) == 1


def test_a_failing_listing_completes_nothing(
    shell: InteractiveShell, clean_env: pytest.MonkeyPatch
) -> None:
    # Not configured at all (no token): completion must not raise.
    assert not any(m.startswith('billing') for m in complete(shell, '%imbi fetch bil'))


def test_unloading_removes_the_completer(shell: InteractiveShell) -> None:
    shell.run_line_magic('unload_ext', 'imbi_toolkit')
    try:
        assert 'fetch' not in complete(shell, '%imbi fe')
    finally:
        shell.run_line_magic('load_ext', 'imbi_toolkit')


def test_filter_fields_operators_and_values_from_the_schema(
    ip: InteractiveShell,
) -> None:
    fields = complete(ip, '%imbi projects --filter ')
    assert {'framework:', 'programming_language:', 'on_call:'} <= set(fields)
    # IPython replaces the text after the last `:`.
    assert complete(ip, '%imbi projects --filter framework:e') == ['eq', 'exists']
    values = complete(ip, '%imbi plan p --filter framework:eq:')
    assert 'fastapi' in values and 'litestar' in values
