"""Every magic against a real sandbox, as a notebook user runs them."""

from __future__ import annotations

import typing

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from imbi_toolkit.api import errors
from imbi_toolkit.magics import loaded

from .conftest import CANARY_TOKEN, renderings


def run(shell: InteractiveShell, line: str, cell: str | None = None) -> typing.Any:
    if cell is None:
        result = shell.run_line_magic('imbi', line)
    else:
        result = shell.run_cell_magic('imbi', line, cell)
    assert CANARY_TOKEN not in renderings(result)
    return result


def test_whoami_shows_the_base_url_and_the_user_not_the_token(
    ip: InteractiveShell, sandbox: typing.Any
) -> None:
    banner = run(ip, 'whoami')
    assert repr(banner) == (
        f'Connected to {sandbox.base_url}/ as admin@example.com (Sandbox Admin)'
    )
    assert sandbox.base_url in banner._repr_markdown_()


def test_connect_with_another_token_variable(
    ip: InteractiveShell, sandbox: typing.Any, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv('READONLY_TOKEN', sandbox.readonly_token)
    banner = run(ip, 'connect --token-env READONLY_TOKEN -o me')
    assert 'readonly@example.com' in repr(banner)
    assert ip.user_ns['me'] is banner
    assert sandbox.readonly_token not in renderings(banner)
    magics = loaded(ip)
    assert magics is not None and magics.token_env == 'READONLY_TOKEN'


def test_the_client_is_created_once_and_closed_on_unload(
    ip: InteractiveShell,
) -> None:
    magics = loaded(ip)
    assert magics is not None and not magics.session.connected  # not at load
    run(ip, 'whoami')
    client = magics.session._client
    run(ip, 'projects')
    assert magics.session._client is client
    ip.run_line_magic('unload_ext', 'imbi_toolkit')
    assert client is not None and client.is_closed
    ip.run_line_magic('load_ext', 'imbi_toolkit')


def test_config_changes_reconnect(ip: InteractiveShell, sandbox: typing.Any) -> None:
    run(ip, 'whoami')
    ip.run_line_magic('config', "ImbiMagics.base_url = 'http://127.0.0.1:9'")
    with pytest.raises(errors.ImbiConnectionError) as raised:
        run(ip, 'whoami')
    assert raised.value._render_traceback_() == [f'ImbiConnectionError: {raised.value}']
    assert 'GET http://127.0.0.1:9/users/me failed' in str(raised.value)
    ip.run_line_magic('config', f'ImbiMagics.base_url = {sandbox.base_url!r}')
    assert 'admin@example.com' in repr(run(ip, 'whoami'))


def test_projects_with_filters(ip: InteractiveShell) -> None:
    table = run(ip, 'projects -o everything')
    assert len(table) > 5
    assert ip.user_ns['everything'] is table
    assert table[0]['id'] and table[0]['slug']
    assert f'{len(table)} projects in engineering' in repr(table)
    assert '<table class="imbi-table"' in table._repr_html_()
    assert '| id | slug |' in table._repr_markdown_()

    apis = run(ip, 'projects --search API')
    assert apis and all('api' in row['slug'] for row in apis)
    typed = run(ip, 'projects --type consumer')
    assert typed and all(
        'consumer' in [t['slug'] for t in row['project_types']] for row in typed
    )
    team = table[0]['team']['slug']
    by_team = run(ip, f'projects --team {team}')
    assert by_team and all(row['team']['slug'] == team for row in by_team)
    assert len(by_team) < len(table)


def test_the_only_organization_is_the_default(
    shell: InteractiveShell, sandbox: typing.Any
) -> None:
    # The demo seed has two organizations: the magic must ask which.
    with pytest.raises(UsageError, match=r'several organizations \(engineering, '):
        run(shell, 'projects')
    assert run(shell, 'projects --org engineering')


def test_fetch_edit_diff_and_send(ip: InteractiveShell, sandbox: typing.Any) -> None:
    message = run(ip, 'fetch billing-api project')
    assert 'into `project`' in repr(message)
    project = ip.user_ns['project']
    assert project['slug'] == 'billing-api'
    assert 'team_slug' in project and 'id' not in project  # the patchable shape

    assert len(run(ip, 'diff project')) == 0
    project['description'] = 'Edited in a notebook'
    preview = run(ip, 'diff project -o preview')
    assert ip.user_ns['preview'] is preview
    assert preview.operations == [
        {
            'op': 'test',
            'path': '/description',
            'value': 'Invoices and payment webhooks',
        },
        {'op': 'replace', 'path': '/description', 'value': 'Edited in a notebook'},
    ]
    assert 'not sent' in repr(preview)

    # Without --send nothing reaches the server.
    run(ip, 'patch project')
    fresh = run(ip, 'fetch billing-api check')
    assert fresh is not None
    assert ip.user_ns['check']['description'] == 'Invoices and payment webhooks'

    sent = run(ip, 'patch project --send')
    assert sent.sent and 'sent' in repr(sent)
    run(ip, 'fetch billing-api check')
    assert ip.user_ns['check']['description'] == 'Edited in a notebook'
    # The server's document replaced the snapshot: nothing left to send.
    assert ip.user_ns['project']['description'] == 'Edited in a notebook'
    assert len(run(ip, 'diff project')) == 0


def test_no_test_ops(ip: InteractiveShell) -> None:
    run(ip, 'fetch billing-api project')
    ip.user_ns['project']['name'] = 'Billing'
    preview = run(ip, 'diff project --no-test')
    assert [op['op'] for op in preview.operations] == ['replace']
    ip.run_line_magic('config', 'ImbiMagics.test_ops = False')
    assert [op['op'] for op in run(ip, 'diff project').operations] == ['replace']


def test_a_concurrent_change_is_refused_with_the_server_detail(
    ip: InteractiveShell, sandbox: typing.Any
) -> None:
    run(ip, 'fetch billing-api project')
    run(ip, 'fetch billing-api other')
    ip.user_ns['other']['description'] = 'someone else'
    run(ip, 'patch other --send')
    ip.user_ns['project']['description'] = 'mine'
    with pytest.raises(errors.UnprocessableEntityError) as raised:
        run(ip, 'patch project --send')
    assert raised.value.test_failed
    (line,) = raised.value._render_traceback_()
    assert line.startswith('UnprocessableEntityError: 422 Unprocessable Entity')
    assert 'Patch test operation failed' in line
    assert CANARY_TOKEN not in renderings(raised.value)


def test_cell_with_a_json_patch(ip: InteractiveShell) -> None:
    run(ip, 'fetch billing-api project')
    preview = run(
        ip,
        'patch project',
        '[{"op": "add", "path": "/links/docs", "value": "https://docs.example.com/b"}]',
    )
    # A new key is guarded by a test of its object (replay safety).
    assert [op['op'] for op in preview.operations] == ['test', 'add']
    assert ip.user_ns['project']['links']['docs'] == 'https://docs.example.com/b'
    sent = run(
        ip,
        'patch project --send',
        '[{"op": "replace", "path": "/name", "value": "Billing"}]',
    )
    assert sent.sent
    assert ip.user_ns['project']['name'] == 'Billing'
    # The cell's patch applies to the snapshot, so the earlier preview's
    # link was not part of what was sent.
    assert 'docs' not in ip.user_ns['project']['links']


def test_cell_with_a_python_expression(ip: InteractiveShell) -> None:
    run(ip, 'fetch billing-api project')
    ip.user_ns['suffix'] = ' (PCI)'
    preview = run(ip, 'patch project', "{**project, 'name': project['name'] + suffix}")
    assert preview.operations[-1] == {
        'op': 'replace',
        'path': '/name',
        'value': 'Billing API (PCI)',
    }


@pytest.mark.parametrize(
    ('cell', 'message'),
    [
        ('', 'the cell body is empty'),
        ('def f(:', 'neither JSON nor a Python expression'),
        ('42', 'the cell gave a int'),
        ('[{"op": "remove", "path": "/nope"}]', 'does not apply to the snapshot'),
        ('[{"op": "frob", "path": "/name"}]', 'does not apply to the snapshot'),
        ('[1, 2]', 'a JSON Patch is a list of operations'),
    ],
)
def test_cell_mistakes_are_usage_errors(
    ip: InteractiveShell, cell: str, message: str
) -> None:
    run(ip, 'fetch billing-api project')
    with pytest.raises(UsageError, match=message):
        run(ip, 'patch project', cell)


def test_edited_variable_mistakes(ip: InteractiveShell) -> None:
    run(ip, 'fetch billing-api project')
    ip.user_ns['project'] = ['not', 'a', 'dict']
    with pytest.raises(UsageError, match='holds a list, not the project document'):
        run(ip, 'diff project')
    del ip.user_ns['project']
    with pytest.raises(UsageError, match='no longer exists'):
        run(ip, 'patch project --send')


def test_fetch_by_id_and_unknown_projects(ip: InteractiveShell) -> None:
    table = run(ip, 'projects')
    project_id = table[0]['id']
    run(ip, f'fetch {project_id} by_id')
    assert ip.user_ns['by_id']['slug'] == table[0]['slug']
    with pytest.raises(UsageError, match="no project 'no-such-project' in engineering"):
        run(ip, 'fetch no-such-project x')
    with pytest.raises(UsageError, match="no project 'AAAAAAAAAAAAAAAAAAAAA'"):
        run(ip, 'fetch AAAAAAAAAAAAAAAAAAAAA x')


def test_release_and_deployment_through_the_plugin_layer(
    ip: InteractiveShell,
) -> None:
    run(ip, 'fetch billing-api project')
    message = run(ip, 'release project --committish abcdef1 --tag 9.9.9 -o release')
    release = ip.user_ns['release']
    assert release['tag'] == '9.9.9' and release['id']
    assert release['id'] in repr(message)
    # Creating it again answers with the same release (409 is "exists").
    run(ip, 'release billing-api --committish abcdef1 --tag 9.9.9 -o again')
    assert ip.user_ns['again']['id'] == release['id']

    run(ip, 'deploy project production --tag 9.9.9 --note demo -o edge')
    edge = ip.user_ns['edge']
    assert edge['current_status'] == 'success'
    assert edge['deployments'][-1]['note'] == 'demo'
    run(ip, f'deploy billing-api staging --release-id={release["id"]} --status pending')


def test_a_plugin_title_rule_applies_to_the_release_magic(ip: InteractiveShell) -> None:
    # No --title: the magic leaves it to the plugins (semver derives one)
    # before the toolkit falls back to the tag.
    run(ip, 'release billing-api --committish ABCDEF1234 --tag v9.8.7 -o release')
    release = ip.user_ns['release']
    assert release['committish'] == 'abcdef1'
    assert release['title'] != 'v9.8.7' and 'v9.8.7' in release['title']


def test_the_semver_plugin_refuses_a_bad_tag(ip: InteractiveShell) -> None:
    with pytest.raises(UsageError, match=r'RefusedError: .*semver'):
        run(ip, 'release billing-api --committish abcdef1 --tag not-a-version')


def test_deploying_an_unknown_release(ip: InteractiveShell) -> None:
    with pytest.raises(errors.ReleaseNotFoundError) as raised:
        run(ip, 'deploy billing-api production --tag 0.0.0-nope')
    (line,) = raised.value._render_traceback_()
    assert "has no release with tag '0.0.0-nope'" in line


def test_http_errors_show_the_status_and_detail(
    ip: InteractiveShell, sandbox: typing.Any, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv('READONLY_TOKEN', sandbox.readonly_token)
    run(ip, 'connect --token-env READONLY_TOKEN')
    run(ip, 'fetch billing-api project')
    ip.user_ns['project']['name'] = 'nope'
    with pytest.raises(errors.PermissionDeniedError) as raised:
        run(ip, 'patch project --send')
    (line,) = raised.value._render_traceback_()
    assert line == (
        'PermissionDeniedError: 403 Forbidden from PATCH '
        f'{sandbox.base_url}/organizations/engineering/projects/'
        f'{raised.value.url.rsplit("/", 1)[-1]}: Permission denied: '
        'project:write required'
    )


def test_user_lookup(ip: InteractiveShell) -> None:
    message = run(ip, 'user github 583231 -o email')
    assert ip.user_ns['email'] == 'alice@example.com'
    assert 'alice@example.com' in repr(message)
    message = run(ip, 'user github 9999999 -o nobody')
    assert ip.user_ns['nobody'] is None
    assert 'No Imbi user matches' in repr(message)


def test_plugins_are_listed(ip: InteractiveShell) -> None:
    table = run(ip, 'plugins -o plugins')
    names = {row['name'] for row in table}
    assert {'github', 'semver'} <= names
    assert 'imbi_before_release_create' in repr(table)


def test_disconnect(ip: InteractiveShell) -> None:
    assert repr(run(ip, 'disconnect')) == 'Not connected'
    run(ip, 'whoami')
    assert repr(run(ip, 'disconnect')) == 'Disconnected'
    assert 'admin@example.com' in repr(run(ip, 'whoami'))


def test_failing_cells_fail_and_print_one_line(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    result = ip.run_cell('%imbi fetch no-such-project x', store_history=False)
    assert not result.success
    assert isinstance(result.error_in_exec, UsageError)
    result = ip.run_cell(
        "%config ImbiMagics.base_url = 'http://127.0.0.1:9'\n%imbi whoami",
        store_history=False,
    )
    assert not result.success
    assert isinstance(result.error_in_exec, errors.ImbiConnectionError)
    out = capsys.readouterr()
    text = out.out + out.err
    assert 'Traceback' not in text
    assert 'httpx' not in text
    assert "UsageError: no project 'no-such-project'" in text
    assert 'ImbiConnectionError: GET http://127.0.0.1:9/users/me failed' in text
    assert CANARY_TOKEN not in text


def test_own_client_awaited_in_cells_next_to_the_magics(
    ip: InteractiveShell, sandbox: typing.Any
) -> None:
    run(ip, 'whoami')
    result = ip.run_cell(
        'from imbi_toolkit.api import Imbi, Settings\n'
        'async with Imbi.from_settings(Settings()) as own:\n'
        "    me = (await own.get('/users/me')).json()['email']\n",
        store_history=False,
    )
    result.raise_error()
    assert ip.user_ns['me'] == 'admin@example.com'
    assert 'admin@example.com' in repr(run(ip, 'whoami'))


def test_sent_patches_go_through_the_plugins(
    ip: InteractiveShell, imbi_register_plugin: typing.Any
) -> None:
    from imbi_toolkit import hookimpl
    from imbi_toolkit.plugins import RefusedError

    class NoRenames:
        @hookimpl
        def imbi_before_project_patch(self, patch: list[dict[str, typing.Any]]) -> None:
            if any(op['path'] == '/slug' for op in patch):
                raise RefusedError('renaming a project needs a change ticket')

    imbi_register_plugin(NoRenames(), name='no-renames')
    run(ip, 'fetch billing-api project')
    ip.user_ns['project']['slug'] = 'billing'
    with pytest.raises(UsageError, match="plugin 'no-renames' refused the request"):
        run(ip, 'patch project --send')
    run(ip, 'fetch billing-api check')  # nothing was sent
    assert ip.user_ns['check']['slug'] == 'billing-api'


def test_plan_review_apply_history_and_undo(
    ip: InteractiveShell, tmp_path: typing.Any
) -> None:
    cell = '[{"op": "replace", "path": "/description", "value": "Planned"}]'
    run(ip, 'plan change --search billing --description "describe billing"', cell)
    planned = ip.user_ns['change']
    assert planned.counts()['change'] >= 1
    assert all('/description' in change.expects for change in planned.changes)
    path = tmp_path / 'change.plan.json'
    planned.save(path)

    review = run(ip, f'apply {path}')  # no --send: shows the plan, sends nothing
    assert review.fingerprint() == planned.fingerprint()
    run(ip, 'fetch billing-api project')
    assert ip.user_ns['project']['description'] != 'Planned'

    results = run(ip, f'apply {path} --send -o results')
    assert results.succeeded and len(results) == len(planned.changes)
    history = run(ip, 'history')
    assert len(history) == len(planned.changes)

    preview = run(ip, 'undo')  # preview only
    assert not preview.sent and len(preview) == 1
    undone = run(ip, 'undo --send')
    assert undone.sent
    last = history[-1]
    assert last.undoes == len(planned.changes)
    with pytest.raises(UsageError, match='no write #99'):
        run(ip, 'undo 99')


def test_plan_cell_with_a_function_and_bad_plans(ip: InteractiveShell) -> None:
    ip.user_ns['add_runbook'] = lambda project: project['links'].update(
        runbook='https://runbooks.example.com'
    )
    planned = run(ip, 'plan runbooks --project billing-api', 'add_runbook')
    (change,) = planned.changes
    assert {
        'op': 'add',
        'path': '/links/runbook',
        'value': 'https://runbooks.example.com',
    } in change.patch
    with pytest.raises(UsageError, match='plan takes a cell'):
        run(ip, 'plan nothing')
    with pytest.raises(UsageError, match=r"no plan 'nowhere\.json'"):
        run(ip, 'apply nowhere.json --send')
    ip.user_ns['number'] = 3
    with pytest.raises(UsageError, match='holds a int, not a plan'):
        run(ip, 'apply number')


def test_plan_a_release_then_its_deployment_and_apply_them(
    ip: InteractiveShell, tmp_path: typing.Any
) -> None:
    # The installed plugins run (semver checks the tag and commit).
    planned = run(
        ip,
        'plan rel --release v9.9.9 --committish ABC1234 --title "Nine" '
        '--search billing',
    )
    assert ip.user_ns['rel'] is planned
    assert planned.counts()['change'] >= 1
    for change in planned.changes:
        assert change.kind == 'release'
        assert change.request['committish'] == 'abc1234'  # what semver made of it
        assert change.request['title'] == 'Nine'
    assert 'create release v9.9.9 (abc1234)' in str(planned)
    path = tmp_path / 'rel.plan.json'
    planned.save(path)

    # No release yet, so nothing to deploy: the plan says so, and sends nothing.
    early = run(
        ip,
        'plan dep --deploy production --tag v9.9.9 --status success --search billing',
    )
    assert early.counts()['failed'] == len(early) == len(planned)
    assert 'create the release first' in early[0].note
    assert repr(run(ip, 'apply dep --send')) == (
        'The plan changes no project: nothing to send'
    )

    results = run(ip, f'apply {path} --send -o released')
    assert results.succeeded and len(results) == len(planned.changes)
    assert ip.user_ns['released'] is results

    deploy = run(
        ip,
        'plan dep --deploy production --tag v9.9.9 --status success '
        '--note "rollout" --search billing',
    )
    assert deploy.counts()['change'] == len(planned.changes)
    assert 'deploy v9.9.9 to production (success)' in str(deploy)
    assert deploy[0].expects == {'events': 0}
    deployed = run(ip, 'apply dep --send')
    assert [r.status for r in deployed] == ['ok'] * len(deploy.changes)
    again = run(ip, 'apply dep --send')  # the edges moved on: nothing twice
    assert {r.status for r in again} == {'conflict'}
    assert 'deployed since it was planned' in again[0].detail


@pytest.mark.parametrize(
    ('line', 'cell', 'message'),
    [
        ('plan unplanned --release v1.0.0', '[]', 'takes no cell body'),
        (
            'plan unplanned --deploy production --tag v1.0.0',
            None,
            '--deploy needs --status',
        ),
        ('plan unplanned --deploy production --status success', None, '--tag TAG or'),
        ('plan unplanned --release v1.0.0 --deploy production', None, 'not both'),
        (
            'plan unplanned --release v1.0.0 --tag v1.0.0',
            None,
            r'the tag is --release TAG',
        ),
        (
            'plan unplanned --release v1.0.0 --status success',
            None,
            'do not go with --release',
        ),
        ('plan unplanned --status success', '[]', 'go with %imbi plan VAR --release'),
        ('plan unplanned', None, 'plan takes a cell'),
    ],
)
def test_plan_lines_that_mix_forms_say_how(
    ip: InteractiveShell, line: str, cell: str | None, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        run(ip, line, cell)
    assert 'unplanned' not in ip.user_ns


def test_an_unknown_type_or_team_is_named_not_an_empty_table(
    ip: InteractiveShell,
) -> None:
    with pytest.raises(
        UsageError,
        match=r"no project type 'nope' in engineering: use one of .*api-service",
    ):
        run(ip, 'projects --type nope')
    with pytest.raises(
        UsageError, match=r"no team 'nobody' in engineering: use one of"
    ):
        run(ip, 'projects --team nobody')
    table = run(ip, 'projects --type api-service --search zzz-nothing')
    assert '0 projects' in repr(table)


def test_help_is_plain_text_for_line_magics(ip: InteractiveShell) -> None:
    text = repr(run(ip, 'help deploy'))
    assert not text.lstrip().startswith('::')
    assert '%%imbi deploy' not in text and '%imbi deploy' in text
