"""The `%imbi` command line: one sub-command per task.

Built with IPython's `MagicArgumentParser`, so a mistake raises `UsageError`
(one line, no traceback) instead of exiting, and the help text of every
sub-command becomes the docstring `%imbi?` shows.
"""

from __future__ import annotations

import argparse
import keyword
import shlex
import typing

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

from imbi_toolkit.types import DEPLOYMENT_STATUSES

SUMMARY = """\
Work with Imbi: connect, browse projects, fetch one into a variable, preview
the changes you make to it and send them, create releases, record deployments.

Settings come from IMBI_CLIENT_* environment variables (or a .env file) and
%config ImbiMagics.<name> (see %config ImbiMagics). Nothing is sent to the
server without --send; every change is previewed first.

  %imbi connect [--base-url URL] [--token-env NAME]
  %imbi whoami
  %imbi projects [--org ORG] [--type TYPE] [--team TEAM] [--search TEXT]
                 [--filter FIELD:OP[:VALUE] ...] [--archived] [-o VAR]
  %imbi fetch PROJECT VAR [--org ORG]
  %imbi diff VAR [--no-test] [-o VAR]
  %imbi patch VAR [--send] [--no-test] [-o VAR]
  %%imbi patch VAR [--send] [--no-test] [-o VAR]    (cell: JSON Patch, a
        JSON document, or a Python expression giving a document or ops)
  %%imbi plan VAR [--org ORG] [--type TYPE] [--team TEAM] [--search TEXT]
                 [--filter FIELD:OP[:VALUE] ...] [--project PROJECT ...]
                 [--description TEXT]   (cell: a JSON Patch, or a Python
        expression giving one or a function that edits each project)
  %imbi plan VAR --release TAG [--committish SHA] [--title TITLE]
                 [selection as above] [--description TEXT]
  %imbi plan VAR --deploy ENV (--tag TAG | --committish SHA) --status STATUS
                 [--note TEXT] [--external-run-id ID] [selection as above]
  %imbi apply PLAN [--send] [--journal FILE] [-o VAR]   (PLAN: a variable
        filled by %imbi plan, or a plan file saved with plan.save(...))
  %imbi history [-o VAR]
  %imbi undo [N] [--send] [-o VAR]
  %imbi release PROJECT (--committish SHA | --tag TAG) [--title TITLE]
                 [--description TEXT] [--org ORG] [-o VAR]
  %imbi deploy PROJECT ENV (--tag TAG | --committish SHA | --release-id ID)
                 [--status STATUS] [--note TEXT] [--org ORG] [-o VAR]
  %imbi user INTEGRATION SUBJECT [-o VAR]
  %imbi plugins [-o VAR]
  %imbi disconnect
  %imbi help [COMMAND]

PROJECT is a project id, a project slug, or the name of a variable filled
by %imbi fetch. A value starting with `-` (some ids do) goes after `=`, as
in --release-id=-abc..., or after `--`. Quote values as in a shell:
--note 'by hand'; nothing on the line is expanded ($X and {x} stay as they are).
Plans, undo and patches preview until the line says --send.
"""

DOC = (
    SUMMARY
    + """
%imbi help COMMAND shows the options of one command.
"""
)


def _variable(value: str) -> str:
    if not value.isidentifier() or keyword.iskeyword(value):
        raise argparse.ArgumentTypeError(
            f'{value!r} is not a valid Python variable name'
        )
    return value


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '-o',
        '--output',
        metavar='VAR',
        type=_variable,
        help='also store the result in this variable',
    )


def _org(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--org',
        help='organization slug (default: %%config ImbiMagics.org, or the '
        'only organization the API lists)',
    )


def _test_ops(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--no-test',
        dest='test_ops',
        action='store_false',
        default=None,
        help='leave out the `test` operations that make the server refuse '
        'the patch when the project changed since it was fetched',
    )


