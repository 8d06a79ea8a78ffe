"""`%imbi` lines are split as a shell splits them: quotes group and go away."""

from __future__ import annotations

import typing

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from imbi_toolkit.magics import _arguments as arguments

from .conftest import CANARY_TOKEN, renderings

pytestmark = pytest.mark.attack('crashes')

# One line per command, each with quoted values, and what it must parse to.
LINES = [
    (
        'connect --base-url \'http://127.0.0.1:9/api\' --token-env "MY_TOKEN"',
        {'base_url': 'http://127.0.0.1:9/api', 'token_env': 'MY_TOKEN'},
    ),
    ("whoami -o 'me'", {'output': 'me'}),
    ('disconnect', {'command': 'disconnect'}),
    (
        "projects --org 'engineering' --search 'billing api' --type \"http-api\" "
        "--team 'core team' --filter 'name:eq:Billing API' --filter \"x:ne:{y} $Z\"",
        {
            'org': 'engineering',
            'search': 'billing api',
            'type': 'http-api',
            'team': 'core team',
            'filter': ['name:eq:Billing API', 'x:ne:{y} $Z'],
        },
    ),
    (
        "fetch 'billing-api' \"project\" --org 'engineering'",
        {'project': 'billing-api', 'variable': 'project', 'org': 'engineering'},
    ),
    ('diff \'project\' -o "preview"', {'variable': 'project', 'output': 'preview'}),
    (
        "patch 'project' --send -o 'sent'",
        {'variable': 'project', 'send': True, 'output': 'sent'},
    ),
    (
        "release 'billing-api' --committish 'abc1234' --tag '2.0.0' "
        "--title 'Billing API 2.0' --description \"It's *big*\" --org 'engineering'",
        {
            'project': 'billing-api',
            'committish': 'abc1234',
            'tag': '2.0.0',
            'title': 'Billing API 2.0',
            'description': "It's *big*",
            'org': 'engineering',
        },
    ),
    (
        "deploy 'billing-api' 'production' --tag '2.0.0' --note 'by hand' "
        "--status 'success' --external-run-id 'run 42'",
        {
            'project': 'billing-api',
            'environment': 'production',
            'tag': '2.0.0',
            'note': 'by hand',
            'status': 'success',
            'external_run_id': 'run 42',
        },
    ),
    (
        'deploy x production --release-id=\'-abc\' --note "say \\"hi\\""',
        {'release_id': '-abc', 'note': 'say "hi"'},
    ),
    (
        "user github '583231' -o 'email'",
        {'integration': 'github', 'subject': '583231', 'output': 'email'},
    ),
    ('user \'git hub\' "a b"', {'integration': 'git hub', 'subject': 'a b'}),
    ("plugins -o 'installed'", {'output': 'installed'}),
    (
        "plan 'change' --team 'core team' --search 'billing api' "
        "--project 'billing-api' --description 'Add the runbook link'",
        {
            'variable': 'change',
            'team': 'core team',
            'search': 'billing api',
            'project': ['billing-api'],
            'description': 'Add the runbook link',
        },
    ),
    (
        "apply 'change' --journal 'my journal.jsonl' --send -o 'done'",
        {'plan': 'change', 'journal': 'my journal.jsonl', 'send': True},
    ),
    ("history -o 'writes'", {'output': 'writes'}),
    ("undo '3' --send", {'number': 3, 'send': True}),
    ("help 'deploy'", {'topic': 'deploy'}),
]


@pytest.mark.parametrize(
    ('line', 'expected'), LINES, ids=[line[:24] for line, _ in LINES]
)
def test_every_command_reads_quoted_values_without_the_quotes(
    line: str, expected: dict[str, object]
) -> None:
    args = arguments.build_parser().parse_argstring(line)
    for name, value in expected.items():
        assert getattr(args, name) == value, name


def test_every_command_is_covered() -> None:
    parser = arguments.build_parser()
    assert parser._subparsers is not None
    (commands,) = [
        action.choices
        for action in parser._subparsers._group_actions
        if isinstance(action.choices, dict)
    ]
    assert {line.split()[0] for line, _ in LINES} == set(commands)


def test_an_unclosed_quote_is_a_one_line_usage_error() -> None:
    with pytest.raises(UsageError, match='close the quote'):
        arguments.build_parser().parse_argstring("deploy x prod --tag 1 --note 'oops")


def run(shell: InteractiveShell, line: str) -> typing.Any:
    result = shell.run_line_magic('imbi', line)
    assert CANARY_TOKEN not in renderings(result)
    return result


def test_quoted_values_reach_the_server_without_quotes(ip: InteractiveShell) -> None:
    run(ip, "user github '583231' -o email")
    assert ip.user_ns['email'] == 'alice@example.com'
    run(
        ip,
        "release 'billing-api' --committish 'abc1234' --tag '2.0.0' "
        "--title 'Billing API 2.0' -o release",
    )
    assert ip.user_ns['release']['title'] == 'Billing API 2.0'
    run(ip, "deploy billing-api production --tag '2.0.0' --note 'by hand' -o edge")
    assert ip.user_ns['edge']['deployments'][-1]['note'] == 'by hand'
    table = run(ip, "projects --search 'billing api'")
    assert [row['slug'] for row in table] == ['billing-api']
