"""Every `%imbi` command in an IPython shell against the real server.

Each test runs lines as a notebook user types them and asserts what the user
sees (the rendered result, the variables filled) and what the server stored.
`test_every_command_is_exercised` keeps the list complete.
"""

from __future__ import annotations

import pathlib
import typing
from collections import abc

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing import globalipapp

from imbi_toolkit.api import errors
from imbi_toolkit.magics import _arguments as arguments

from .conftest import RealOrg

EXERCISED: set[str] = set()


def renderings(value: object) -> str:
    parts = [repr(value), str(value)]
    for method in ('_repr_html_', '_repr_markdown_', '_render_traceback_'):
        render = getattr(value, method, None)
        if render is not None:
            rendered = render()
            parts.extend(rendered if isinstance(rendered, list) else [str(rendered)])
    return '\n'.join(parts)


@pytest.fixture
def ip(real_env: RealOrg) -> abc.Iterator[InteractiveShell]:
    globalipapp.start_ipython()
    shell = typing.cast(InteractiveShell, globalipapp.get_ipython())
    shell.config.pop('ImbiMagics', None)
    shell.run_line_magic('load_ext', 'imbi_toolkit')
    shell.run_line_magic('config', f'ImbiMagics.org = {real_env.org!r}')
    try:
        yield shell
    finally:
        shell.run_line_magic('unload_ext', 'imbi_toolkit')
        shell.extension_manager.loaded.discard('imbi_toolkit')
        shell.config.pop('ImbiMagics', None)


@pytest.fixture
def run(ip: InteractiveShell, real_env: RealOrg) -> abc.Callable[..., typing.Any]:
    def run(line: str, cell: str | None = None) -> typing.Any:
        EXERCISED.add(line.split()[0])
        try:
            if cell is None:
                result = ip.run_line_magic('imbi', line)
            else:
                result = ip.run_cell_magic('imbi', line, cell)
        except Exception as exc:
            shown = renderings(exc) + str(exc)
            assert real_env.token not in shown and real_env.readonly_token not in shown
            raise
        shown = renderings(result)
        assert real_env.token not in shown and real_env.readonly_token not in shown
        return result

    return run