def _selection(parser: argparse.ArgumentParser) -> None:
    _org(parser)
    parser.add_argument('--type', help='only projects of this project type slug')
    parser.add_argument('--team', help='only projects of this team slug')
    parser.add_argument(
        '--search', help='only projects whose name or slug contains this text'
    )
    parser.add_argument(
        '--filter',
        action='append',
        default=[],
        metavar='FIELD:OP[:VALUE]',
        help='server-side filter (repeatable), e.g. programming_language:eq:Go',
    )
    parser.add_argument(
        '--archived', action='store_true', help='include archived projects'
    )


def split(line: str) -> list[str]:
    """Split a `%imbi` line into words as a POSIX shell would.

    Quotes group words and are removed (`--note 'by hand'` is `by hand`),
    a backslash escapes the next character, and nothing is expanded: `$X`,
    `{x}` and JSON pointers stay as written (the magic takes its line
    without IPython's variable expansion).

    Raises:
        UsageError: When a quote is not closed.
    """
    try:
        return shlex.split(line, comments=False, posix=True)
    except ValueError as exc:
        raise UsageError(
            f'cannot read the %imbi line ({exc}): close the quote, or escape it '
            'with a backslash'
        ) from None


class Parser(MagicArgumentParser):
    """`MagicArgumentParser` whose lines are split as a POSIX shell splits them.

    IPython's own `parse_argstring` splits in non-POSIX mode, which keeps
    the quotes inside the words: `--note 'by hand'` would store `'by hand'`.
    """

    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None:
        # IPython's MagicHelpFormatter writes reST for docstrings (a `::`
        # line, and `%%` before the program): plain help reads better, and
        # `%imbi deploy` is no cell magic.
        kwargs.setdefault('formatter_class', argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]

    def parse_argstring(self, argstring: str, *, partial: bool = False) -> typing.Any:
        """Split ``argstring`` with `split` and parse the words."""
        argv = split(argstring)
        if partial:
            return self.parse_known_args(argv)
        return self.parse_args(argv)


