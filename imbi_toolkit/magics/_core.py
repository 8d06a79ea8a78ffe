"""`ImbiMagics`: the `%imbi` line magic and the `%%imbi` cell magic."""

from __future__ import annotations

import copy
import functools
import json
import typing
from collections import abc

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Bool, Float, Int, Unicode, default, observe

from imbi_toolkit.magics import _arguments as arguments
from imbi_toolkit.magics import _display as display
from imbi_toolkit.magics import _errors as errors
from imbi_toolkit.magics import _session as session
from imbi_toolkit.magics import _snapshots as snapshots
from imbi_toolkit.magics._errors import UsageError
from imbi_toolkit.types import DEPLOYMENT_STATUSES, JSONObject

if typing.TYPE_CHECKING:
    import argparse

    from imbi_toolkit.bulk import Plan
    from imbi_toolkit.magics._completion import Completer
    from imbi_toolkit.magics._preview import PatchPreview
    from imbi_toolkit.operations import History, Toolkit

T = typing.TypeVar('T')

# The commands whose cell form (%%imbi) takes a body.
_CELL_COMMANDS = frozenset({'patch', 'plan'})


# The traits whose defaults `Settings` reads from the environment.
_ENV_DEFAULTS = {
    'base_url': 'api_base_url',
    'timeout': 'timeout',
    'max_retries': 'max_retries',
}


@functools.cache
def _parser() -> typing.Any:
    # Built on first use: building it and its help costs ~15 ms, which
    # `%load_ext` must not pay.
    return arguments.build_parser()


@functools.cache
def _defaults_model() -> typing.Any:
    """`Settings` with the token optional: only the other fields are wanted."""
    import pydantic

    from imbi_toolkit.api import Settings

    class Defaults(Settings):
        api_token: pydantic.SecretStr | None = None  # type: ignore[assignment]

    return Defaults


def _settings_default(field: str) -> typing.Any:
    """What `Settings` gives `field` from the environment, `.env` or its default."""
    import pydantic

    model = _defaults_model()
    try:
        return getattr(model(), field)
    except pydantic.ValidationError:
        return model.model_fields[field].default


