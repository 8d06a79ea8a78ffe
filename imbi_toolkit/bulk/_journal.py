"""A crash-safe record of a bulk run: one JSON object a line, fsync'd.

The first line names the operation. Before a write is sent, a `started`
line is written (with what is needed to reconcile it later, such as the
number of deployment events already on the edge); after it, a `result` line.
A `started` line is on disk (fsync'd) before its write is sent, so after a
crash or Ctrl-C the journal tells which projects are done, which are not,
and which were in flight.

A bulk run commits in groups: each worker writes its `started` line and
awaits `commit`, and the workers that wrote lines while an fsync was under
way share the next one, run in a thread so that the other workers' requests
go on meanwhile (an fsync takes 1-2 ms on a disk: one per line, in the event
loop, stalled every worker for that long). For patches whose check on a
rerun is a mere read (`Operation.journal_ahead`), the runner writes the
`started` lines a few projects ahead of the workers, so that their fsync is
over before the request is due. A `result` line is only buffered: the next
commit or `close` writes it out; if the process or the
machine dies before that, the project's `started` line is still on disk,
so a rerun checks the server before writing for it again.

One run at a time: the journal holds an exclusive lock on its file for as
long as it is open, and each run records its process id in a `run` line, so
a second run started on the same file is refused with the first one's pid
instead of sending every write a second time.

A line cut short by a crash (the last one) is removed when the journal is
opened again, and its project, when the fragment names it, is marked in
doubt: the runner then asks the operation to check the server before
sending anything for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import json
import logging
import os
import pathlib
import re
import socket
import threading
import typing

from imbi_toolkit.api import _redaction as redaction
from imbi_toolkit.errors import ToolkitError

if typing.TYPE_CHECKING:
    import io

LOGGER = logging.getLogger(__name__)

VERSION = 1

# How much of a cut line is kept in the `recovered` record (for a human).
_FRAGMENT_CHARS = 300
# Records are written with sorted keys (what `_KEY` and the recovery of a cut
# line rely on); one encoder, as `json.dumps` builds one per call with them.
_ENCODER = json.JSONEncoder(sort_keys=True)
# The key of a record in a cut line (records are written with sorted keys,
# so it is there unless the cut came before it).
_KEY = re.compile(r'"key":\s*("(?:[^"\\]|\\.)*")')


class JournalError(ToolkitError, ValueError):
    """The journal file cannot be used for this run."""


@dataclasses.dataclass
class Entry:
    """What the journal knows about one project.

    Attributes:
        status: The status of its last result, or `None` when it has none.
        started: The data of its last `started` line while the outcome of
            that write is unknown (no result, or a result in doubt).
        recovered: A line about this project was cut short by a crash (and
            removed) after its last settled result.
    """

    status: str | None = None
    started: dict[str, typing.Any] | None = None
    recovered: bool = False

    @property
    def in_doubt(self) -> bool:
        """Whether the server must be checked before writing for this project."""
        return self.started is not None or self.recovered


class Journal:
    """An append-only journal bound to one operation, used by one run at a time.

    Args:
        path: The journal file; created when missing.
        operation: The operation's fingerprint (JSON-able). A journal written
            for another operation is refused, so that a rerun never mixes
            two different changes.

    Raises:
        JournalError: When the file belongs to another operation, is not a
            journal, or is in use by another run (the message names its
            process).
    """

    def __init__(self, path: str | os.PathLike[str], operation: dict[str, typing.Any]):
        self.path = pathlib.Path(path)
        self.operation = operation
        self.entries: dict[str, Entry] = {}
        created = not self.path.exists()
        self._file: io.BufferedRandom = self.path.open('a+b')
        # Lines written (to the kernel, or waiting in `_pending`), and how
        # many of them are on disk.
        self._written = 0
        self._synced = 0
        # Lines not yet handed to the kernel. The thread that fsyncs writes
        # them out first: a write() to the file while an fsync of it runs
        # (or its pages are being written back) waits for the disk, and in
        # the event loop's thread that stalled every worker. Adding a line
        # only takes `_pending_lock`, held for no I/O; `_write_lock` keeps
        # the batches in order while one is written.
        self._pending: list[bytes] = []
        self._pending_lock = threading.Lock()
        self._write_lock = threading.Lock()
        # The fsync under way in a thread (see `commit`), on a descriptor
        # opened on its own: not a dup, which would share the lock and hold
        # it past `close`.
        self._syncing: asyncio.Future[None] | None = None
        self._sync_fd = -1
        try:
            self._lock()
            self._open(created)
        except BaseException:
            self._file.close()  # also releases the lock
            raise

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory locks
            return
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JournalError(
                f'{self.path} is in use by another bulk run ({self._holder()}): '
                'wait for it to finish (or stop it), then run again with the same '
                'journal, which skips what is done and checks what was in flight'
            ) from None

    def _holder(self) -> str:
        """Describe the run holding the lock, from its `run` line."""
        run: dict[str, typing.Any] = {}
        with contextlib.suppress(OSError), self.path.open('rb') as handle:
            for line in handle:
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if isinstance(record, dict) and record.get('type') == 'run':
                        run = record
        pid = run.get('pid')
        where = run.get('host')
        if not isinstance(pid, int) or (
            where == socket.gethostname() and not _alive(pid)
        ):
            # The holder has not written its `run` line yet (the last one
            # is an earlier run's).
            return 'a process that is starting'
        if pid == os.getpid() and where == socket.gethostname():
            return f'this process, pid {pid}'
        host = f' on {where}' if where and where != socket.gethostname() else ''
        since = f', since {run["at"]}' if run.get('at') else ''
        return f'process {pid}{host}{since}'

    def _open(self, created: bool) -> None:
        self._file.seek(0)
        content = self._file.read()
        if content.strip():
            self._load(content)
        else:
            if content:  # only blank lines: start it again
                self._file.truncate(0)
            self._write_header()
            if created:
                _fsync_directory(self.path.parent)
        self._append(
            {
                'type': 'run',
                'pid': os.getpid(),
                'host': socket.gethostname(),
                'at': _now(),
            }
        )

    def _write_header(self) -> None:
        self._append(
            {
                'type': 'header',
                'version': VERSION,
                'operation': self.operation,
                'created': _now(),
            }
        )

    def _load(self, content: bytes) -> None:
        lines = content.split(b'\n')
        # Where each line starts, to cut the file after the last whole line.
        offsets = [0]
        for line in lines[:-1]:
            offsets.append(offsets[-1] + len(line) + 1)
        last = max(
            (index for index, line in enumerate(lines) if line.strip()), default=0
        )
        records: list[tuple[int, dict[str, typing.Any] | None, bytes]] = []
        for index, line in enumerate(lines):
            if not line.strip():
                continue
            record = _parse(line)
            # Journal lines are objects with sorted keys: a cut one still
            # starts like one (the header like a header).
            cut = record is None and line.startswith(
                b'{"created": "' if not records else b'{"'
            )
            if cut and index == last:
                self._recover(offsets[index], line, records)
                content = content[: offsets[index]]
                break
            if record is None and not cut:
                raise JournalError(
                    f'{self.path} line {index + 1} is not a journal record (the '
                    'file was edited or damaged): restore or delete that line, '
                    'then run again; do not start a new journal, which would '
                    'send every write again'
                )
            # A record cut by a crash that an earlier version appended after:
            # its project is checked before anything is sent for it.
            records.append((index + 1, record, line))
        if not records:  # the header itself was cut: nothing was ever sent
            self._write_header()
            return
        if content and not content.endswith(b'\n'):
            self._file.write(b'\n')  # a whole last record that lost its newline
        header = records[0][1] if records else None
        if header is None or header.get('type') != 'header':
            raise JournalError(
                f'{self.path} is not an imbi-toolkit journal; pass another path'
            )
        if header.get('operation') != self.operation:
            raise JournalError(
                f'{self.path} records another operation '
                f'({_describe(header.get("operation"))}); use a new journal '
                'file for this one'
            )
        for _, record, line in records[1:]:
            if record is None:
                LOGGER.warning(
                    'Journal %s has a line cut short by a crash; its project is '
                    'checked before anything is sent for it',
                    self.path,
                )
                self._mark_recovered(_key_of(line))
            else:
                self._replay(record)

    def _recover(
        self,
        offset: int,
        line: bytes,
        records: list[tuple[int, dict[str, typing.Any] | None, bytes]],
    ) -> None:
        """Remove a last line cut short by a crash, and say so in the journal.

        Every write is sent only after its `started` line is on disk, so a
        cut `started` line means its write never left; a cut `result` line
        leaves its `started` line, which keeps the project in doubt. Either
        way the project is marked in doubt, so the operation checks the
        server before sending anything for it.
        """
        key = _key_of(line)
        LOGGER.warning(
            'Journal %s: removed a last line cut short by a crash (project %s); '
            'that project is checked before anything is sent for it',
            self.path,
            key or 'unknown',
        )
        self._file.truncate(offset)
        if records:
            recovered: dict[str, typing.Any] = {
                'type': 'recovered',
                'key': key,
                'fragment': redaction.redact(
                    line.decode('utf-8', 'replace')[:_FRAGMENT_CHARS]
                ),
                'at': _now(),
            }
            self._append(recovered)
            records.append((0, recovered, b''))

    def _replay(self, record: dict[str, typing.Any]) -> None:
        kind = record.get('type')
        if kind == 'recovered':
            self._mark_recovered(record.get('key'))
            return
        if kind not in ('started', 'result'):
            return  # header, run
        entry = self.entries.setdefault(str(record.get('key')), Entry())
        if kind == 'started':
            entry.started = dict(record.get('data') or {})
            entry.status = None
        else:
            entry.status = record.get('status')
            if not record.get('in_doubt'):
                entry.started = None  # settled: nothing left to check
                entry.recovered = False

    def _mark_recovered(self, key: object) -> None:
        if isinstance(key, str):
            self.entries.setdefault(key, Entry()).recovered = True

    def entry(self, key: str) -> Entry:
        """What is known about ``key`` (an empty entry when nothing is)."""
        return self.entries.get(key, Entry())

    def started(self, key: str, data: dict[str, typing.Any]) -> None:
        """Record that a write for ``key`` is about to be sent (on disk on return)."""
        self.write_started(key, data)
        self._sync()

    def write_started(self, key: str, data: dict[str, typing.Any]) -> int:
        """Write a `started` line without waiting for the disk.

        Send nothing before `await commit(position)` with the position
        returned: the line is only then known to be on disk.

        Returns:
            The line's position (how many lines were written up to it).
        """
        # Buffered: the commit writes it out with the others, in one write
        # before its fsync (a write per line, while an fsync of the same
        # file runs, waited for the disk too).
        position = self._write(
            {'type': 'started', 'key': key, 'data': data}, flush=False
        )
        entry = self.entries.get(key) or self.entries.setdefault(key, Entry())
        entry.started = data
        return position

    async def commit(self, position: int | None = None) -> None:
        """Wait until the lines up to ``position`` (default: all) are on disk.

        Group commit: one fsync, in a thread, covers every line written
        before it started; callers that wrote while it ran share the next.

        Raises:
            OSError: When the fsync fails (send nothing then).
        """
        wanted = self._written if position is None else position
        while self._synced < wanted:
            if self._syncing is None:
                self._start_sync()
            assert self._syncing is not None
            # Shielded: a caller cancelled while waiting leaves the fsync
            # that the others share running.
            await asyncio.shield(self._syncing)

    def commit_soon(self) -> None:
        """Start an fsync of what is written, without waiting for it.

        Must be called from a running event loop; `commit` waits for it.
        """
        if self._syncing is None and self._synced < self._written:
            self._start_sync()

    def _start_sync(self) -> None:
        self._syncing = asyncio.ensure_future(self._sync_in_thread())
        # Its error reaches the callers waiting for it; with none (they were
        # cancelled, or `commit_soon`), the next commit tries again.
        self._syncing.add_done_callback(_retrieve)

    async def _sync_in_thread(self) -> None:
        try:
            if self._sync_fd < 0:
                self._sync_fd = os.open(self.path, os.O_RDONLY)
            covered = await asyncio.get_running_loop().run_in_executor(
                None, self._write_out_and_fsync, self._sync_fd
            )
            self._synced = max(self._synced, covered)
        finally:
            self._syncing = None

    def _write_out_and_fsync(self, fd: int) -> int:
        """Write the pending lines and fsync them (in a thread of its own).

        Returns:
            How many lines are on disk when it returns.
        """
        covered = self._write_out()
        os.fsync(fd)
        return covered

    def _write_out(self) -> int:
        """Hand the pending lines to the kernel; return how many lines were."""
        with self._write_lock:
            with self._pending_lock:
                batch, self._pending = self._pending, []
                covered = self._written
            if batch and not self._file.closed:
                self._file.write(b''.join(batch))
                self._file.flush()
            return covered

    def result(
        self,
        key: str,
        status: str,
        detail: str,
        http_status: int | None,
        *,
        in_doubt: bool = False,
        durable: bool = True,
    ) -> None:
        """Record the outcome for ``key``.

        With ``in_doubt``, the write may have happened although it failed;
        the `started` data is kept so that a rerun checks before writing.
        With ``durable=False`` the line is only buffered: the next
        `write_started`, `commit` or `close` writes it and makes it durable,
        and until then its `started` line keeps the project in doubt (a
        rerun after a crash checks the server for it).
        """
        self._write(
            {
                'type': 'result',
                'key': key,
                'status': status,
                'detail': redaction.redact(detail),
                'http_status': http_status,
                'in_doubt': in_doubt,
            },
            flush=durable,
        )
        if durable:
            self._sync()
        entry = self.entries.get(key) or self.entries.setdefault(key, Entry())
        entry.status = status
        if not in_doubt:
            entry.started = None
            entry.recovered = False

    def _append(self, record: dict[str, typing.Any]) -> None:
        self._write(record)
        self._sync()

    def _write(self, record: dict[str, typing.Any], *, flush: bool = True) -> int:
        line = (_ENCODER.encode(record) + '\n').encode()
        with self._pending_lock:
            self._pending.append(line)
            self._written += 1
            position = self._written
        if flush:  # in the kernel: a crash of this process loses nothing
            self._write_out()
        return position

    def _sync(self) -> None:
        if self._synced < self._written:
            covered = self._write_out()
            os.fsync(self._file.fileno())
            self._synced = max(self._synced, covered)

    def _close_sync_fd(self) -> None:
        if self._sync_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._sync_fd)
            self._sync_fd = -1

    def close(self) -> None:
        """Close the file and let another run use it (every line is on disk)."""
        if self._file.closed:
            return
        try:
            self._sync()
        finally:
            self._file.close()
            # Even with an fsync under way in a thread: the one above made
            # every line durable, so whatever that one does no longer matters.
            self._close_sync_fd()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _retrieve(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: it exists
        return True
    return True


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


def _parse(line: bytes) -> dict[str, typing.Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _key_of(line: bytes) -> str | None:
    """The project key of a record cut short, when the cut came after it."""
    match = _KEY.search(line.decode('utf-8', 'replace'))
    if match is None:
        return None
    try:
        key = json.loads(match.group(1))
    except ValueError:
        return None
    return key if isinstance(key, str) else None


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
