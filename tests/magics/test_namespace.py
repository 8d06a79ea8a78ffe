"""A `%%imbi patch` cell may hold one operation; a failing magic changes no variable."""

from __future__ import annotations

import copy
import typing

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from imbi_toolkit.api import errors

pytestmark = pytest.mark.attack('lost-variables')

_SHELL_NAMES = {'In', 'Out', 'exit', 'quit', 'get_ipython'}


def _copy(value: object) -> object:
    # Documents and plain values are compared by content; other objects
    # (left by other tests in the shared shell) by identity.
    if type(value) in (dict, list, str, int, float, bool, type(None)):
        return copy.deepcopy(value)
    return value


def _variables(shell: InteractiveShell) -> dict[str, tuple[object, object]]:
    """Each user variable: the object, and a deep copy of its value."""
    return {
        name: (value, _copy(value))
        for name, value in shell.user_ns.items()
        if not name.startswith('_') and name not in _SHELL_NAMES
    }


def assert_unchanged(
    shell: InteractiveShell, before: dict[str, tuple[object, object]]
) -> None:
    after = _variables(shell)
    assert after.keys() == before.keys()
    for name, (value, saved) in before.items():
        assert after[name][0] is value, name
        assert after[name][1] == saved, name


def _fetched(ip: InteractiveShell) -> None:
    ip.run_line_magic('imbi', 'fetch billing-api project')
    ip.user_ns['edge'] = 'before'
    ip.user_ns['sent'] = 'before'


def test_a_single_operation_is_a_one_operation_patch(ip: InteractiveShell) -> None:
    _fetched(ip)
    before = copy.deepcopy(ip.user_ns['project'])
    preview = ip.run_cell_magic(
        'imbi', 'patch project', '{"op": "replace", "path": "/name", "value": "X"}'
    )
    assert preview.operations == [
        {'op': 'test', 'path': '/name', 'value': 'Billing API'},
        {'op': 'replace', 'path': '/name', 'value': 'X'},
    ]
    assert 'one operation, not a document' in repr(preview)
    assert 'The cell holds one operation' in preview._repr_markdown_()
    # The variable shows the patched document, not the operation.
    assert ip.user_ns['project'] == {**before, 'name': 'X'}
    sent = ip.run_cell_magic(
        'imbi',
        'patch project --send',
        "{'op': 'replace', 'path': '/name', 'value': 'Y'}",
    )
    assert sent.sent
    assert ip.user_ns['project']['name'] == 'Y'


def test_a_bad_single_operation_names_that_operation_only(
    ip: InteractiveShell,
) -> None:
    _fetched(ip)
    names = _variables(ip)
    with pytest.raises(UsageError) as raised:
        ip.run_cell_magic(
            'imbi', 'patch project', '{"op": "remove", "path": "/no-such-field"}'
        )
    assert 'does not apply to the snapshot' in str(raised.value)
    assert '/no-such-field' in str(raised.value)
    assert str(raised.value).count("'op'") <= 1
    assert_unchanged(ip, names)


@pytest.mark.parametrize(
    'cell',
    [
        '   ',
        'def f(:',
        '42',
        '[{"op": "remove", "path": "/nope"}]',
        '[{"op": "frob", "path": "/name"}]',
        '{"op": "frob", "path": "/name"}',
        '[1, 2]',
        'no_such_name + 1',
        "{**project, 'name': {1, 2}}",  # a set is not JSON: the diff fails
    ],
)
def test_a_failing_cell_leaves_every_variable_as_it_was(
    ip: InteractiveShell, cell: str
) -> None:
    _fetched(ip)
    names = _variables(ip)
    with pytest.raises((UsageError, NameError)):
        ip.run_cell_magic('imbi', 'patch project --send -o sent', cell)
    assert_unchanged(ip, names)


def test_a_refused_send_leaves_every_variable_as_it_was(
    ip: InteractiveShell, sandbox: typing.Any
) -> None:
    _fetched(ip)
    names = _variables(ip)
    # 422 from the server: the team does not exist.
    with pytest.raises(errors.UnprocessableEntityError, match="Team 'nobody'"):
        ip.run_cell_magic(
            'imbi',
            'patch project --send -o sent',
            '{"op": "replace", "path": "/team_slug", "value": "nobody"}',
        )
    assert_unchanged(ip, names)
    with pytest.raises(errors.UnprocessableEntityError, match="Team 'nobody'"):
        ip.run_cell_magic(
            'imbi', 'patch project --send -o sent', "{**project, 'team_slug': 'nobody'}"
        )
    assert_unchanged(ip, names)
    # The line form sends the variable's own edits: they stay in it.
    ip.user_ns['project']['team_slug'] = 'nobody'
    names = _variables(ip)
    with pytest.raises(errors.UnprocessableEntityError):
        ip.run_line_magic('imbi', 'patch project --send -o sent')
    assert_unchanged(ip, names)


def test_a_plugin_refusal_leaves_every_variable_as_it_was(
    ip: InteractiveShell, imbi_register_plugin: typing.Any
) -> None:
    from imbi_toolkit import hookimpl
    from imbi_toolkit.plugins import RefusedError

    class NoRenames:
        @hookimpl
        def imbi_before_project_patch(self, patch: list[dict[str, typing.Any]]) -> None:
            if any(op['path'] == '/name' for op in patch):
                raise RefusedError('renaming needs a ticket')

    imbi_register_plugin(NoRenames(), name='no-renames')
    _fetched(ip)
    names = _variables(ip)
    with pytest.raises(UsageError, match='renaming needs a ticket'):
        ip.run_cell_magic(
            'imbi',
            'patch project --send -o sent',
            '[{"op": "replace", "path": "/name", "value": "Renamed"}]',
        )
    assert_unchanged(ip, names)
    ip.user_ns['project']['name'] = 'Renamed'
    names = _variables(ip)
    with pytest.raises(UsageError, match='renaming needs a ticket'):
        ip.run_line_magic('imbi', 'patch project --send -o sent')
    assert_unchanged(ip, names)


@pytest.mark.parametrize(
    ('line', 'error'),
    [
        ('fetch no-such-project project', UsageError),
        ('fetch billing-api project --org no-such-org', UsageError),
        ('deploy billing-api production --tag 0.0.0-nope -o edge', LookupError),
        ('release billing-api --committish abc --tag not-semver -o edge', UsageError),
        ('diff nothing_fetched -o edge', UsageError),
    ],
)
def test_a_failing_line_magic_leaves_every_variable_as_it_was(
    ip: InteractiveShell, line: str, error: type[BaseException]
) -> None:
    _fetched(ip)
    names = _variables(ip)
    with pytest.raises(error):
        ip.run_line_magic('imbi', line)
    assert_unchanged(ip, names)


def test_a_failing_connection_leaves_every_variable_as_it_was(
    ip: InteractiveShell,
) -> None:
    _fetched(ip)
    ip.run_line_magic('config', "ImbiMagics.base_url = 'http://127.0.0.1:9'")
    names = _variables(ip)
    for line in ('whoami -o edge', 'projects -o edge', 'fetch billing-api project'):
        with pytest.raises(errors.ImbiConnectionError):
            ip.run_line_magic('imbi', line)
        assert_unchanged(ip, names)
