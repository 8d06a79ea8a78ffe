"""Plan a change to many projects, review it, then apply exactly that.

`plan()` reads every project, computes the guarded patch that turns it into
what the edit asks for, and lets the plugins have their say, without
sending anything. The `Plan` renders as a table (per project: what changes,
what it expects to find) with each project's diff, and saves to a JSON file
that reads well in a code review. `apply()` sends exactly the planned
patches, through the journal, progress bar and result table of a bulk run.
Every planned patch carries `test` ops with the values seen at planning
time, so a project that changed since is refused by the server and reported
as a conflict, never overwritten.

Releases and deployments are planned the same way, from a `CreateRelease`
or `RecordDeployment`: the plan holds the exact request (after the
plugins) and what it expects to find (no such release yet; the number of
events on the release's environment), which `apply` checks before sending.

Examples:
    >>> change = await bulk.plan(
    ...     toolkit,
    ...     lambda project: project['links'].update(runbook=RUNBOOK),
    ...     [(org, pid) for pid in project_ids],
    ... )
    >>> change  # review: a table, then each project's diff
    >>> change.save('add-runbook.plan.json')
    >>> results = await bulk.apply(toolkit, bulk.Plan.load('add-runbook.plan.json'))
    >>> release = await bulk.plan(
    ...     toolkit, bulk.CreateRelease({'tag': 'v1.2.3', 'committish': 'abc1234'}),
    ...     targets,
    ... )
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import hashlib
import html
import json
import os
import pathlib
import typing
from collections import abc

from imbi_toolkit.api import errors
from imbi_toolkit.bulk import _pool
from imbi_toolkit.bulk._operations import (
    ApplyPatch,
    CreateRelease,
    Operation,
    RecordDeployment,
    Started,
)
from imbi_toolkit.bulk._results import Result, Results, Target
from imbi_toolkit.bulk._runner import (
    DEFAULT_CONCURRENCY,
    TargetLike,
    named_by_slug,
    progress_bar,
    run,
    targets_of,
)
from imbi_toolkit.plugins.errors import PluginError
from imbi_toolkit.types import JSONObject, JSONPatch

if typing.TYPE_CHECKING:
    from imbi_toolkit.api import Imbi
    from imbi_toolkit.operations import Toolkit

FORMAT = 'imbi-toolkit plan'
#: Version 2 names each project's `kind`; version-1 files (patches) still load.
VERSION = 2
_READABLE_VERSIONS = (1, 2)

#: An edit: a JSON Patch applied to each project's patchable document, or a
#: function given a copy of that document, which changes it in place or
#: returns the new document.
Edit = JSONPatch | abc.Callable[[JSONObject], JSONObject | None]

#: What a plan can do: an edit, or one release or deployment per project.
What = Edit | CreateRelease | RecordDeployment

PlanStatus = typing.Literal['change', 'unchanged', 'refused', 'failed']
PlanKind = typing.Literal['patch', 'release', 'deployment']

# How a status reads in a plan's summary line ("3 to change, 1 unchanged").
_SUMMARY_WORDS = {'change': 'to change'}

# How many projects a rendering lists in full (a plan may have thousands).
_SHOWN = 50
_DIFFS_SHOWN = 10


@dataclasses.dataclass(frozen=True)
class PlannedChange:
    """What a plan does to one project.

    Attributes:
        target: The project.
        status: `change` (a write to send), `unchanged` (already as asked),
            `refused` (a plugin said no), `failed` (the project could not be
            read, or the change cannot be made to it).
        patch: For a patch: the exact operations `apply` sends, guards
            included.
        note: Why, for `unchanged`, `refused` and `failed`.
        kind: `patch`, `release` or `deployment`.
        request: For a release: the exact body `apply` sends (after the
            plugins). For a deployment: `env_slug`, `release_id` (resolved
            when planned), the `tag`/`committish` that named the release,
            and the exact `event` body.
        expected: For a release or deployment: what `apply` expects to find
            before sending (see `expects`).
    """

    target: Target
    status: PlanStatus
    patch: JSONPatch = dataclasses.field(default_factory=list)
    note: str = ''
    kind: PlanKind = 'patch'
    request: JSONObject = dataclasses.field(default_factory=dict)
    expected: JSONObject = dataclasses.field(default_factory=dict)

    @property
    def expects(self) -> dict[str, typing.Any]:
        """What must still hold when the change is applied.

        For a patch, the current values it expects: its `test` ops, by
        path. For a release, `{'release': None}`: no release with its tag
        (or, untagged, its commit) yet. For a deployment, `{'events': N}`:
        the number of events of the release in the environment.
        """
        if self.kind != 'patch':
            return dict(self.expected)
        return {op['path']: op.get('value') for op in self.patch if op['op'] == 'test'}

    def counts(self) -> dict[str, int]:
        """Operations per kind (`replace`, `add`, `remove`...), guards apart."""
        counts: dict[str, int] = {}
        for op in self.patch:
            kind = 'guard' if op['op'] == 'test' else str(op['op'])
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    def operation(self) -> str:
        """What is sent, in a few words (the `operations` column)."""
        request = self.request
        if self.kind == 'release' and request:
            name = request.get('tag') or request.get('committish')
            commit = request.get('committish')
            suffix = f' ({commit})' if commit and commit != name else ''
            return f'create release {name}{suffix}'
        if self.kind == 'deployment' and request:
            event = request.get('event') or {}
            name = request.get('tag') or request.get('committish')
            return f'deploy {name} to {request.get("env_slug")} ({event.get("status")})'
        return ', '.join(f'{n} {kind}' for kind, n in self.counts().items())

    def expects_text(self) -> str:
        """`expects` in words (the `expects` column of a release or deployment)."""
        if self.kind == 'patch' or not self.expected:
            return ''
        if self.kind == 'release':
            name = self.request.get('tag') or self.request.get('committish')
            return f'no release {name} yet'
        count = self.expected.get('events')
        env = self.request.get('env_slug')
        return f'{count} event{"" if count == 1 else "s"} in {env}'

    def to_json(self) -> JSONObject:
        """The JSON form of the change (as saved in a plan file)."""
        data: JSONObject = {
            'org_slug': self.target.org_slug,
            'project_id': self.target.project_id,
            'label': self.target.label,
            'kind': self.kind,
            'status': self.status,
        }
        if self.kind == 'patch':
            if self.patch:
                data['expects'] = self.expects
                data['patch'] = self.patch
        elif self.request:
            data['expects'] = self.expected
            data[self.kind] = self.request
        if self.note:
            data['note'] = self.note
        return data

    @classmethod
    def from_json(cls, data: abc.Mapping[str, typing.Any]) -> PlannedChange:
        """Read a change back from its JSON form (a version-1 entry is a patch)."""
        target = Target(
            str(data['org_slug']), str(data['project_id']), data.get('label')
        )
        status = data.get('status')
        if status not in typing.get_args(PlanStatus):
            raise ValueError(f'unknown plan status {status!r} for {target}')
        kind = data.get('kind', 'patch')
        if kind not in typing.get_args(PlanKind):
            raise ValueError(
                f'unknown plan kind {kind!r} for {target}: use one of '
                + ', '.join(typing.get_args(PlanKind))
            )
        note = str(data.get('note') or '')
        if kind != 'patch':
            request = data.get(kind) or {}
            expected = data.get('expects') or {}
            if not isinstance(request, dict) or not isinstance(expected, dict):
                raise ValueError(f'the {kind} of {target} is not a JSON object')
            if status == 'change':
                _check_request(kind, request, expected, target)
            return cls(
                target,
                typing.cast(PlanStatus, status),
                note=note,
                kind=typing.cast(PlanKind, kind),
                request=request,
                expected=expected,
            )
        patch = data.get('patch') or []
        if not isinstance(patch, list) or not all(isinstance(op, dict) for op in patch):
            raise ValueError(f'the patch of {target} is not a list of operations')
        return cls(target, typing.cast(PlanStatus, status), patch, note)

    def _sent(self) -> typing.Any:
        """What `apply` sends and checks: the fingerprint covers exactly this."""
        if self.kind == 'patch':
            return self.patch  # as in version 1, so its fingerprints still match
        return {'kind': self.kind, 'request': self.request, 'expects': self.expected}


def _check_request(
    kind: str, request: JSONObject, expected: JSONObject, target: Target
) -> None:
    """Refuse a planned release or deployment that `apply` could not send."""
    if kind == 'release':
        if not request.get('committish') and not request.get('tag'):
            raise ValueError(f'the release of {target} has no committish or tag')
        return
    event = request.get('event')
    if (
        not isinstance(event, dict)
        or not request.get('env_slug')
        or not request.get('release_id')
        or not (request.get('tag') or request.get('committish'))
        or not isinstance(expected.get('events'), int)
    ):
        raise ValueError(
            f'the deployment of {target} needs env_slug, release_id, tag or '
            'committish, an event and the number of events it expects'
        )


class Plan(abc.Sequence[PlannedChange]):
    """A reviewed change to many projects; `apply()` sends exactly this.

    Args:
        changes: One `PlannedChange` per project, in the order planned.
        description: What the change is for (shown in tables and files).
        created_at: When it was planned (now by default).
    """

    def __init__(
        self,
        changes: abc.Iterable[PlannedChange],
        description: str = '',
        created_at: datetime.datetime | None = None,
    ) -> None:
        self._changes = list(changes)
        self.description = description
        self.created_at = created_at or datetime.datetime.now(datetime.UTC)

    @typing.overload
    def __getitem__(self, index: int) -> PlannedChange: ...

    @typing.overload
    def __getitem__(self, index: slice) -> list[PlannedChange]: ...

    def __getitem__(self, index: int | slice) -> PlannedChange | list[PlannedChange]:
        return self._changes[index]

    def __len__(self) -> int:
        return len(self._changes)

    @property
    def changes(self) -> list[PlannedChange]:
        """The projects with something to send."""
        return [change for change in self._changes if change.status == 'change']

    def counts(self) -> dict[str, int]:
        """Projects per status."""
        return {
            status: sum(1 for change in self._changes if change.status == status)
            for status in typing.get_args(PlanStatus)
        }

    def fingerprint(self) -> str:
        """A digest of exactly what `apply` would send (the journal's key)."""
        payload = json.dumps(
            [
                [change.target.key, change._sent()]
                for change in self._changes
                if change.status == 'change'
            ],
            sort_keys=True,
            separators=(',', ':'),
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    def summary(self) -> str:
        """One line: the description and the projects per status."""
        counts = ', '.join(
            f'{n} {_SUMMARY_WORDS.get(status, status)}'
            for status, n in self.counts().items()
            if n
        )
        head = f'{self.description}: ' if self.description else ''
        return f'Plan {head}{counts or "no projects"}'

    # -- files ---------------------------------------------------------------

    def to_json(self) -> JSONObject:
        """The plan as a JSON object (see `save`)."""
        return {
            'format': FORMAT,
            'version': VERSION,
            'description': self.description,
            'created_at': self.created_at.isoformat(timespec='seconds'),
            'fingerprint': self.fingerprint(),
            'counts': self.counts(),
            'projects': [change.to_json() for change in self._changes],
        }

    def save(self, path: str | os.PathLike[str]) -> pathlib.Path:
        """Write the plan as indented JSON, one project after another.

        Returns:
            The path written.
        """
        target = pathlib.Path(path)
        target.write_text(
            json.dumps(self.to_json(), indent=2, ensure_ascii=False) + '\n'
        )
        return target

    @classmethod
    def from_json(cls, data: abc.Mapping[str, typing.Any]) -> Plan:
        """Read a plan from its JSON form.

        Raises:
            ValueError: When it is not a plan, or was edited so that its
                patches no longer match its fingerprint.
        """
        if data.get('format') != FORMAT or data.get('version') not in (
            _READABLE_VERSIONS
        ):
            raise ValueError(
                f'not an imbi-toolkit plan (format {FORMAT!r}, version 1 to {VERSION})'
            )
        if data.get('version') == 1 and any(
            isinstance(item, dict) and item.get('kind', 'patch') != 'patch'
            for item in data.get('projects') or []
        ):
            raise ValueError('a version-1 plan holds patches only')
        created = datetime.datetime.fromisoformat(str(data['created_at']))
        plan = cls(
            (PlannedChange.from_json(item) for item in data.get('projects') or []),
            str(data.get('description') or ''),
            created,
        )
        if data.get('fingerprint') != plan.fingerprint():
            raise ValueError(
                "the plan's changes do not match its fingerprint: it was edited "
                'after planning. Plan the change again instead of editing the file'
            )
        return plan

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Plan:
        """Read a plan saved with `save`.

        Raises:
            ValueError: When the file is not a plan, or was edited.
            OSError: When the file cannot be read.
        """
        try:
            data = json.loads(pathlib.Path(path).read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f'{os.fspath(path)} is not JSON: {exc}') from None
        if not isinstance(data, dict):
            raise ValueError(f'{os.fspath(path)} is not an imbi-toolkit plan')
        return cls.from_json(data)

    # -- rendering -----------------------------------------------------------

    def _headers(self) -> tuple[str, ...]:
        # A patch's expectations are its guards, shown in its diff; a
        # release's or deployment's get a column of their own.
        if all(change.kind == 'patch' for change in self._changes):
            return ('project', 'status', 'operations', 'note')
        return ('project', 'status', 'operations', 'expects', 'note')

    def _rows(self) -> list[tuple[str, ...]]:
        with_expects = len(self._headers()) == 5
        rows: list[tuple[str, ...]] = []
        for change in self._changes[:_SHOWN]:
            row = [str(change.target), change.status, change.operation()]
            if with_expects:
                row.append(change.expects_text())
            rows.append((*row, change.note))
        return rows

    def _more(self) -> str:
        hidden = len(self._changes) - _SHOWN
        return (
            f'… and {hidden} more project{"" if hidden == 1 else "s"}'
            if hidden > 0
            else ''
        )

    def _details(self) -> list[tuple[PlannedChange, str | None]]:
        """The first changes, each with its request as JSON (`None`: a diff)."""
        return [
            (
                change,
                None
                if change.kind == 'patch'
                else json.dumps(change.request, indent=2, ensure_ascii=False),
            )
            for change in self.changes[:_DIFFS_SHOWN]
        ]

    def __repr__(self) -> str:
        return f'<{self.summary()}>'

    def __str__(self) -> str:
        headers = self._headers()
        rows = [headers, *self._rows()]
        last = len(headers) - 1
        widths = [max(len(row[i]) for row in rows) for i in range(last)]
        lines = [self.summary()]
        lines += [
            '  '.join(
                [*(row[i].ljust(widths[i]) for i in range(last)), row[last]]
            ).rstrip()
            for row in rows
        ]
        if self._more():
            lines.append(self._more())
        for change, request in self._details():
            shown = str(_preview(change)) if request is None else request
            lines += ['', f'{change.target}:', shown]
        return '\n'.join(lines)

    def _repr_markdown_(self) -> str:
        def cell(text: str) -> str:
            return html.escape(text).replace('|', '\\|')

        headers = self._headers()
        lines = [
            f'**{cell(self.summary())}**',
            '',
            f'| {" | ".join(headers)} |',
            '|' + ':--|' * len(headers),
        ]
        lines += [f'| {" | ".join(cell(v) for v in row)} |' for row in self._rows()]
        if self._more():
            lines += ['', self._more()]
        return '\n'.join(lines)

    def _repr_html_(self) -> str:
        from imbi_toolkit import _html

        body = ''.join(
            _html.tr(''.join(_html.td(_html.text(value)) for value in row))
            for row in self._rows()
        )
        parts = [
            f'<p><strong>{html.escape(self.summary())}</strong></p>',
            _html.table('imbi-plan', self._headers(), body),
        ]
        if self._more():
            parts.append(f'<p>{html.escape(self._more())}</p>')
        for change, request in self._details():
            parts.append(f'<p>{html.escape(str(change.target))}</p>')
            if request is None:
                parts.append(_preview(change)._repr_html_())
            else:
                parts.append(f'<p>{_html.code(request)}</p>')
        return ''.join(parts)


def _preview(change: PlannedChange) -> typing.Any:
    from imbi_toolkit.patching import Preview

    return Preview(change.patch)


# -- planning ------------------------------------------------------------------


def _copy(value: typing.Any) -> typing.Any:
    # A JSON document holds only dicts, lists and immutable scalars: copying
    # those alone takes a fifth of `copy.deepcopy`'s time, which also keeps a
    # memo of every object. Exact types first (most values): `type() is`
    # costs less than `isinstance`.
    kind = type(value)
    if kind is dict:
        return {key: _copy(item) for key, item in value.items()}
    if kind is list:
        return [_copy(item) for item in value]
    if kind in _IMMUTABLE:
        return value
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if isinstance(value, tuple):  # not JSON, but an edit may have left one
        return copy.deepcopy(value)
    return value


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


def _edited(edit: Edit, document: JSONObject) -> JSONObject:
    if callable(edit):
        draft = typing.cast(JSONObject, _copy(document))
        returned = edit(draft)
        result = draft if returned is None else returned
        if not isinstance(result, dict):
            raise TypeError(
                f'the edit returned a {type(result).__name__}: change the document '
                'in place or return the new document (a dict)'
            )
        return result
    from imbi_toolkit.patching import Patch

    patched = Patch(edit).apply(document)
    if not isinstance(patched, dict):
        raise TypeError('the patch must leave a document (a JSON object)')
    return patched


async def plan(
    client: Imbi | Toolkit,
    what: What,
    targets: abc.Iterable[TargetLike],
    *,
    description: str = '',
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool = True,
) -> Plan:
    """Plan an edit, a release or a deployment of many projects, sending nothing.

    For an edit, for each project: read it, apply the edit to its patchable
    document, compute the guarded patch (`patching.diff(..., tests=True)`),
    and run the plugins' `imbi_before_project_patch` on it
    (`Toolkit.prepare_patch`).

    For a `CreateRelease`: run `imbi_before_release_create` on the body
    (`Toolkit.prepare_release`) and look the release up: none yet is a
    change (expecting none at apply time); one of the same commit is
    `unchanged`; one of another commit has `failed` (its note names both
    commits).

    For a `RecordDeployment`: find the release (none has `failed`: create or
    plan the release first), run `imbi_before_deployment_event`
    (`Toolkit.prepare_deployment`) and count the events the release has in
    the environment; `apply` sends the event only while that count holds.
    An event with the same `external_run_id`, status and note, on a server
    that keeps one event per run id (2.18 and later), is `unchanged`.

    Args:
        client: The client, or the `Toolkit` around it.
        what: A JSON Patch for every project, a function that edits a
            copy of each project's patchable document, a `CreateRelease` or
            a `RecordDeployment`.
        targets: The projects, as `Target`s or `(org_slug, project_id)`.
        description: What the change is for (shown in tables and files);
            a release's or deployment's is described by default.
        concurrency: How many projects are read at once.
        progress: Show a progress bar (a widget in Jupyter).

    Returns:
        The plan; nothing was sent.
    """
    from imbi_toolkit.operations import Toolkit

    if concurrency < 1:
        raise ValueError('concurrency must be at least 1')
    toolkit = client if isinstance(client, Toolkit) else Toolkit(client)
    projects = targets_of(targets)
    one: abc.Callable[[Target], abc.Awaitable[PlannedChange]]
    if isinstance(what, CreateRelease):
        release = what

        async def one(target: Target) -> PlannedChange:
            return await _plan_release(toolkit, release, target)

        description = description or what.describe()
    elif isinstance(what, RecordDeployment):
        deployment = what

        async def one(target: Target) -> PlannedChange:
            return await _plan_deployment(toolkit, deployment, target)

        description = description or what.describe()
    elif isinstance(what, Operation):
        raise TypeError(
            f'{type(what).__name__} cannot be planned: plan a JSON Patch or an '
            'edit function (not an ApplyPatch), a CreateRelease or a '
            'RecordDeployment'
        )
    else:
        from imbi_toolkit.patching import patchable
        from imbi_toolkit.patching._diff import diff_patchable as diff

        edit = what
        if isinstance(edit, list):
            from imbi_toolkit.patching import validate

            validate(edit)  # a malformed patch fails once, not once per project

        async def one(target: Target) -> PlannedChange:
            return await _plan_one(toolkit, edit, target, diff, patchable)

    changes: list[PlannedChange | None] = [None] * len(projects)
    bar = progress_bar(len(projects), 'plan', enabled=progress)

    async def work(index: int, target: Target) -> None:
        changes[index] = await one(target)
        if progress:
            bar.update(1)

    try:
        await _pool.each(projects, work, concurrency)
    finally:
        bar.close()
    planned = typing.cast(list[PlannedChange], changes)
    # A patch's plan reads each project and names it; a release's or a
    # deployment's does not read it: a listing names those.
    return Plan(await named_by_slug(toolkit, planned), description)


async def _plan_release(
    toolkit: Toolkit, release: CreateRelease, target: Target
) -> PlannedChange:
    org_slug, project_id = target.key_pair
    try:
        body = await toolkit.prepare_release(org_slug, project_id, release.body)
    except PluginError as error:
        return PlannedChange(target, 'refused', note=str(error), kind='release')
    try:
        existing = await toolkit.existing_release(org_slug, project_id, body)
    except errors.ReleaseMismatchError as error:
        return PlannedChange(target, 'failed', note=str(error), kind='release')
    except errors.ImbiError as error:
        return PlannedChange(
            target,
            'failed',
            note=f'could not read its releases: {error}',
            kind='release',
        )
    if existing is not None:
        name = existing.get('tag') or existing.get('committish')
        return PlannedChange(
            target,
            'unchanged',
            note=f'release {name} ({existing.get("committish")}) is already '
            f'there: id {existing.get("id")}',
            kind='release',
        )
    return PlannedChange(
        target, 'change', kind='release', request=body, expected={'release': None}
    )


async def _plan_deployment(
    toolkit: Toolkit, deployment: RecordDeployment, target: Target
) -> PlannedChange:
    org_slug, project_id = target.key_pair
    env_slug = deployment.env_slug
    try:
        release_id = await toolkit.resolve_release_id(
            org_slug, project_id, tag=deployment.tag, committish=deployment.committish
        )
    except errors.ReleaseNotFoundError as error:
        return PlannedChange(
            target,
            'failed',
            note=f'{error} (or plan the release, apply it, then plan this)',
            kind='deployment',
        )
    except errors.ImbiError as error:
        return PlannedChange(
            target,
            'failed',
            note=f'could not read its releases: {error}',
            kind='deployment',
        )
    try:
        event = await toolkit.prepare_deployment(
            org_slug, project_id, env_slug, deployment._body(), release_id=release_id
        )
    except PluginError as error:
        return PlannedChange(target, 'refused', note=str(error), kind='deployment')
    except ValueError as error:  # the plugins left a status the API refuses
        return PlannedChange(target, 'failed', note=str(error), kind='deployment')
    try:
        events = await toolkit.deployment_events(
            org_slug, project_id, release_id, env_slug
        )
        repeat = await toolkit.recorded_event(events, event)
    except errors.ImbiError as error:
        return PlannedChange(
            target,
            'failed',
            note=f'could not read its deployments: {error}',
            kind='deployment',
        )
    if repeat is not None:
        return PlannedChange(
            target,
            'unchanged',
            note=f'run {event.get("external_run_id")} is already recorded in '
            f'{env_slug} ({repeat.get("status")})',
            kind='deployment',
        )
    request: JSONObject = {'env_slug': env_slug, 'release_id': release_id}
    if deployment.tag:
        request['tag'] = deployment.tag
    if deployment.committish:
        request['committish'] = deployment.committish
    request['event'] = event
    return PlannedChange(
        target,
        'change',
        kind='deployment',
        request=request,
        expected={'events': len(events)},
    )


async def _plan_one(
    toolkit: Toolkit,
    edit: Edit,
    target: Target,
    diff: abc.Callable[..., JSONPatch],
    patchable: abc.Callable[[JSONObject], JSONObject],
) -> PlannedChange:
    try:
        project = await toolkit.client.get_project(target.org_slug, target.project_id)
    except errors.ImbiError as error:
        return PlannedChange(target, 'failed', note=f'could not read it: {error}')
    if target.label is None and project.get('slug'):
        target = dataclasses.replace(target, label=str(project['slug']))
    before = patchable(project)
    try:
        # `before` is patchable already: no second translation of it.
        planned = diff(before, _edited(edit, before), tests=True)
    except (TypeError, ValueError) as error:
        return PlannedChange(target, 'failed', note=f'the edit failed: {error}')
    if not planned:
        return PlannedChange(target, 'unchanged')
    try:
        # `diff` validated its operations; its guards are built well-formed.
        prepared = await toolkit.prepare_patch(
            target.org_slug, target.project_id, planned, validated=True
        )
    except PluginError as error:
        return PlannedChange(target, 'refused', note=str(error))
    except ValueError as error:  # the plugins left an invalid patch
        return PlannedChange(target, 'failed', note=str(error))
    return PlannedChange(target, 'change', prepared)


# -- applying ------------------------------------------------------------------


class ApplyPlan(Operation):
    """Send each project's planned write, exactly (see `apply`)."""

    kind = 'plan'

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._changes = {change.target.key: change for change in plan.changes}

    def spec(self) -> JSONObject:
        return {'fingerprint': self.plan.fingerprint()}

    def describe(self) -> str:
        return self.plan.description or 'apply plan'

    def journal_ahead(self, target: Target) -> bool:
        return self._operation_of(target).journal_ahead(target)

    def _operation_of(self, target: Target) -> Operation:
        # The bulk operations' own apply and reconcile, so a plan's writes are
        # journaled and checked after an interruption exactly as theirs are.
        change = self._changes[target.key]
        request = change.request
        if change.kind == 'release':
            return CreateRelease._planned(request)
        if change.kind == 'deployment':
            return RecordDeployment._planned(
                str(request['env_slug']),
                typing.cast(JSONObject, request['event']),
                release_id=str(request['release_id']),
                events=int(change.expected['events']),
                tag=request.get('tag'),
                committish=request.get('committish'),
            )
        return ApplyPatch._planned(change.patch)

    async def apply(self, toolkit: Toolkit, target: Target, started: Started) -> Result:
        result = await self._operation_of(target).apply(toolkit, target, started)
        if result.status == 'conflict' and 'since it was planned' not in result.detail:
            return dataclasses.replace(
                result,
                detail=f'changed since it was planned, so nothing was overwritten '
                f'(plan it again): {result.detail}',
            )
        return result

    async def reconcile(
        self, toolkit: Toolkit, target: Target, data: JSONObject
    ) -> Result | None:
        return await self._operation_of(target).reconcile(toolkit, target, data)


async def apply(
    client: Imbi | Toolkit,
    plan: Plan,
    *,
    journal: str | os.PathLike[str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool = True,
) -> Results:
    """Send exactly the planned writes, and report what happened to each.

    A project whose planned patch, release or event a plugin would now
    change is refused (nothing sent). One that changed since planning is
    reported as a conflict, never overwritten: a patch fails its guards; a
    release created meanwhile with another commit is refused (one with the
    same commit is `ok`, already there); a deployment is not sent when the
    release's environment has another number of events than planned.
    Rerun with the same journal to finish after an interruption, as with
    `run`.

    Args:
        client: The client, or the `Toolkit` around it.
        plan: The reviewed plan (from `plan` or `Plan.load`).
        journal: Path of the journal file (JSON lines), created if missing.
        concurrency: How many projects are worked on at once.
        progress: Show a progress bar (a widget in Jupyter).

    Returns:
        The results of the projects the plan changes, in plan order.
    """
    return await run(
        client,
        ApplyPlan(plan),
        [change.target for change in plan.changes],
        journal=journal,
        concurrency=concurrency,
        progress=progress,
    )
