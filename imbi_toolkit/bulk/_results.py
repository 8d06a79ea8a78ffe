"""What a bulk run did to each project: a table for terminals and notebooks."""

from __future__ import annotations

import collections
import dataclasses
import html
import typing
from collections import abc

from imbi_toolkit.api import _redaction as redaction

Status = typing.Literal['ok', 'conflict', 'refused', 'failed', 'skipped']
STATUSES: tuple[Status, ...] = ('ok', 'skipped', 'conflict', 'refused', 'failed')


@dataclasses.dataclass(frozen=True)
class Target:
    """A project to apply an operation to.

    Attributes:
        org_slug: The project's organization slug.
        project_id: The project's id (a Nano ID).
        label: Optional name shown in the result table (e.g. the slug).
    """

    org_slug: str
    project_id: str
    label: str | None = dataclasses.field(default=None, compare=False)

    @classmethod
    def from_project(
        cls, project: abc.Mapping[str, typing.Any], org_slug: str | None = None
    ) -> Target:
        """Make a target from a project as the API lists it.

        Args:
            project: A project (`id`, `slug`, and for the full shape
                `team.organization.slug`).
            org_slug: The organization; needed for `slim=true` listings,
                which do not name it.

        Raises:
            ValueError: When the project has no id or no organization is known.
        """
        project_id = project.get('id')
        if not project_id:
            raise ValueError(f'the project has no "id": {dict(project)!r:.200}')
        if org_slug is None:
            team = project.get('team')
            organization = team.get('organization') if isinstance(team, dict) else None
            if isinstance(organization, dict) and organization.get('slug'):
                org_slug = str(organization['slug'])
        if not org_slug:
            raise ValueError(
                f'project {project_id} does not name its organization '
                '(a slim listing): pass org_slug='
            )
        slug = project.get('slug')
        return cls(org_slug, str(project_id), str(slug) if slug else None)

    @property
    def key(self) -> str:
        """The project's key in the journal."""
        return f'{self.org_slug}/{self.project_id}'

    @property
    def key_pair(self) -> tuple[str, str]:
        """`(org_slug, project_id)`."""
        return self.org_slug, self.project_id

    def __str__(self) -> str:
        return self.label or self.key


@dataclasses.dataclass(frozen=True)
class Result:
    """The outcome for one project.

    Attributes:
        target: The project.
        status: `ok`; `skipped` (done in an earlier run, per the journal);
            `conflict` (409, or a patch `test` op that failed: the project
            changed meanwhile); `refused` (a plugin said no, naming itself;
            nothing was sent); `failed`.
        detail: What happened, in one line (the server's detail on errors).
        http_status: The final HTTP status, when there was a response.
        in_doubt: Whether the write may have happened although it failed
            (the answer was lost); a rerun with the journal checks first.
    """

    target: Target
    status: Status
    detail: str = ''
    http_status: int | None = None
    in_doubt: bool = False


class Results(abc.Sequence[Result]):
    """The results of a bulk run, in the order of the targets.

    Renders as a text table (`str`) and as an HTML table in notebooks.
    """

    def __init__(self, results: abc.Iterable[Result], description: str = '') -> None:
        self._results = list(results)
        self.description = description

    @typing.overload
    def __getitem__(self, index: int) -> Result: ...

    @typing.overload
    def __getitem__(self, index: slice) -> Results: ...

    def __getitem__(self, index: int | slice) -> Result | Results:
        if isinstance(index, slice):
            return Results(self._results[index], self.description)
        return self._results[index]

    def __len__(self) -> int:
        return len(self._results)

    def counts(self) -> dict[str, int]:
        """Number of results per status, every status included."""
        counter = collections.Counter(result.status for result in self._results)
        return {status: counter.get(status, 0) for status in STATUSES}

    def by_status(self, *statuses: Status) -> Results:
        """The results with one of the given statuses."""
        return Results(
            (r for r in self._results if r.status in statuses), self.description
        )

    @property
    def failed(self) -> Results:
        """The failed results (to retry with the same journal)."""
        return self.by_status('failed')

    @property
    def conflicts(self) -> Results:
        """The results that met a conflict."""
        return self.by_status('conflict')

    @property
    def succeeded(self) -> bool:
        """Whether every project is ok (now or in an earlier run)."""
        return all(result.status in ('ok', 'skipped') for result in self._results)

    def summary(self) -> str:
        """One line: the description and the count per status."""
        counts = ', '.join(f'{n} {status}' for status, n in self.counts().items() if n)
        head = f'{self.description}: ' if self.description else ''
        return f'{head}{counts or "nothing to do"}'

    def __repr__(self) -> str:
        return f'<Results {self.summary()}>'

    def _rows(self) -> list[tuple[str, str, str, str]]:
        return [
            (
                str(result.target),
                result.status,
                '' if result.http_status is None else str(result.http_status),
                redaction.redact(result.detail),
            )
            for result in self._results
        ]

    def __str__(self) -> str:
        header = ('project', 'status', 'http', 'detail')
        rows = self._rows()
        widths = [
            max(len(header[i]), *(len(row[i]) for row in rows))
            if rows
            else len(header[i])
            for i in range(3)
        ]
        lines = [self.summary()]
        for row in (header, *rows):
            cells = [row[i].ljust(widths[i]) for i in range(3)]
            lines.append('  '.join((*cells, row[3])).rstrip())
        return '\n'.join(lines)

    def _repr_html_(self) -> str:
        from imbi_toolkit import _html

        # Translucent badges under the theme's own text colour: saturated
        # text colours (dark green on JupyterLab's dark theme) were unreadable.
        badges = {
            'ok': 'rgba(46, 160, 67, 0.25)',
            'skipped': 'rgba(128, 128, 128, 0.2)',
            'conflict': 'rgba(219, 109, 40, 0.3)',
            'refused': 'rgba(163, 113, 247, 0.3)',
            'failed': 'rgba(248, 81, 73, 0.3)',
        }
        body = ''.join(
            _html.tr(
                _html.td(_html.text(project))
                + _html.td(
                    _html.badge(status, badges.get(status, 'transparent')),
                    'white-space: nowrap',
                )
                + _html.td(html.escape(http))
                + _html.td(_html.text(detail))
            )
            for project, status, http, detail in self._rows()
        )
        return f'<p>{html.escape(self.summary())}</p>' + _html.table(
            'imbi-bulk-results', ('project', 'status', 'http', 'detail'), body
        )