def build_parser() -> Parser:
    """Return the parser of `%imbi` lines."""
    parser = Parser(prog='%imbi', description=SUMMARY)
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')

    connect = commands.add_parser(
        'connect', help='connect (again) and show the base URL and the user'
    )
    connect.add_argument('--base-url', help='root URL of the Imbi API')
    connect.add_argument(
        '--token-env',
        metavar='NAME',
        help='environment variable holding the token (default: '
        'IMBI_CLIENT_API_TOKEN or %%config ImbiMagics.token_env)',
    )
    _output(connect)

    whoami = commands.add_parser('whoami', help='show the base URL and the user')
    _output(whoami)

    commands.add_parser('disconnect', help='close the connection')

    projects = commands.add_parser('projects', help='list projects')
    _selection(projects)
    _output(projects)

    plan = commands.add_parser(
        'plan',
        help='plan a change to many projects (nothing sent): %%%%imbi plan VAR '
        'with a JSON Patch or an edit function in the cell, or %%imbi plan VAR '
        '--release TAG / --deploy ENV for a release or a deployment',
    )
    plan.add_argument('variable', metavar='VAR', type=_variable)
    _selection(plan)
    plan.add_argument(
        '--project',
        action='append',
        default=[],
        metavar='PROJECT',
        help='plan for this project (repeatable) instead of a selection',
    )
    plan.add_argument('--description', default='', help='what the change is for')
    plan.add_argument(
        '--release',
        metavar='TAG',
        help='plan this release (tag) in every project, instead of a cell',
    )
    plan.add_argument(
        '--deploy',
        metavar='ENV',
        help='plan a deployment event in this environment, instead of a cell',
    )
    plan.add_argument(
        '--committish',
        metavar='SHA',
        help="the release's commit (--release: optional with a tag on API "
        '2.32.3+; --deploy: names the release, instead of or with --tag)',
    )
    plan.add_argument('--title', help='--release: the title (default: the tag)')
    plan.add_argument('--tag', help='--deploy: the tag of the release to deploy')
    plan.add_argument(
        '--status',
        choices=DEPLOYMENT_STATUSES,
        help='--deploy: the event status (required)',
    )
    plan.add_argument('--note', help='--deploy: a note stored with each event')
    plan.add_argument(
        '--external-run-id',
        help='--deploy: the CI run id (servers from API 2.18 keep one event per '
        'run id)',
    )

    apply = commands.add_parser(
        'apply',
        help='review a plan, and send exactly its patches, releases or events '
        'with --send',
    )
    apply.add_argument(
        'plan', metavar='PLAN', help='a variable holding a plan, or a plan file'
    )
    apply.add_argument(
        '--send', action='store_true', help='send the writes (default: review)'
    )
    apply.add_argument(
        '--journal',
        metavar='FILE',
        help='journal file: rerun with the same file to finish an interrupted run',
    )
    _output(apply)

    history = commands.add_parser(
        'history', help='the writes made through the toolkit in this session'
    )
    _output(history)

    undo = commands.add_parser(
        'undo', help='take back a patch of %%imbi history (preview; --send sends)'
    )
    undo.add_argument(
        'number', metavar='N', nargs='?', type=int, help='the write (default: last)'
    )
    undo.add_argument(
        '--send', action='store_true', help='send the inverse patch (default: preview)'
    )
    _output(undo)

    fetch = commands.add_parser(
        'fetch', help='fetch a project into a variable and keep a snapshot'
    )
    fetch.add_argument('project', metavar='PROJECT', help='project id or slug')
    fetch.add_argument('variable', metavar='VAR', type=_variable)
    _org(fetch)

    diff = commands.add_parser(
        'diff', help='preview the changes made to a fetched variable'
    )
    diff.add_argument('variable', metavar='VAR', type=_variable)
    _test_ops(diff)
    _output(diff)

    patch = commands.add_parser(
        'patch',
        help='preview the changes, and send them with --send; as %%%%imbi the '
        'cell gives the patch or the new document',
    )
    patch.add_argument('variable', metavar='VAR', type=_variable)
    patch.add_argument(
        '--send', action='store_true', help='send the patch (default: preview only)'
    )
    _test_ops(patch)
    _output(patch)

    release = commands.add_parser('release', help='create a release of a project')
    release.add_argument('project', metavar='PROJECT')
    release.add_argument(
        '--committish', help='the commit SHA (optional with --tag on API 2.32.3+)'
    )
    release.add_argument('--tag', help='the release tag, e.g. 1.4.0')
    release.add_argument('--title', help='the title (default: the tag or commit)')
    release.add_argument('--description', help='release notes (Markdown)')
    _org(release)
    _output(release)

    deploy = commands.add_parser(
        'deploy', help='record a deployment event of a release in an environment'
    )
    deploy.add_argument('project', metavar='PROJECT')
    deploy.add_argument('environment', metavar='ENV', help='environment slug')
    which = deploy.add_mutually_exclusive_group(required=True)
    which.add_argument('--tag', help='the release tag')
    which.add_argument('--committish', help='the release commit')
    which.add_argument('--release-id', help='the release id')
    deploy.add_argument(
        '--status',
        default='success',
        choices=DEPLOYMENT_STATUSES,
        help='the event status (default: success)',
    )
    deploy.add_argument('--note', help='a note stored with the event')
    deploy.add_argument(
        '--external-run-id',
        help='the CI run id (servers from API 2.18 keep one event per run id)',
    )
    deploy.add_argument('--external-run-url', help='a link to the CI run')
    _org(deploy)
    _output(deploy)

    user = commands.add_parser('user', help='look a user up by external identity')
    user.add_argument('integration', metavar='INTEGRATION', help='e.g. github')
    user.add_argument('subject', metavar='SUBJECT', help='the external subject')
    _output(user)

    plugins = commands.add_parser('plugins', help='list the installed plugins')
    _output(plugins)

    help_ = commands.add_parser('help', help="show this help or a command's")
    help_.add_argument('topic', nargs='?', metavar='COMMAND')
    return parser


def command_help(parser: MagicArgumentParser, topic: str | None) -> str:
    """Return the help text of `%imbi` or of one of its commands."""
    if topic is None:
        return parser.format_help()
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        choices = getattr(action, 'choices', None) or {}
        if topic in choices:
            return str(choices[topic].format_help())
    raise UsageError(f'unknown %imbi command {topic!r}: see %imbi help')
