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

Examples:
    >>> change = await bulk.plan(
    ...     toolkit,
    ...     lambda project: project['links'].update(runbook=RUNBOOK),
    ...     [(org, pid) for pid in project_ids],
    ... )
    >>> change  # review: a table, then each project's diff
    >>> change.save('add-runbook.plan.json')
    >>> results = await bulk.apply(toolkit, bulk.Plan.load('add-runbook.plan.json'))
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
from imbi_toolkit.bulk._operations import ApplyPatch, Operation, Started
from imbi_toolkit.bulk._results import Result, Results, Target
from imbi_toolkit.bulk._runner import (
    DEFAULT_CONCURRENCY,
    TargetLike,
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
VERSION = 1

#: An edit: a JSON Patch applied to each project's patchable document, or a
#: function given a copy of that document, which changes it in place or
#: returns the new document.
Edit = JSONPatch | abc.Callable[[JSONObject], JSONObject | None]

PlanStatus = typing.Literal['change', 'unchanged', 'refused', 'failed']

# How many projects a rendering lists in full (a plan may have thousands).
_SHOWN = 50
_DIFFS_SHOWN = 10


@dataclasses.dataclass(frozen=True)
class PlannedChange:
    """What a plan does to one project.

    Attributes:
        target: The project.
        status: `change` (a patch to send), `unchanged` (already as asked),
            `refused` (a plugin said no), `failed` (the project could not be
            read, or the edit failed on it).
        patch: The exact operations `apply` sends, guards included.
        note: Why, for `refused` and `failed`.
    """

    target: Target
    status: PlanStatus
    patch: JSONPatch = dataclasses.field(default_factory=list)
    note: str = ''

    @property
    def expects(self) -> dict[str, typing.Any]:
        """The current values the patch expects: its `test` ops, by path."""
        return {op['path']: op.get('value') for op in self.patch if op['op'] == 'test'}

    def counts(self) -> dict[str, int]:
        """Operations per kind (`replace`, `add`, `remove`...), guards apart."""
        counts: dict[str, int] = {}
        for op in self.patch:
            kind = 'guard' if op['op'] == 'test' else str(op['op'])
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    def to_json(self) -> JSONObject:
        """The JSON form of the change (as saved in a plan file)."""
        data: JSONObject = {
            'org_slug': self.target.org_slug,
            'project_id': self.target.project_id,
            'label': self.target.label,
            'status': self.status,
        }
        if self.patch:
            data['expects'] = self.expects
            data['patch'] = self.patch
        if self.note:
            data['note'] = self.note
        return data

    @classmethod
    def from_json(cls, data: abc.Mapping[str, typing.Any]) -> PlannedChange:
        """Read a change back from its JSON form."""
        target = Target(
            str(data['org_slug']), str(data['project_id']), data.get('label')
        )
        status = data.get('status')
        if status not in typing.get_args(PlanStatus):
            raise ValueError(f'unknown plan status {status!r} for {target}')
        patch = data.get('patch') or []
        if not isinstance(patch, list) or not all(isinstance(op, dict) for op in patch):
            raise ValueError(f'the patch of {target} is not a list of operations')
        return cls(
            target, typing.cast(PlanStatus, status), patch, str(data.get('note') or '')
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
        """The projects with a patch to send."""
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
                [change.target.key, change.patch]
                for change in self._changes
                if change.status == 'change'
            ],
            sort_keys=True,
            separators=(',', ':'),
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    def summary(self) -> str:
        """One line: the description and the projects per status."""
        counts = ', '.join(f'{n} {status}' for status, n in self.counts().items() if n)
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
        if data.get('format') != FORMAT or data.get('version') != VERSION:
            raise ValueError(
                f'not an imbi-toolkit plan (format {FORMAT!r}, version {VERSION})'
            )
        created = datetime.datetime.fromisoformat(str(data['created_at']))
        plan = cls(
            (PlannedChange.from_json(item) for item in data.get('projects') or []),
            str(data.get('description') or ''),
            created,
        )
        if data.get('fingerprint') != plan.fingerprint():
            raise ValueError(
                "the plan's patches do not match its fingerprint: it was edited "
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

    def _rows(self) -> list[tuple[str, str, str, str]]:
        rows: list[tuple[str, str, str, str]] = []
        for change in self._changes[:_SHOWN]:
            counts = ', '.join(f'{n} {kind}' for kind, n in change.counts().items())
            rows.append((str(change.target), change.status, counts, change.note))
        return rows

    def _more(self) -> str:
        hidden = len(self._changes) - _SHOWN
        return (
            f'… and {hidden} more project{"" if hidden == 1 else "s"}'
            if hidden > 0
            else ''
        )

    def __repr__(self) -> str:
        return f'<{self.summary()}>'

    def __str__(self) -> str:
        header = ('project', 'status', 'operations', 'note')
        rows = [header, *self._rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [self.summary()]
        lines += [
            '  '.join([*(row[i].ljust(widths[i]) for i in range(3)), row[3]]).rstrip()
            for row in rows
        ]
        if self._more():
            lines.append(self._more())
        for change in self.changes[:_DIFFS_SHOWN]:
            lines += ['', f'{change.target}:', str(_preview(change))]
        return '\n'.join(lines)

    def _repr_markdown_(self) -> str:
        def cell(text: str) -> str:
            return html.escape(text).replace('|', '\\|')

        lines = [
            f'**{cell(self.summary())}**',
            '',
            '| project | status | operations | note |',
            '|:--|:--|:--|:--|',
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
            _html.table('imbi-plan', ('project', 'status', 'operations', 'note'), body),
        ]
        if self._more():
            parts.append(f'<p>{html.escape(self._more())}</p>')
        for change in self.changes[:_DIFFS_SHOWN]:
            parts.append(f'<p>{html.escape(str(change.target))}</p>')
            parts.append(_preview(change)._repr_html_())
        return ''.join(parts)


def _preview(change: PlannedChange) -> typing.Any:
    from imbi_toolkit.patching import Preview

    return Preview(change.patch)


# -- planning ------------------------------------------------------------------


def _copy(value: typing.Any) -> typing.Any:
    # A JSON document holds only dicts, lists and immutable scalars: copying
    # those alone takes a fifth of `copy.deepcopy`'s time, which also keeps a
    # memo of every object (~20 us of the ~120 us a project takes to plan).
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if isinstance(value, tuple):  # not JSON, but an edit may have left one
        return copy.deepcopy(value)
    return value


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
    edit: Edit,
    targets: abc.Iterable[TargetLike],
    *,
    description: str = '',
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool = True,
) -> Plan:
    """Plan an edit of many projects without sending anything.

    For each project: read it, apply the edit to its patchable document,
    compute the guarded patch (`patching.diff(..., tests=True)`), and run the
    plugins' `imbi_before_project_patch` on it (`Toolkit.prepare_patch`).

    Args:
        client: The client, or the `Toolkit` around it.
        edit: A JSON Patch for every project, or a function that edits a
            copy of each project's patchable document.
        targets: The projects, as `Target`s or `(org_slug, project_id)`.
        description: What the change is for (shown in tables and files).
        concurrency: How many projects are read at once.
        progress: Show a progress bar (a widget in Jupyter).

    Returns:
        The plan; nothing was sent.
    """
    from imbi_toolkit.operations import Toolkit
    from imbi_toolkit.patching import diff, patchable

    if concurrency < 1:
        raise ValueError('concurrency must be at least 1')
    toolkit = client if isinstance(client, Toolkit) else Toolkit(client)
    projects = targets_of(targets)
    if isinstance(edit, list):
        from imbi_toolkit.patching import validate

        validate(edit)  # a malformed patch fails once, not once per project
    changes: list[PlannedChange | None] = [None] * len(projects)
    bar = progress_bar(len(projects), 'plan', enabled=progress)

    async def work(index: int, target: Target) -> None:
        changes[index] = await _plan_one(toolkit, edit, target, diff, patchable)
        if progress:
            bar.update(1)

    try:
        await _pool.each(projects, work, concurrency)
    finally:
        bar.close()
    return Plan(typing.cast(list[PlannedChange], changes), description)


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
        planned = list(diff(before, _edited(edit, before), tests=True))
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
    """Send each project's planned patch, exactly (see `apply`)."""

    kind = 'plan'

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._patches = {change.target.key: change.patch for change in plan.changes}

    def spec(self) -> JSONObject:
        return {'fingerprint': self.plan.fingerprint()}

    def describe(self) -> str:
        return self.plan.description or 'apply plan'

    def journal_ahead(self, target: Target) -> bool:
        return self._patch_of(target).journal_ahead(target)

    def _patch_of(self, target: Target) -> ApplyPatch:
        return ApplyPatch._planned(self._patches[target.key])

    async def apply(self, toolkit: Toolkit, target: Target, started: Started) -> Result:
        result = await self._patch_of(target).apply(toolkit, target, started)
        if result.status == 'conflict':
            return dataclasses.replace(
                result,
                detail=f'changed since it was planned, so nothing was overwritten '
                f'(plan it again): {result.detail}',
            )
        return result

    async def reconcile(
        self, toolkit: Toolkit, target: Target, data: JSONObject
    ) -> Result | None:
        return await self._patch_of(target).reconcile(toolkit, target, data)


async def apply(
    client: Imbi | Toolkit,
    plan: Plan,
    *,
    journal: str | os.PathLike[str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool = True,
) -> Results:
    """Send exactly the planned patches, and report what happened to each.

    A project whose planned patch a plugin would now change is refused
    (nothing sent); one that changed since planning fails its guards and is
    reported as a conflict. Rerun with the same journal to finish after an
    interruption, as with `run`.

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