def test_help_whoami_connect_disconnect(
    run: typing.Any,
    ip: InteractiveShell,
    real_env: RealOrg,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert 'Work with Imbi' in repr(run('help'))
    assert '--external-run-id' in repr(run('help deploy'))
    banner = run('whoami -o me')
    assert repr(banner) == (
        f'Connected to {real_env.base_url}/ as admin@example.com (Administrator)'
    )
    monkeypatch.setenv('E2E_READONLY_TOKEN', real_env.readonly_token)
    banner = run('connect --token-env E2E_READONLY_TOKEN')
    assert f'readonly-{real_env.org}@example.com (Read Only)' in repr(banner)
    run('fetch ledger-service project')
    ip.user_ns['project']['description'] = 'Read-only users cannot write this'
    with pytest.raises(errors.PermissionDeniedError) as raised:
        run('patch project --send')
    assert raised.value._render_traceback_() == [
        'PermissionDeniedError: 403 Forbidden from PATCH '
        f'{real_env.base_url}/organizations/{real_env.org}/projects/'
        f'{real_env.projects["ledger-service"]}: '
        'Permission denied: project:write required'
    ]
    assert repr(run('disconnect')) == 'Disconnected'
    assert repr(run('disconnect')) == 'Not connected'
    banner = run('connect --token-env IMBI_CLIENT_API_TOKEN')
    assert 'admin@example.com' in repr(banner)


def test_projects_with_every_selection(
    run: typing.Any, ip: InteractiveShell, real_env: RealOrg
) -> None:
    everything = run('projects -o everything')
    slugs = {row['slug'] for row in everything}
    assert {'billing-api', 'ledger-service', 'events-consumer'} <= slugs
    assert 'legacy-billing' not in slugs  # archived
    assert ip.user_ns['everything'] is everything
    archived = run('projects --archived')
    assert {row['slug'] for row in archived} == slugs | {'legacy-billing'}
    consumers = run('projects --type consumer')
    assert len(consumers) == 4
    assert repr(consumers).startswith(f'4 projects in {real_env.org}')
    team = everything[0]['team']['slug']
    assert len(run(f'projects --team {team}')) == len(everything)
    with pytest.raises(
        UsageError, match=f"no team 'nobody' in {real_env.org}: use one"
    ):
        run('projects --team nobody')
    with pytest.raises(UsageError, match='api-service') as raised:
        run('projects --type nope')
    assert 'consumer' in str(raised.value)
    assert {row['slug'] for row in run('projects --search ledger')} == {
        'ledger-service'
    }
    # A server-side filter with a space in its value (quoted, as in a shell).
    python311 = run("projects --filter 'programming_language:eq:Python 3.11'")
    assert {row['slug'] for row in python311} == {'ledger-service'}
    with pytest.raises(errors.BadRequestError, match="Invalid filter 'bogus'"):
        run('projects --filter bogus')


def test_fetch_diff_patch_line_and_cell(
    run: typing.Any, ip: InteractiveShell, real_env: RealOrg
) -> None:
    message = run('fetch audit-consumer project')
    assert repr(message).startswith(
        f'Fetched audit-consumer ({real_env.projects["audit-consumer"]}) '
        f'from {real_env.org}'
    )
    project = ip.user_ns['project']
    assert 'terminal' not in project['environments']['staging']
    assert repr(run('diff project')) == 'audit-consumer: no changes'
    project['description'] = 'Writes the audit trail, twice'
    del project['environments']['testing']
    preview = run('diff project -o preview')
    assert (
        preview.headline()
        == 'audit-consumer: 2 changes (+2 test ops), not sent; add --send to send'
    )
    assert repr(run('diff project --no-test')).startswith(
        'audit-consumer: 2 changes, not sent'
    )
    sent = run('patch project --send')
    assert (
        sent.sent and sent.headline() == 'audit-consumer: 2 changes (+2 test ops), sent'
    )
    stored = real_env.project('audit-consumer')
    assert stored['description'] == 'Writes the audit trail, twice'
    # 2.41 lists a project's environments in no fixed order.
    assert {env['slug'] for env in stored['environments']} == {'staging', 'production'}

    # A cell: a JSON Patch previews; a document previews; --send sends.
    cell = '[{"op": "replace", "path": "/name", "value": "Audit Consumer (PCI)"}]'
    assert repr(run('patch project', cell)).startswith(
        'audit-consumer: 1 change (+1 test op), not sent'
    )
    assert repr(run('patch project', "{**project, 'name': 'Audit Consumer'}")) == (
        'audit-consumer: no changes'
    )
    run('patch project --send', '{**project, "name": "Audit Consumer v2"}')
    assert real_env.project('audit-consumer')['name'] == 'Audit Consumer v2'


def test_a_stale_snapshot_is_refused_not_overwritten(
    run: typing.Any, ip: InteractiveShell, real_env: RealOrg
) -> None:
    run('fetch search-indexer mine')
    run('fetch search-indexer theirs')
    ip.user_ns['theirs']['description'] = 'Changed by somebody else'
    run('patch theirs --send')
    ip.user_ns['mine']['description'] = 'My change'
    with pytest.raises(errors.UnprocessableEntityError) as raised:
        run('patch mine --send')
    assert raised.value.test_failed
    (line,) = raised.value._render_traceback_()
    assert line.startswith(
        'UnprocessableEntityError: 422 Unprocessable Entity from PATCH'
    )
    assert 'Patch test operation failed' in line
    assert (
        real_env.project('search-indexer')['description'] == 'Changed by somebody else'
    )


def test_release_and_deploy(
    run: typing.Any, ip: InteractiveShell, real_env: RealOrg
) -> None:
    message = run(
        'release events-consumer --committish 1234abc --tag 6.0.0 '
        "--title 'Events 6.0' --description 'Six, at last' -o release"
    )
    release = ip.user_ns['release']
    assert repr(message) == (
        f'Release 6.0.0 (1234abc) of events-consumer: id {release["id"]}'
    )
    assert release['title'] == 'Events 6.0' and release['description'] == 'Six, at last'
    again = run('release events-consumer --committish 1234abc --tag 6.0.0 -o again')
    assert ip.user_ns['again']['id'] == release['id'] and 'id ' in repr(again)
    run('release events-consumer --committish 1234abd --title Hotfix -o untagged')
    assert ip.user_ns['untagged']['tag'] is None

    shown = run("deploy events-consumer staging --tag 6.0.0 --note 'to staging'")
    assert repr(shown) == (
        'Recorded success of 6.0.0 in staging for events-consumer '
        '(current status success, 1 event)'
    )
    run('deploy events-consumer production --committish 1234abc --status in_progress')
    line = (
        f'deploy events-consumer production --release-id={release["id"]} '
        '--external-run-id ci-77 --external-run-url https://ci.example.com/77 -o edge'
    )
    run(line)
    shown = run(line)  # the same CI run reported twice
    edge = ip.user_ns['edge']
    assert repr(shown).endswith('(current status success, 2 events)')
    assert [e['external_run_id'] for e in edge['deployments']] == [None, 'ci-77']
    assert edge['deployments'][0]['status'] == 'in_progress'
    with pytest.raises(
        errors.ReleaseNotFoundError, match=r"no release with tag '9\.9\.9'"
    ):
        run('deploy events-consumer production --tag 9.9.9')
    with pytest.raises(
        errors.UnprocessableEntityError, match="Environment 'prod' not found"
    ):
        run('deploy events-consumer prod --tag 6.0.0')
    with pytest.raises(UsageError, match="RefusedError: plugin 'semver' refused"):
        run('release events-consumer --committish 1234abc --tag six')


def test_plan_apply_history_undo(
    run: typing.Any, ip: InteractiveShell, real_env: RealOrg, tmp_path: pathlib.Path
) -> None:
    cell = '[{"op": "add", "path": "/identifiers/pagerduty", "value": "P-CONSUMERS"}]'
    planned = run(
        "plan oncall --type consumer --description 'page the consumers team'", cell
    )
    assert (
        planned is ip.user_ns['oncall']
        and planned.description == 'page the consumers team'
    )
    assert planned.counts()['change'] == 4
    single = run(
        'plan one --project email-consumer',
        '{"op": "add", "path": "/icon", "value": "mail"}',
    )
    assert len(single.changes) == 1
    path = planned.save(tmp_path / 'oncall.plan.json')
    assert run(f'apply {path}').fingerprint() == planned.fingerprint()  # review only
    assert 'pagerduty' not in real_env.project('email-consumer')['identifiers']
    journal = tmp_path / 'oncall.jsonl'
    results = run(f'apply oncall --send --journal {journal} -o results')
    assert results.counts()['ok'] == 4, str(results)
    assert run(f'apply oncall --send --journal {journal}').counts()['skipped'] == 4
    assert (
        real_env.project('email-consumer')['identifiers']['pagerduty'] == 'P-CONSUMERS'
    )

    history = run('history -o writes')
    assert len(history) == 4 and ip.user_ns['writes'] is history
    last = history[-1]
    preview = run('undo')
    assert not preview.sent and repr(preview).startswith(
        f'{last.label}: 1 change (+1 test op), not sent'
    )
    assert run('undo --send').sent
    assert 'pagerduty' not in real_env.project(last.label)['identifiers']
    assert len(run('history')) == 5
    with pytest.raises(UsageError, match='cannot undo'):
        run('undo 99')


def test_user_and_plugins(run: typing.Any, fake_github: typing.Any) -> None:
    before = len(fake_github.requests)
    shown = run('user github octocat -o email')
    assert repr(shown) == "No Imbi user matches github subject 'octocat'"
    assert [path for path, _ in fake_github.requests[before:]] == ['/users/octocat']
    table = run('plugins')
    rows = {row['name']: row for row in table}
    assert rows['semver']['status'] == rows['github']['status'] == 'loaded'


def test_tab_completion_from_the_real_server(
    run: typing.Any, ip: InteractiveShell
) -> None:
    import warnings

    def complete(line: str) -> list[str]:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', PendingDeprecationWarning)
            _, matches = ip.Completer.complete(line_buffer=line, cursor_pos=len(line))
        return list(matches)

    assert 'email-consumer' in complete('%imbi fetch email')
    assert complete('%imbi deploy email-consumer prod') == ['production']
    run('release email-consumer --committish abcdef9 --tag 9.1.0')
    assert '9.1.0' in complete('%imbi deploy email-consumer production --tag 9.1')


def test_one_ci_run_id_for_two_environments_moves_the_event(
    run: typing.Any, ip: InteractiveShell, real_env: RealOrg
) -> None:
    # 2.26+: one event per (project, external_run_id). The production POST
    # moves staging's event, and 2.41 answers it with an empty edge; the
    # toolkit reads the edge back, so the user sees the event.
    run('release search-indexer --committish 5ca1ab1 --tag 10.0.0 -o release')
    run('deploy search-indexer staging --tag 10.0.0 --external-run-id gha-1')
    shown = run('deploy search-indexer production --tag 10.0.0 --external-run-id gha-1')
    assert repr(shown) == (
        'Recorded success of 10.0.0 in production for search-indexer '
        '(current status success, 1 event)'
    )
    with real_env.http() as client:
        url = (
            f'/organizations/{real_env.org}/projects/'
            f'{real_env.projects["search-indexer"]}/releases/'
            f'{ip.user_ns["release"]["id"]}/environments/staging'
        )
        assert client.get(url).status_code == 404  # staging lost its event


def test_blueprint_values_are_checked_with_the_real_schema(
    run: typing.Any, ip: InteractiveShell, real_env: RealOrg
) -> None:
    # The organisation's blueprint (run.sh org) allows five languages; the
    # server would answer 400 literal_error. The toolkit refuses first.
    run('fetch billing-api project')
    ip.user_ns['project']['programming_language'] = 'Cobol'
    with pytest.raises(UsageError, match='"Cobol" is not allowed') as raised:
        run('patch project --send')
    assert '"Python 3.12", "Python 3.11", "Go 1.22", "TypeScript", "Kotlin"' in str(
        raised.value
    )
    assert real_env.project('billing-api')['programming_language'] == 'Python 3.12'


def test_every_command_is_exercised() -> None:
    parser = arguments.build_parser()
    (commands,) = [a for a in parser._subparsers._group_actions if a.choices]
    assert set(commands.choices) <= EXERCISED, set(commands.choices) - EXERCISED
