"""What a session wrote through the toolkit, and how to take a patch back."""

from __future__ import annotations

import dataclasses
import datetime
import threading
import typing
from collections import abc

from imbi_toolkit.errors import ToolkitError
from imbi_toolkit.types import JSONObject, JSONPatch

Kind = typing.Literal['patch', 'release', 'deployment']

# What can be taken back, by kind of write (docs/imbi-api.md#releases-create,
# docs/imbi-api.md#deployment-events).
_IRREVERSIBLE: dict[str, str] = {
    'release': (
        'a release cannot be taken back: the API has no way to delete one. '
        'Create a release with a new tag for the right commit instead'
    ),
    'deployment': (
        'a deployment event cannot be taken back: the API keeps every event. '
        'Record a new event instead (e.g. status rolled_back, or a deployment '
        'of the release that should be current)'
    ),
}


class NotUndoableError(ToolkitError, LookupError):
    """The write asked for cannot be taken back (or does not exist)."""


@dataclasses.dataclass(frozen=True)
class HistoryEntry:
    """One write made through the toolkit.

    Attributes:
        number: Its position in the history, from 1.
        kind: `patch`, `release` or `deployment`.
        org_slug: The organization.
        project_id: The project.
        sent: What was sent (the patch's operations, or the body).
        answer: The server's answer (the project after a patch, the
            release, the environment edge).
        before: For a patch, the patchable document before it.
        after: For a patch, the patchable document after it.
        at: When it was written (UTC).
        label: How the project is shown (its slug, when known).
        undoes: The number of the entry this one took back, if any.
    """

    number: int
    kind: Kind
    org_slug: str
    project_id: str
    sent: typing.Any
    answer: JSONObject
    before: JSONObject | None = None
    after: JSONObject | None = None
    at: datetime.datetime = dataclasses.field(
        default_factory=lambda: datetime.datetime.now(datetime.UTC)
    )
    label: str | None = None
    undoes: int | None = None

    @property
    def undoable(self) -> bool:
        """Whether an inverse patch can take this write back."""
        return self.kind == 'patch' and None not in (self.before, self.after)

    def why_not_undoable(self) -> str:
        """One line saying why this write cannot be taken back (or `''`)."""
        if self.undoable:
            return ''
        return _IRREVERSIBLE.get(
            self.kind,
            'the document before the patch was not kept, so there is nothing to '
            'restore',
        )

    def summary(self) -> str:
        """What the write did, in a few words."""
        if self.kind == 'patch':
            count = len(self.sent) if isinstance(self.sent, list) else 0
            what = f'patch ({count} op{"" if count == 1 else "s"})'
        elif self.kind == 'release':
            name = self.answer.get('tag') or self.answer.get('committish')
            what = f'release {name}'
        else:
            status = self.sent.get('status') if isinstance(self.sent, dict) else None
            what = f'deployment ({status})'
        if self.undoes is not None:
            what += f', undoing #{self.undoes}'
        return what


class History(abc.Sequence[HistoryEntry]):
    """The writes made through one `Toolkit` (or the `%imbi` magics) in a session.

    Entries are numbered from 1 in the order the answers arrived. The list
    is kept in memory only; it holds project documents, never tokens.
    """

    def __init__(self) -> None:
        self._entries: list[HistoryEntry] = []
        # Bulk runs record from several tasks; the magics from their loop.
        self._lock = threading.Lock()

    def record(self, **fields: typing.Any) -> HistoryEntry:
        """Append a write (the fields of `HistoryEntry` but `number`)."""
        with self._lock:
            entry = HistoryEntry(number=len(self._entries) + 1, **fields)
            self._entries.append(entry)
        return entry

    def entry(self, number: int | None = None) -> HistoryEntry:
        """Entry `number`, or the newest write when `None`.

        Raises:
            LookupError: When there is no such entry.
        """
        if not self._entries:
            raise LookupError('nothing was written through the toolkit yet')
        if number is None:
            return self._entries[-1]
        if not 1 <= number <= len(self._entries):
            raise LookupError(
                f'no write #{number}: the history has #1 to #{len(self._entries)}'
            )
        return self._entries[number - 1]

    def inverse(self, number: int | None = None) -> tuple[HistoryEntry, JSONPatch]:
        """The patch that takes entry `number` back (the newest when `None`).

        Returns:
            The entry and the inverse patch, guarded: its `test` ops hold the
            values the write left, so the server refuses it (422) when the
            project changed since.

        Raises:
            NotUndoableError: When the entry does not exist, or is a write
                that cannot be taken back (a release or a deployment event:
                the message says what to do instead).
        """
        from imbi_toolkit.patching import diff

        try:
            entry = self.entry(number)
        except LookupError as exc:
            raise NotUndoableError(str(exc)) from None
        if entry.before is None or entry.after is None or entry.kind != 'patch':
            raise NotUndoableError(f'#{entry.number}: {entry.why_not_undoable()}')
        inverse = list(diff(entry.after, entry.before, tests=True))
        if not inverse:
            raise NotUndoableError(f'#{entry.number} changed nothing: nothing to undo')
        return entry, inverse

    @typing.overload
    def __getitem__(self, index: int) -> HistoryEntry: ...

    @typing.overload
    def __getitem__(self, index: slice) -> list[HistoryEntry]: ...

    def __getitem__(self, index: int | slice) -> HistoryEntry | list[HistoryEntry]:
        return self._entries[index]

    def __len__(self) -> int:
        return len(self._entries)

    def _rows(self) -> list[tuple[str, str, str, str, str]]:
        return [
            (
                f'#{entry.number}',
                entry.at.strftime('%H:%M:%S'),
                entry.label or entry.project_id,
                entry.summary(),
                'yes' if entry.undoable else 'no',
            )
            for entry in self._entries
        ]

    def __str__(self) -> str:
        if not self._entries:
            return 'No writes yet.'
        header = ('#', 'at', 'project', 'what', 'undoable')
        rows = [header, *self._rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        return '\n'.join(
            '  '.join([*(row[i].ljust(widths[i]) for i in range(4)), row[4]])
            for row in rows
        )

    def __repr__(self) -> str:
        return f'<History of {len(self)} write{"" if len(self) == 1 else "s"}>'

    def _repr_html_(self) -> str:
        from imbi_toolkit import _html

        if not self._entries:
            return '<p>No writes yet.</p>'
        body = ''.join(
            _html.tr(''.join(_html.td(_html.text(value)) for value in row))
            for row in self._rows()
        )
        return _html.table(
            'imbi-history', ('#', 'at', 'project', 'what', 'undoable'), body
        )
