"""A crash-safe record of a bulk run: one JSON object a line, fsync'd.

The first line names the operation. Before a write is sent, a `started`
line is written (with what is needed to reconcile it later, such as the
number of deployment events already on the edge); after it, a `result` line.
Each line is flushed and fsync'd before the run goes on, so after a crash or
Ctrl-C the journal tells which projects are done, which are not, and which
were in flight.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import pathlib
import typing

from imbi_toolkit.api import redaction
from imbi_toolkit.errors import ToolkitError

VERSION = 1


class JournalError(ToolkitError, ValueError):
    """The journal file cannot be used for this run."""


@dataclasses.dataclass
class Entry:
    """What the journal knows about one project.

    Attributes:
        status: The status of its last result, or `None` when it has none.
        started: The data of its last `started` line while the outcome of
            that write is unknown (no result, or a result in doubt).
    """

    status: str | None = None
    started: dict[str, typing.Any] | None = None


class Journal:
    """An append-only journal bound to one operation.

    Args:
        path: The journal file; created when missing.
        operation: The operation's fingerprint (JSON-able). A journal written
            for another operation is refused, so that a rerun never mixes
            two different changes.

    Raises:
        JournalError: When the file belongs to another operation or is not
            a journal.
    """

    def __init__(self, path: str | os.PathLike[str], operation: dict[str, typing.Any]):
        self.path = pathlib.Path(path)
        self.operation = operation
        self.entries: dict[str, Entry] = {}
        exists = self.path.exists() and self.path.stat().st_size > 0
        if exists:
            self._load()
        self._file = self.path.open('a', encoding='utf-8')
        if exists and not self._ends_with_newline():
            self._file.write('\n')  # a line cut by a crash stays on its own
        if not exists:
            self._append(
                {
                    'type': 'header',
                    'version': VERSION,
                    'operation': operation,
                    'created': datetime.datetime.now(datetime.UTC).isoformat(),
                }
            )
            _fsync_directory(self.path.parent)

    def _ends_with_newline(self) -> bool:
        with self.path.open('rb') as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b'\n'

    def _load(self) -> None:
        lines = self.path.read_text(encoding='utf-8').splitlines()
        records = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                if number == len(lines):  # cut short by a crash: never applied
                    break
                raise JournalError(
                    f'{self.path} line {number} is not JSON: the journal is '
                    'damaged; move it away to start over'
                ) from None
        if not records or records[0].get('type') != 'header':
            raise JournalError(
                f'{self.path} is not an imbi-toolkit journal; pass another path'
            )
        if records[0].get('operation') != self.operation:
            raise JournalError(
                f'{self.path} records another operation '
                f'({_describe(records[0].get("operation"))}); use a new journal '
                'file for this one'
            )
        for record in records[1:]:
            entry = self.entries.setdefault(str(record.get('key')), Entry())
            if record.get('type') == 'started':
                entry.started = dict(record.get('data') or {})
                entry.status = None
            elif record.get('type') == 'result':
                entry.status = record.get('status')
                if not record.get('in_doubt'):
                    entry.started = None  # settled: nothing left to check

    def entry(self, key: str) -> Entry:
        """What is known about ``key`` (an empty entry when nothing is)."""
        return self.entries.get(key, Entry())

    def started(self, key: str, data: dict[str, typing.Any]) -> None:
        """Record that a write for ``key`` is about to be sent."""
        self._append({'type': 'started', 'key': key, 'data': data})
        self.entries.setdefault(key, Entry()).started = data

    def result(
        self,
        key: str,
        status: str,
        detail: str,
        http_status: int | None,
        *,
        in_doubt: bool = False,
    ) -> None:
        """Record the outcome for ``key``.

        With ``in_doubt``, the write may have happened although it failed;
        the `started` data is kept so that a rerun checks before writing.
        """
        self._append(
            {
                'type': 'result',
                'key': key,
                'status': status,
                'detail': redaction.redact(detail),
                'http_status': http_status,
                'in_doubt': in_doubt,
            }
        )
        entry = self.entries.setdefault(key, Entry())
        entry.status = status
        if not in_doubt:
            entry.started = None

    def _append(self, record: dict[str, typing.Any]) -> None:
        self._file.write(json.dumps(record, sort_keys=True) + '\n')
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """Close the file (every line is already on disk)."""
        self._file.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _describe(operation: object) -> str:
    if isinstance(operation, dict):
        return str(operation.get('kind', 'unknown'))
    return 'unknown'


def _fsync_directory(path: pathlib.Path) -> None:
    # Make the new file's directory entry durable too (POSIX only).
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