@magics_class
class ImbiMagics(Magics):
    """The `%imbi` magics; configure them with `%config ImbiMagics.<trait> = ...`.

    Every trait defaults to what `imbi_toolkit.api.Settings` reads from the
    `IMBI_CLIENT_*` environment variables or a `.env` file.
    """

    base_url = Unicode(
        help='Root URL of the Imbi API (default: IMBI_CLIENT_API_BASE_URL).'
    ).tag(config=True)
    token_env = Unicode(
        session.TOKEN_VARIABLE,
        help='Name of the environment variable that holds the API token; the '
        'token itself is never a trait, so %config never shows it.',
    ).tag(config=True)
    timeout = Float(
        help='Read/write timeout in seconds (default: IMBI_CLIENT_TIMEOUT).'
    ).tag(config=True)
    max_retries = Int(
        help='Retries of a failed request when safe (default: IMBI_CLIENT_MAX_RETRIES).'
    ).tag(config=True)
    org = Unicode(
        '',
        help='Default organization slug; empty means the only organization '
        'the API lists.',
    ).tag(config=True)
    test_ops = Bool(
        True,
        help='Precede changes with `test` operations, so a project changed by '
        'someone else since it was fetched is not overwritten.',
    ).tag(config=True)

    def __init__(self, shell: typing.Any = None, **kwargs: typing.Any) -> None:
        # Before the traits: loading the configuration runs the observers.
        self.session = session.Session(self._overrides)
        self.snapshots = snapshots.Snapshots()
        self._default_org: str | None = None
        # The writes made through the magics (%imbi history, %imbi undo).
        self._history: History | None = None
        # Set by the extension when it registers Tab completion.
        self.completer: Completer | None = None
        # What the defaults read from the environment were, to tell them
        # from values set with %config when the environment changes.
        self._env_defaults: dict[str, object] = {}
        super().__init__(shell=shell, **kwargs)
        self._fingerprint = session.environment_fingerprint(self.token_env)

    @default('base_url')
    def _default_base_url(self) -> str:
        value = str(_settings_default('api_base_url'))
        self._env_defaults['base_url'] = value
        return value

    @default('timeout')
    def _default_timeout(self) -> float:
        value = float(_settings_default('timeout'))
        self._env_defaults['timeout'] = value
        return value

    @default('max_retries')
    def _default_max_retries(self) -> int:
        value = int(_settings_default('max_retries'))
        self._env_defaults['max_retries'] = value
        return value

    @observe('base_url', 'token_env', 'timeout', 'max_retries')
    def _connection_changed(self, change: typing.Any) -> None:
        # The next magic connects with the new values.
        self.session.reset()
        self._default_org = None

    @observe('org')
    def _org_changed(self, change: typing.Any) -> None:
        self._default_org = None

    def _overrides(
        self, base_url: str | None = None, token_env: str | None = None
    ) -> session.Overrides:
        token_env = token_env or self.token_env
        return session.Overrides(
            base_url=base_url or self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            # The default variable is read by Settings itself (with .env).
            token_env='' if token_env == session.TOKEN_VARIABLE else token_env,
        )

    def close(self) -> None:
        """Close the client and stop the background loop."""
        self.session.close()
        self.snapshots.clear()

    # -- the magic ---------------------------------------------------------

    @no_var_expand
    @line_cell_magic
    def imbi(self, line: str, cell: str | None = None) -> object:
        args = _parser().parse_argstring(line)
        command = args.command or 'help'
        if cell is not None and command not in _CELL_COMMANDS:
            raise UsageError(
                f'%%imbi {command} takes no cell body: use %imbi {command}, '
                'or %%imbi patch VAR / %%imbi plan VAR'
            )
        handler = getattr(self, f'_do_{command}')
        self._follow_environment()
        try:
            with errors.reported(self.session, self.token_env):
                result, stored = handler(args, cell)
        finally:
            # What the command itself changed (--token-env) is in use now.
            self._fingerprint = session.environment_fingerprint(self.token_env)
        output = getattr(args, 'output', None)
        if output:
            self.shell.user_ns[output] = stored  # type: ignore[union-attr]
        return result

    # -- helpers -----------------------------------------------------------

    def _follow_environment(self) -> None:
        """Reconnect when `IMBI_CLIENT_*`, `.env` or the token changed.

        `%env IMBI_CLIENT_API_TOKEN=...` after `%load_ext` (or after a 401)
        applies to the next magic: the traits that still hold the defaults
        read from the environment take the new ones, and the client is
        created again.
        """
        current = session.environment_fingerprint(self.token_env)
        if current == self._fingerprint:
            return
        self._fingerprint = current
        with self.hold_trait_notifications():
            for name, field in _ENV_DEFAULTS.items():
                value = getattr(self, name)
                if value == self._env_defaults.get(name):
                    fresh = type(value)(_settings_default(field))
                    self._env_defaults[name] = fresh
                    setattr(self, name, fresh)
        self.session.reset()
        self._default_org = None

    @property
    def history(self) -> History:
        """The writes made through the magics in this session."""
        if self._history is None:
            from imbi_toolkit.operations import History

            self._history = History()
        return self._history

    def _call(self, work: abc.Callable[[Toolkit], abc.Awaitable[T]]) -> T:
        """Run `work(toolkit)` on the background loop: every API call goes
        through the operations layer, as it does outside the magics."""
        from imbi_toolkit.operations import Toolkit

        history = self.history
        return self.session.call(lambda client: work(Toolkit(client, history=history)))

    def _org(self, explicit: str | None) -> str:
        if explicit:
            return explicit
        if self.org:
            return self.org
        if self._default_org is None:
            self._default_org = self._only_org()
        return self._default_org

    def _only_org(self) -> str:
        organizations = self._call(lambda tk: tk.client.list_organizations())
        slugs = [str(org.get('slug')) for org in organizations]
        if len(slugs) == 1:
            return slugs[0]
        if not slugs:
            raise UsageError('the API lists no organization: pass --org ORG')
        raise UsageError(
            f'several organizations ({", ".join(slugs)}): pass --org ORG or set '
            f'%config ImbiMagics.org = {slugs[0]!r}'
        )

    def _user_ns(self) -> dict[str, typing.Any]:
        return typing.cast(dict[str, typing.Any], self.shell.user_ns)  # type: ignore[union-attr]

    def _resolve_project(self, ref: str, org: str | None) -> tuple[str, str, str]:
        """Return `(org_slug, project_id, label)` for an id, slug or variable."""
        snapshot = self.snapshots.get(ref)
        if snapshot is not None and not org:
            return snapshot.org_slug, snapshot.project_id, snapshot.label
        org_slug = self._org(org)
        project = self._call(lambda tk: tk.client.find_project(org_slug, ref))
        return org_slug, str(project['id']), str(project.get('slug') or ref)

    # -- commands ----------------------------------------------------------

    def _do_help(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        text = arguments.command_help(_parser(), getattr(args, 'topic', None))
        return display.Message(text.rstrip()), text

    def _do_connect(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        # Check the new values before replacing the working ones.
        session.load_settings(self._overrides(args.base_url, args.token_env))
        with self.hold_trait_notifications():
            if args.base_url:
                self.base_url = args.base_url
            if args.token_env:
                self.token_env = args.token_env
        self.session.reset()
        self._default_org = None
        self.snapshots.clear()
        return self._do_whoami(args, cell)

    def _do_whoami(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        identity = self._call(lambda tk: tk.whoami())
        banner = display.Banner(
            identity.base_url,
            identity.email or 'a service account',
            identity.display_name,
        )
        return banner, banner

    def _do_disconnect(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        was = self.session.connected
        self.session.disconnect()
        text = 'Disconnected' if was else 'Not connected'
        return display.Message(text), None

    def _select(self, args: argparse.Namespace) -> tuple[str, list[JSONObject]]:
        """The organization and its projects that the selection options pick."""
        org_slug = self._org(args.org)
        rows = self._call(
            lambda tk: tk.select_projects(
                org_slug,
                project_type=args.type,
                team=args.team,
                search=args.search,
                filters=args.filter,
                archived=args.archived,
            )
        )
        return org_slug, rows

    def _do_projects(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        org_slug, rows = self._select(args)
        noun = 'project' if len(rows) == 1 else 'projects'
        table = display.Table(
            rows,
            [
                ('id', lambda row: row.get('id')),
                ('slug', lambda row: row.get('slug')),
                ('name', lambda row: row.get('name')),
                ('team', _team_slug),
                (
                    'types',
                    lambda row: [t.get('slug') for t in row.get('project_types') or []],
                ),
            ],
            title=f'{len(rows)} {noun} in {org_slug}',
        )
        return table, table

    def _do_fetch(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        org_slug = self._org(args.org)
        project = self._call(lambda tk: tk.client.find_project(org_slug, args.project))
        document = _patchable(project)
        self._user_ns()[args.variable] = self.snapshots.keep(
            args.variable, org_slug, str(project['id']), document
        )
        message = display.Message(
            f'Fetched {project.get("slug")} ({project["id"]}) from {org_slug} into '
            f'`{args.variable}`: edit it, then %imbi diff {args.variable}'
        )
        return message, None

    def _snapshot(self, variable: str) -> snapshots.Snapshot:
        snapshot = self.snapshots.get(variable)
        if snapshot is None:
            raise UsageError(
                f'{variable!r} was not filled by %imbi fetch: run '
                f'%imbi fetch PROJECT {variable} first'
            )
        return snapshot

    def _edited(self, variable: str) -> JSONObject:
        try:
            value = self._user_ns()[variable]
        except KeyError:
            raise UsageError(
                f'variable {variable!r} no longer exists: %imbi fetch it again'
            ) from None
        if not isinstance(value, dict):
            raise UsageError(
                f'{variable!r} holds a {type(value).__name__}, not the project '
                'document (a dict): %imbi fetch it again'
            )
        return value

    def _preview(
        self, variable: str, target: JSONObject, test_ops: bool | None
    ) -> PatchPreview:
        from imbi_toolkit import patching
        from imbi_toolkit.magics._preview import PatchPreview

        snapshot = self._snapshot(variable)
        use_tests = self.test_ops if test_ops is None else test_ops
        try:
            patch = patching.diff(snapshot.document, target, tests=use_tests)
        except (TypeError, ValueError) as exc:
            raise UsageError(f'{variable!r} cannot be sent: {exc}') from None
        return PatchPreview(snapshot.label, patch)

    def _do_diff(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        self._snapshot(args.variable)
        result = self._preview(
            args.variable, self._edited(args.variable), args.test_ops
        )
        return result, result

    def _do_patch(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        variable = args.variable
        snapshot = self._snapshot(variable)
        # Everything is computed before the user's variable changes: a cell
        # that fails (a bad body, a refused or failed send) leaves it as it was.
        note = None
        if cell is None:
            target = self._edited(variable)
        else:
            target, note = _target_from_cell(cell, snapshot.document, self._user_ns())
        result = self._preview(variable, target, args.test_ops)
        if note:
            result.notes.append(note)
        if not args.send or len(result) == 0:
            if cell is not None:
                self._user_ns()[variable] = target
            return result, result

        # Through the operations layer: `imbi_before_project_patch` plugins
        # may check, change or refuse the operations.
        project = self._call(
            lambda tk: tk.patch_project(
                snapshot.org_slug,
                snapshot.project_id,
                result.operations,
                before=snapshot.document,
                label=snapshot.label,
            )
        )
        self._user_ns()[variable] = self.snapshots.keep(
            variable,
            snapshot.org_slug,
            snapshot.project_id,
            _patchable(project),
        )
        result.sent = True
        return result, result

    def _do_release(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        org_slug, project_id, label = self._resolve_project(args.project, args.org)
        if not args.committish and not args.tag:
            raise UsageError('give the release as --committish SHA, --tag TAG or both')
        # No title given: the toolkit names it after the tag once the
        # plugins (which may derive one) had their say.
        body = _given(args, 'committish', 'title', 'tag', 'description')

        release = self._call(lambda tk: tk.create_release(org_slug, project_id, body))
        name = release.get('tag') or release.get('committish')
        message = display.Message(
            f'Release {name} ({release.get("committish")}) of {label}: '
            f'id {release.get("id")}'
        )
        return message, release

    def _do_deploy(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        org_slug, project_id, label = self._resolve_project(args.project, args.org)
        body = {
            'status': args.status,
            **_given(args, 'note', 'external_run_id', 'external_run_url'),
        }

        edge = self._call(
            lambda tk: tk.record_deployment(
                org_slug,
                project_id,
                args.environment,
                body,
                release_id=args.release_id,
                tag=args.tag,
                committish=args.committish,
            )
        )
        release = args.tag or args.committish or args.release_id
        events = edge.get('deployments') or []
        message = display.Message(
            f'Recorded {args.status} of {release} in {args.environment} for '
            f'{label} (current status {edge.get("current_status")}, '
            f'{len(events)} event{"" if len(events) == 1 else "s"})'
        )
        return message, edge

    def _do_plan(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        from imbi_toolkit import bulk

        what = _planned_write(args, cell)
        if what is None:
            what = _edit_from_cell(typing.cast(str, cell), self._user_ns())
        if args.project:
            org_slug = self._org(args.org)
            targets = [
                bulk.Target(*self._resolve_project(ref, org_slug))
                for ref in args.project
            ]
        else:
            org_slug, rows = self._select(args)
            targets = [bulk.Target.from_project(row, org_slug) for row in rows]
        if not targets:
            raise UsageError('the selection has no project: nothing to plan')
        planned = self._call(
            lambda tk: bulk.plan(
                tk, what, targets, description=args.description, progress=False
            )
        )
        self._user_ns()[args.variable] = planned
        return planned, planned

    def _plan_named(self, ref: str) -> Plan:
        from imbi_toolkit.bulk import Plan

        value = self._user_ns().get(ref) if ref.isidentifier() else None
        if isinstance(value, Plan):
            return value
        if value is not None:
            raise UsageError(
                f'{ref!r} holds a {type(value).__name__}, not a plan: fill it with '
                f'%%imbi plan {ref}'
            )
        try:
            return Plan.load(ref)
        except FileNotFoundError:
            raise UsageError(
                f'no plan {ref!r}: give a variable filled by %%imbi plan, or a plan '
                'file saved with plan.save(PATH)'
            ) from None
        except (OSError, ValueError) as exc:
            raise UsageError(f'{ref}: {exc}') from None

    def _do_apply(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        from imbi_toolkit import bulk

        planned = self._plan_named(args.plan)
        if not args.send:
            return planned, planned
        if not planned.changes:
            return display.Message('The plan changes no project: nothing to send'), None
        results = self._call(
            lambda tk: bulk.apply(tk, planned, journal=args.journal, progress=False)
        )
        return results, results

    def _do_history(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        return self.history, self.history

    def _do_undo(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        from imbi_toolkit.magics._preview import PatchPreview
        from imbi_toolkit.operations import NotUndoableError
        from imbi_toolkit.patching import Patch

        try:
            entry, inverse = self.history.inverse(args.number)
        except NotUndoableError as exc:
            raise UsageError(f'cannot undo: {exc}') from None
        preview = PatchPreview(entry.label or entry.project_id, Patch(inverse))
        if args.send:
            self._call(lambda tk: tk.undo(entry.number))
            preview.sent = True
        return preview, preview

    def _do_user(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        email = self._call(
            lambda tk: tk.find_user_by_identity(args.integration, args.subject)
        )
        if email is None:
            text = f'No Imbi user matches {args.integration} subject {args.subject!r}'
        else:
            text = f'{args.integration} subject {args.subject!r} is {email}'
        return display.Message(text), email

    def _do_plugins(
        self, args: argparse.Namespace, cell: str | None
    ) -> tuple[object, object]:
        import dataclasses

        from imbi_toolkit.plugins import get_plugin_manager

        manager = get_plugin_manager()
        rows = [
            {**dataclasses.asdict(info), 'status': 'loaded'}
            for info in manager.list_plugins()
        ] + [
            {**dataclasses.asdict(failure), 'hooks': (), 'status': 'failed'}
            for failure in manager.failures
        ]
        table = display.Table(
            rows,
            [
                ('name', lambda row: row['name']),
                ('distribution', lambda row: row['distribution'] or '-'),
                ('version', lambda row: row['version'] or '-'),
                ('status', lambda row: row['status']),
                (
                    'hooks / error',
                    lambda row: row.get('error') or ', '.join(row['hooks']) or '-',
                ),
            ],
            title=f'{len(rows)} plugin{"" if len(rows) == 1 else "s"}',
        )
        return table, table


# The `plan` options of each line form, by name (as the line spells them).
_RELEASE_OPTIONS = ('committish', 'title')
_DEPLOY_OPTIONS = ('tag', 'committish', 'status', 'note', 'external_run_id')


def _option(name: str) -> str:
    return '--' + name.replace('_', '-')


def _planned_write(args: argparse.Namespace, cell: str | None) -> typing.Any:
    """The release or deployment a `%imbi plan` line asks for; `None` for a cell.

    Raises:
        UsageError: When the line mixes the forms, or lacks what one needs.
    """
    from imbi_toolkit import bulk

    if args.release and args.deploy:
        raise UsageError('give --release TAG or --deploy ENV, not both: plan one')
    form = '--release' if args.release else '--deploy' if args.deploy else None
    if form is None:
        given = [
            _option(n)
            for n in dict.fromkeys((*_RELEASE_OPTIONS, *_DEPLOY_OPTIONS))
            if getattr(args, n)
        ]
        if given:
            raise UsageError(
                f'{", ".join(given)} go with %imbi plan VAR --release TAG or '
                '--deploy ENV (a %%imbi plan cell gives a patch)'
            )
        if cell is None:
            raise UsageError(
                'plan takes a cell (%%imbi plan VAR [selection], with a JSON Patch '
                'or a function that edits each project) or a line with '
                '--release TAG or --deploy ENV'
            )
        return None
    if cell is not None:
        raise UsageError(
            f'%%imbi plan {form} takes no cell body: use the line form %imbi plan '
            f'VAR {form} ... (a cell plans a patch)'
        )
    allowed = _RELEASE_OPTIONS if args.release else _DEPLOY_OPTIONS
    stray = [
        _option(n)
        for n in dict.fromkeys((*_RELEASE_OPTIONS, *_DEPLOY_OPTIONS))
        if getattr(args, n) and n not in allowed
    ]
    if stray:
        hint = ' (the tag is --release TAG)' if '--tag' in stray else ''
        raise UsageError(f'{", ".join(stray)} do not go with {form}{hint}')
    try:
        if args.release:
            return bulk.CreateRelease(
                {'tag': args.release, **_given(args, *_RELEASE_OPTIONS)}
            )
        if not args.status:
            raise UsageError(
                '--deploy needs --status STATUS: one of '
                + ', '.join(DEPLOYMENT_STATUSES)
            )
        if not args.tag and not args.committish:
            raise UsageError(
                '--deploy needs the release: --tag TAG or --committish SHA'
            )
        return bulk.RecordDeployment(
            args.deploy,
            status=args.status,
            tag=args.tag,
            committish=args.committish,
            note=args.note,
            external_run_id=args.external_run_id,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _given(args: argparse.Namespace, *names: str) -> dict[str, object]:
    """The options among `names` that the line gave, as a request body."""
    return {name: getattr(args, name) for name in names if getattr(args, name)}


def _team_slug(row: JSONObject) -> str | None:
    team = row.get('team')
    return str(team.get('slug')) if isinstance(team, dict) else None


def _is_operation(value: JSONObject) -> bool:
    # A project document has neither key; a JSON Patch operation has both.
    return isinstance(value.get('op'), str) and isinstance(value.get('path'), str)


def _target_from_cell(
    cell: str, snapshot: JSONObject, namespace: dict[str, typing.Any]
) -> tuple[JSONObject, str | None]:
    """The new document a `%%imbi patch` cell asks for, and a note about it.

    The body is a JSON Patch (a list of operations, applied to the
    snapshot), one operation (an object with `op` and `path`, taken as a
    one-operation patch, which the note says), a JSON document, or a Python
    expression evaluated in the user's namespace that gives any of these.
    """
    value = _cell_value(
        cell, namespace, 'patch', 'give a JSON Patch, a document or an expression'
    )
    if isinstance(value, dict) and _is_operation(value):
        return _apply([value], snapshot), (
            'The cell holds one operation, not a document: read as a JSON Patch '
            'of that one operation'
        )
    if isinstance(value, dict):
        return copy.deepcopy(value), None
    if isinstance(value, list):
        return _apply(value, snapshot), None
    raise UsageError(
        f'the cell gave a {type(value).__name__}: give a JSON Patch (a list of '
        'operations) or the new document (a dict)'
    )


def _cell_value(
    cell: str, namespace: dict[str, typing.Any], command: str, expected: str
) -> object:
    """A cell's body as JSON, or else as a Python expression in the namespace."""
    text = cell.strip()
    if not text:
        raise UsageError(f'the cell is empty: {expected}')
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        code = compile(text, f'<%%imbi {command}>', 'eval')
    except SyntaxError as exc:
        raise UsageError(
            f'the cell is neither JSON nor a Python expression: {exc.msg} '
            f'(line {exc.lineno})'
        ) from None
    return eval(code, namespace)  # noqa: S307 - the user's own cell


def _edit_from_cell(cell: str, namespace: dict[str, typing.Any]) -> typing.Any:
    """The edit a `%%imbi plan` cell gives: a JSON Patch or a function."""
    value = _cell_value(
        cell, namespace, 'plan', 'give a JSON Patch or an edit function'
    )
    if isinstance(value, dict) and _is_operation(value):
        value = [value]  # one operation without its list
    if callable(value):
        return value
    if isinstance(value, list) and all(isinstance(op, dict) for op in value):
        return value
    raise UsageError(
        f'the cell gave a {type(value).__name__}: give a JSON Patch (a list of '
        'operations) or a function that edits a project document'
    )


def _apply(ops: list[typing.Any], snapshot: JSONObject) -> JSONObject:
    from imbi_toolkit.patching import Patch, PatchValidationError

    if not all(isinstance(op, dict) for op in ops):
        raise UsageError('a JSON Patch is a list of operations (JSON objects)')
    try:
        patched = Patch(ops).apply(snapshot)
    except PatchValidationError as exc:
        raise UsageError(
            f'the patch does not apply to the snapshot: {exc}'.replace('\n', ' ')
        ) from None
    if not isinstance(patched, dict):
        raise UsageError('the patch must leave a document (a JSON object)')
    return copy.deepcopy(patched)


def _patchable(project: JSONObject) -> JSONObject:
    from imbi_toolkit.patching import patchable

    return patchable(project)


ImbiMagics.imbi.__doc__ = arguments.DOC
