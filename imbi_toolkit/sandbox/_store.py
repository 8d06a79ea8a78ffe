"""The sandbox's data: SQLite tables shaped after Imbi's graph, and their queries.

One connection serves the event loop's single thread; every write runs inside
:meth:`Store.transaction`, so a request's changes land together or not at all.
The database lives in memory unless a file path is given, in which case it
survives restarts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
import typing
from collections import abc

from imbi_toolkit.sandbox import _seed as seed_data

Row = dict[str, typing.Any]

SCHEMA = """
CREATE TABLE IF NOT EXISTS organizations (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    icon TEXT,
    tag_formats TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE TABLE IF NOT EXISTS teams (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    slug TEXT NOT NULL UNIQUE,  -- global, as in Imbi's graph index
    name TEXT NOT NULL,
    description TEXT,
    icon TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE TABLE IF NOT EXISTS project_types (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    icon TEXT,
    deployable INTEGER NOT NULL DEFAULT 0,
    releasable INTEGER NOT NULL DEFAULT 0,
    tag_formats TEXT NOT NULL DEFAULT '[]',
    attributes TEXT NOT NULL DEFAULT '{}',  -- the blueprint: name -> rule
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (organization_id, slug)
);
CREATE TABLE IF NOT EXISTS environments (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    icon TEXT,
    sort_order INTEGER NOT NULL DEFAULT 0,
    label_color TEXT,
    can_deploy INTEGER NOT NULL DEFAULT 1,
    can_promote INTEGER NOT NULL DEFAULT 1,
    terminal INTEGER,  -- 2.30.0; NULL: not stored on the node
    allow_autonomous INTEGER,  -- 2.31.0; NULL: not stored on the node
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (organization_id, slug)
);
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    description TEXT,
    icon TEXT,
    archived INTEGER NOT NULL DEFAULT 0,
    archived_at TEXT,
    links TEXT NOT NULL DEFAULT '{}',
    identifiers TEXT NOT NULL DEFAULT '{}',
    services TEXT NOT NULL DEFAULT '[]',
    attributes TEXT NOT NULL DEFAULT '{}',  -- blueprint attributes
    score REAL,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE TABLE IF NOT EXISTS project_project_types (
    project_id TEXT NOT NULL REFERENCES projects(id),
    project_type_id TEXT NOT NULL REFERENCES project_types(id),
    position INTEGER NOT NULL,
    PRIMARY KEY (project_id, project_type_id)
);
CREATE TABLE IF NOT EXISTS project_environments (  -- DEPLOYED_IN edges
    project_id TEXT NOT NULL REFERENCES projects(id),
    environment_id TEXT NOT NULL REFERENCES environments(id),
    properties TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (project_id, environment_id)
);
CREATE TABLE IF NOT EXISTS releases (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    committish TEXT NOT NULL,
    tag TEXT,
    title TEXT NOT NULL,
    description TEXT,
    links TEXT NOT NULL DEFAULT '[]',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE INDEX IF NOT EXISTS releases_by_project ON releases (project_id, created_at);
CREATE TABLE IF NOT EXISTS deployment_events (  -- DEPLOYED_TO edge history
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    release_id TEXT NOT NULL REFERENCES releases(id),
    environment_id TEXT NOT NULL REFERENCES environments(id),
    timestamp TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    external_run_id TEXT,  -- stored since 2.18.0
    external_run_url TEXT
);
CREATE INDEX IF NOT EXISTS events_by_release ON deployment_events (release_id);
CREATE TABLE IF NOT EXISTS repository_tags (  -- what a deployment plugin resolves
    project_id TEXT NOT NULL REFERENCES projects(id),
    tag TEXT NOT NULL,
    committish TEXT NOT NULL,
    PRIMARY KEY (project_id, tag)
);
CREATE TABLE IF NOT EXISTS repository_settings (
    project_id TEXT PRIMARY KEY REFERENCES projects(id),
    app_installed INTEGER NOT NULL DEFAULT 1  -- the GitHub App on the repository
);
CREATE TABLE IF NOT EXISTS users (
    email TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    is_active INTEGER NOT NULL DEFAULT 1,
    is_admin INTEGER NOT NULL DEFAULT 0,
    is_service_account INTEGER NOT NULL DEFAULT 0,
    avatar_url TEXT,
    email_notifications INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    last_login TEXT
);
CREATE TABLE IF NOT EXISTS memberships (
    user_email TEXT NOT NULL REFERENCES users(email),
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    role TEXT NOT NULL,
    PRIMARY KEY (user_email, organization_id)
);
CREATE TABLE IF NOT EXISTS team_members (
    user_email TEXT NOT NULL REFERENCES users(email),
    team_id TEXT NOT NULL REFERENCES teams(id),
    PRIMARY KEY (user_email, team_id)
);
CREATE TABLE IF NOT EXISTS identity_connections (
    user_email TEXT NOT NULL REFERENCES users(email),
    integration_slug TEXT NOT NULL,
    subject TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    PRIMARY KEY (user_email, integration_slug)
);
"""

# Columns added after the first release of the sandbox, for database files
# that an older sandbox created.
_ADDED_COLUMNS: dict[str, dict[str, str]] = {
    'environments': {'terminal': 'INTEGER', 'allow_autonomous': 'INTEGER'},
    'deployment_events': {'external_run_id': 'TEXT', 'external_run_url': 'TEXT'},
}

# Tables in an order that respects foreign keys when loading a seed.
TABLES: tuple[str, ...] = (
    'organizations',
    'teams',
    'project_types',
    'environments',
    'projects',
    'project_project_types',
    'project_environments',
    'releases',
    'deployment_events',
    'repository_tags',
    'repository_settings',
    'users',
    'memberships',
    'team_members',
    'identity_connections',
)

# Columns stored as JSON text, decoded on the way out.
_JSON_COLUMNS = frozenset(
    {'tag_formats', 'attributes', 'links', 'identifiers', 'services', 'properties'}
)
_BOOL_COLUMNS = frozenset(
    {
        'deployable',
        'releasable',
        'can_deploy',
        'can_promote',
        'terminal',
        'allow_autonomous',
        'archived',
        'is_active',
        'is_admin',
        'is_service_account',
        'email_notifications',
    }
)


class _Columns:
    """The columns of one query's rows, and which of them to decode."""

    def __init__(self, sql: str, names: abc.Iterable[str]) -> None:
        self.names = tuple(names)
        if len(set(self.names)) != len(self.names):
            raise ValueError(f'Query selects a column name twice: {sql!r}')
        self.json = tuple(name for name in self.names if name in _JSON_COLUMNS)
        self.bools = tuple(name for name in self.names if name in _BOOL_COLUMNS)

    def decode(self, values: abc.Sequence[object]) -> Row:
        row = dict(zip(self.names, values, strict=True))
        for name in self.json:
            value = row[name]
            if isinstance(value, str):
                row[name] = json.loads(value)
        for name in self.bools:
            if row[name] is not None:
                row[name] = bool(row[name])
        return row


def _encode(value: object) -> object:
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


@dataclasses.dataclass(frozen=True)
class ProjectRecord:
    """A project's row with the rows its answers show, read together.

    A request reads the record once and hands it on: the patchable
    document, the patch and the response body all use the same rows.

    Attributes:
        row: The ``projects`` row.
        team: The team the project belongs to.
        types: Its project types, in the project's order.
        environments: Its environments, each with the edge's ``properties``.
    """

    row: Row
    team: Row
    types: list[Row]
    environments: list[Row]


class Store:
    """Data access for the sandbox over one SQLite connection.

    Args:
        path: A database file, created when missing, or `None` for an
            in-memory database.
    """

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        # The connection is used from the event loop's thread only;
        # autocommit mode lets `transaction` issue BEGIN/COMMIT itself.
        self._db = sqlite3.connect(
            path or ':memory:', isolation_level=None, check_same_thread=False
        )
        # Rows come as tuples, decoded by the columns of their query.
        self._columns: dict[str, _Columns] = {}
        try:
            self._db.execute('PRAGMA foreign_keys = ON')
            if path:
                # The sandbox is the file's one user while it runs: a lock held
                # from the first statement spares every later one the shared-
                # memory locking of WAL mode, whose index also slows reads as
                # the log grows (2 reads and a write: ~30 us instead of 41-67 us
                # on tmpfs). Taken before WAL mode, so no shared memory at all.
                self._db.execute('PRAGMA locking_mode = EXCLUSIVE')
                self._db.execute('PRAGMA journal_mode = WAL')
            self._db.executescript(SCHEMA)
            self._add_missing_columns()
        except sqlite3.OperationalError as exc:
            self._db.close()
            if 'locked' in str(exc):
                raise sqlite3.OperationalError(
                    f'{path} is in use by another process (a running sandbox '
                    'keeps its database to itself): stop it or use another file'
                ) from None
            raise

    def _add_missing_columns(self) -> None:
        for table, columns in _ADDED_COLUMNS.items():
            present = {
                row[1] for row in self._db.execute(f'PRAGMA table_info({table})')
            }
            for name, kind in columns.items():
                if name not in present:
                    self._db.execute(f'ALTER TABLE {table} ADD COLUMN {name} {kind}')

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    @contextlib.contextmanager
    def transaction(self) -> abc.Iterator[None]:
        """Run the block's writes as one transaction, rolled back on error."""
        self._db.execute('BEGIN IMMEDIATE')
        try:
            yield
        except BaseException:
            self._db.execute('ROLLBACK')
            raise
        self._db.execute('COMMIT')

    # -- generic helpers -------------------------------------------------

    def _select(
        self, sql: str, params: tuple[object, ...]
    ) -> tuple[sqlite3.Cursor, _Columns]:
        cursor = self._db.execute(sql, params)
        columns = self._columns.get(sql)
        if columns is None:
            columns = self._columns[sql] = _Columns(
                sql, (column[0] for column in cursor.description)
            )
        return cursor, columns

    def _all(self, sql: str, *params: object) -> list[Row]:
        cursor, columns = self._select(sql, params)
        return [columns.decode(row) for row in cursor]

    def _one(self, sql: str, *params: object) -> Row | None:
        cursor, columns = self._select(sql, params)
        row = cursor.fetchone()
        return None if row is None else columns.decode(row)

    def _insert(self, table: str, row: abc.Mapping[str, object]) -> None:
        columns = ', '.join(row)
        marks = ', '.join('?' for _ in row)
        self._db.execute(
            f'INSERT INTO {table} ({columns}) VALUES ({marks})',  # noqa: S608 - names are ours
            [_encode(value) for value in row.values()],
        )

    def is_empty(self) -> bool:
        """Tell whether no data has been loaded yet (a new database)."""
        return self._db.execute('SELECT 1 FROM users LIMIT 1').fetchone() is None

    def load(self, data: seed_data.SeedData) -> None:
        """Replace every row with ``data``, in one transaction."""
        with self.transaction():
            for table in reversed(TABLES):
                self._db.execute(f'DELETE FROM {table}')  # noqa: S608 - names are ours
            self._db.execute(
                "DELETE FROM sqlite_sequence WHERE name = 'deployment_events'"
            )
            for table in TABLES:
                self._insert_many(table, data.get(table, ()))

    def _insert_many(
        self, table: str, rows: abc.Iterable[abc.Mapping[str, object]]
    ) -> None:
        # One executemany per run of rows with the same columns: a seed of
        # 10,000 projects loads in a fraction of a second.
        batch: list[list[object]] = []
        columns: tuple[str, ...] = ()
        for row in rows:
            if tuple(row) != columns:
                self._execute_many(table, columns, batch)
                columns, batch = tuple(row), []
            batch.append([_encode(value) for value in row.values()])
        self._execute_many(table, columns, batch)

    def _execute_many(
        self, table: str, columns: tuple[str, ...], batch: list[list[object]]
    ) -> None:
        if batch:
            self._db.executemany(
                f'INSERT INTO {table} ({", ".join(columns)}) '  # noqa: S608 - names are ours
                f'VALUES ({", ".join("?" for _ in columns)})',
                batch,
            )

    # -- organizations, teams, types, environments -----------------------

    def organizations(self) -> list[Row]:
        return self._all('SELECT * FROM organizations ORDER BY name, slug')

    def organization(self, slug: str) -> Row | None:
        return self._one('SELECT * FROM organizations WHERE slug = ?', slug)

    def organization_counts(self, organization_id: str) -> dict[str, int]:
        """Count an organisation's teams, members and projects."""
        row = self._db.execute(
            """
            SELECT
              (SELECT count(*) FROM teams WHERE organization_id = :org) AS teams,
              (SELECT count(*) FROM memberships WHERE organization_id = :org)
                AS members,
              (SELECT count(*) FROM projects p JOIN teams t ON t.id = p.team_id
                WHERE t.organization_id = :org) AS projects
            """,
            {'org': organization_id},
        ).fetchone()
        return {'teams': row[0], 'members': row[1], 'projects': row[2]}

    def organization_by_id(self, organization_id: str) -> Row:
        row = self._one('SELECT * FROM organizations WHERE id = ?', organization_id)
        if row is None:  # pragma: no cover - foreign keys guarantee it
            raise LookupError(organization_id)
        return row

    def team(self, organization_id: str, slug: str) -> Row | None:
        return self._one(
            'SELECT * FROM teams WHERE organization_id = ? AND slug = ?',
            organization_id,
            slug,
        )

    def team_by_id(self, team_id: str) -> Row:
        row = self._one('SELECT * FROM teams WHERE id = ?', team_id)
        if row is None:  # pragma: no cover - foreign keys guarantee it
            raise LookupError(team_id)
        return row

    def project_types(self, organization_id: str) -> list[Row]:
        return self._all(
            'SELECT * FROM project_types WHERE organization_id = ? ORDER BY name',
            organization_id,
        )

    def environments(self, organization_id: str) -> list[Row]:
        return self._all(
            'SELECT * FROM environments WHERE organization_id = ? '
            'ORDER BY sort_order, name',
            organization_id,
        )

    def environment(self, organization_id: str, slug: str) -> Row | None:
        return self._one(
            'SELECT * FROM environments WHERE organization_id = ? AND slug = ?',
            organization_id,
            slug,
        )

    def environment_project_counts(self, organization_id: str) -> dict[str, int]:
        rows = self._db.execute(
            """
            SELECT e.slug, count(pe.project_id) FROM environments e
            LEFT JOIN project_environments pe ON pe.environment_id = e.id
            WHERE e.organization_id = ? GROUP BY e.slug
            """,
            (organization_id,),
        )
        return {slug: count for slug, count in rows}

    # -- projects ----------------------------------------------------------

    def projects(
        self,
        organization_id: str,
        *,
        include_archived: bool = False,
        project_type: str | None = None,
    ) -> list[Row]:
        sql = (
            'SELECT p.* FROM projects p JOIN teams t ON t.id = p.team_id '
            'WHERE t.organization_id = ?'
        )
        params: list[object] = [organization_id]
        if not include_archived:
            sql += ' AND p.archived = 0'
        if project_type is not None:
            sql += (
                ' AND EXISTS (SELECT 1 FROM project_project_types ppt'
                ' JOIN project_types pt ON pt.id = ppt.project_type_id'
                ' WHERE ppt.project_id = p.id AND pt.slug = ?)'
            )
            params.append(project_type)
        return self._all(sql + ' ORDER BY p.name, p.id', *params)

    def project(self, organization_id: str, project_id: str) -> Row | None:
        return self._one(
            'SELECT p.* FROM projects p JOIN teams t ON t.id = p.team_id '
            'WHERE t.organization_id = ? AND p.id = ?',
            organization_id,
            project_id,
        )

    def project_by_id(self, project_id: str) -> Row | None:
        return self._one('SELECT * FROM projects WHERE id = ?', project_id)

    def types_of_project(self, project_id: str) -> list[Row]:
        return self._all(
            'SELECT pt.* FROM project_types pt JOIN project_project_types ppt '
            'ON ppt.project_type_id = pt.id WHERE ppt.project_id = ? '
            'ORDER BY ppt.position',
            project_id,
        )

    def environments_of_project(self, project_id: str) -> list[Row]:
        """The project's environments, each with its edge ``properties``."""
        return self._all(
            'SELECT e.*, pe.properties FROM environments e '
            'JOIN project_environments pe ON pe.environment_id = e.id '
            'WHERE pe.project_id = ? ORDER BY e.sort_order, e.name',
            project_id,
        )

    def project_record(self, row: Row) -> ProjectRecord:
        """Read what a project's answers show besides its own ``row``."""
        return ProjectRecord(
            row=row,
            team=self.team_by_id(row['team_id']),
            types=self.types_of_project(row['id']),
            environments=self.environments_of_project(row['id']),
        )

    def update_project(
        self,
        record: ProjectRecord,
        *,
        fields: abc.Mapping[str, object],
        type_ids: abc.Sequence[str],
        environments: abc.Mapping[str, dict[str, object]],
    ) -> ProjectRecord:
        """Store a project's new columns, types and environment edges.

        Call inside :meth:`transaction`. ``environments`` maps environment ids
        to edge properties. Like Imbi, a change deletes and recreates every
        type row or every edge; rows equal to ``record``'s stay as they are,
        which reads back the same.

        Returns:
            The record as now stored.
        """
        project_id = record.row['id']
        assignments = ', '.join(f'{column} = ?' for column in fields)
        self._db.execute(
            f'UPDATE projects SET {assignments} WHERE id = ?',  # noqa: S608 - names are ours
            [*(_encode(value) for value in fields.values()), project_id],
        )
        # The columns read back as written: JSON text decodes to equal values.
        row = {**record.row, **fields}
        team = record.team
        if row['team_id'] != team['id']:
            team = self.team_by_id(row['team_id'])
        types = record.types
        if list(type_ids) != [type_row['id'] for type_row in types]:
            self._replace_project_types(project_id, type_ids)
            types = self.types_of_project(project_id)
        stored = {env['id']: env['properties'] for env in record.environments}
        project_environments = record.environments
        # Compared as stored text: key order and 1 versus true matter there.
        if json.dumps(environments) != json.dumps(stored):
            self._replace_project_environments(project_id, environments)
            project_environments = self.environments_of_project(project_id)
        return ProjectRecord(row, team, types, project_environments)

    def _replace_project_types(
        self, project_id: str, type_ids: abc.Sequence[str]
    ) -> None:
        self._db.execute(
            'DELETE FROM project_project_types WHERE project_id = ?', (project_id,)
        )
        for position, type_id in enumerate(type_ids):
            self._insert(
                'project_project_types',
                {
                    'project_id': project_id,
                    'project_type_id': type_id,
                    'position': position,
                },
            )

    def _replace_project_environments(
        self, project_id: str, environments: abc.Mapping[str, dict[str, object]]
    ) -> None:
        self._db.execute(
            'DELETE FROM project_environments WHERE project_id = ?', (project_id,)
        )
        for environment_id, properties in environments.items():
            self._insert(
                'project_environments',
                {
                    'project_id': project_id,
                    'environment_id': environment_id,
                    'properties': dict(properties),
                },
            )

    def set_current_release(
        self, project_id: str, environment_id: str, release_id: str, timestamp: str
    ) -> None:
        """Point the project's edge to an environment at a release, forward only.

        Creates the edge when the project was not linked to the environment,
        like the real server's MERGE.
        """
        row = self._one(
            'SELECT properties FROM project_environments '
            'WHERE project_id = ? AND environment_id = ?',
            project_id,
            environment_id,
        )
        if row is None:
            self._insert(
                'project_environments',
                {
                    'project_id': project_id,
                    'environment_id': environment_id,
                    'properties': {
                        'current_release': release_id,
                        'current_release_at': timestamp,
                    },
                },
            )
            return
        properties = row['properties']
        previous = properties.get('current_release_at')
        if previous is not None and previous >= timestamp:
            return
        properties.update(current_release=release_id, current_release_at=timestamp)
        self._db.execute(
            'UPDATE project_environments SET properties = ? '
            'WHERE project_id = ? AND environment_id = ?',
            (json.dumps(properties), project_id, environment_id),
        )

    # -- releases and deployments -------------------------------------------

    def releases(
        self,
        project_id: str,
        *,
        committish: str | None = None,
        tag: str | None = None,
    ) -> list[Row]:
        sql = 'SELECT * FROM releases WHERE project_id = ?'
        params: list[object] = [project_id]
        if committish is not None:
            sql += ' AND committish = ?'
            params.append(committish)
        if tag is not None:
            sql += ' AND tag = ?'
            params.append(tag)
        return self._all(sql + ' ORDER BY created_at DESC, rowid DESC', *params)

    def release(self, project_id: str, release_id: str) -> Row | None:
        return self._one(
            'SELECT * FROM releases WHERE project_id = ? AND id = ?',
            project_id,
            release_id,
        )

    def release_by_id(self, release_id: str) -> Row | None:
        return self._one('SELECT * FROM releases WHERE id = ?', release_id)

    def release_exists(self, project_id: str, committish: str, tag: str | None) -> bool:
        """Tell whether ``(committish, tag)`` is taken; no tag equals ``''``."""
        row = self._db.execute(
            'SELECT 1 FROM releases WHERE project_id = ? AND committish = ? '
            "AND COALESCE(tag, '') = COALESCE(?, '')",
            (project_id, committish, tag),
        ).fetchone()
        return row is not None

    def release_with_tag(self, project_id: str, tag: str) -> Row | None:
        """The project's newest release with ``tag``, whatever its commit."""
        return self._one(
            'SELECT * FROM releases WHERE project_id = ? AND tag = ? '
            'ORDER BY created_at DESC, rowid DESC LIMIT 1',
            project_id,
            tag,
        )

    def untagged_release(self, project_id: str, committish: str) -> Row | None:
        """The project's newest release of ``committish`` without a tag."""
        return self._one(
            'SELECT * FROM releases WHERE project_id = ? AND committish = ? '
            "AND COALESCE(tag, '') = '' ORDER BY created_at DESC, rowid DESC LIMIT 1",
            project_id,
            committish,
        )

    def set_release_tag(self, release_id: str, tag: str, updated_at: str) -> None:
        self._db.execute(
            'UPDATE releases SET tag = ?, updated_at = ? WHERE id = ?',
            (tag, updated_at, release_id),
        )

    def app_installed(self, project_id: str) -> bool:
        """Whether the GitHub App is installed on the project's repository."""
        row = self._db.execute(
            'SELECT app_installed FROM repository_settings WHERE project_id = ?',
            (project_id,),
        ).fetchone()
        return row is None or bool(row[0])

    def set_app_installed(self, project_id: str, installed: bool) -> None:
        self._db.execute(
            'INSERT INTO repository_settings (project_id, app_installed) '
            'VALUES (?, ?) ON CONFLICT (project_id) '
            'DO UPDATE SET app_installed = excluded.app_installed',
            (project_id, int(installed)),
        )

    def repository_tag(self, project_id: str, tag: str) -> str | None:
        """The commit a project's repository tag points at, when known."""
        row = self._db.execute(
            'SELECT committish FROM repository_tags WHERE project_id = ? AND tag = ?',
            (project_id, tag),
        ).fetchone()
        return None if row is None else str(row[0])

    def set_repository_tag(self, project_id: str, tag: str, committish: str) -> None:
        self._db.execute(
            'INSERT INTO repository_tags (project_id, tag, committish) '
            'VALUES (?, ?, ?) ON CONFLICT (project_id, tag) '
            'DO UPDATE SET committish = excluded.committish',
            (project_id, tag, committish),
        )

    def insert_release(self, row: abc.Mapping[str, object]) -> None:
        self._insert('releases', row)

    def deployment_events(
        self,
        release_id: str,
        environment_id: str | None = None,
        *,
        by_time: bool = False,
    ) -> list[Row]:
        """A release's deployment events with their environment.

        Ordered by environment slug, then as recorded, or by timestamp with
        ``by_time`` (events updated in place move).
        """
        sql = (
            'SELECT d.*, e.slug AS environment_slug, e.name AS environment_name '
            'FROM deployment_events d JOIN environments e ON e.id = d.environment_id '
            'WHERE d.release_id = ?'
        )
        params: list[object] = [release_id]
        if environment_id is not None:
            sql += ' AND d.environment_id = ?'
            params.append(environment_id)
        order = 'd.timestamp, d.seq' if by_time else 'd.seq'
        return self._all(f'{sql} ORDER BY e.slug, {order}', *params)

    def insert_deployment_event(self, row: abc.Mapping[str, object]) -> None:
        self._insert('deployment_events', row)

    def deployment_event_by_run(
        self, project_id: str, external_run_id: str
    ) -> Row | None:
        """The project's event recorded for ``external_run_id``, with its release."""
        return self._one(
            'SELECT d.*, r.tag AS release_tag FROM deployment_events d '
            'JOIN releases r ON r.id = d.release_id '
            'WHERE r.project_id = ? AND d.external_run_id = ? '
            'ORDER BY d.seq DESC LIMIT 1',
            project_id,
            external_run_id,
        )

    def update_deployment_event(
        self, seq: int, fields: abc.Mapping[str, object]
    ) -> None:
        assignments = ', '.join(f'{column} = ?' for column in fields)
        self._db.execute(
            f'UPDATE deployment_events SET {assignments} WHERE seq = ?',  # noqa: S608 - names are ours
            [*fields.values(), seq],
        )

    def project_deployments(self, project_id: str) -> list[Row]:
        """Every deployment event of a project, with its release and environment.

        Oldest first (by timestamp, then as recorded).
        """
        return self._all(
            """
            SELECT d.seq, d.timestamp, d.status, d.external_run_url,
                   d.release_id, r.tag, r.committish,
                   e.slug AS environment_slug
            FROM deployment_events d
            JOIN releases r ON r.id = d.release_id
            JOIN environments e ON e.id = d.environment_id
            WHERE r.project_id = ?
            ORDER BY d.timestamp, d.seq
            """,
            project_id,
        )

    # -- users -----------------------------------------------------------------

    def user(self, email: str) -> Row | None:
        return self._one('SELECT * FROM users WHERE email = ?', email)

    def memberships(self, email: str) -> list[Row]:
        return self._all(
            'SELECT o.name AS organization_name, o.slug AS organization_slug, m.role '
            'FROM memberships m JOIN organizations o ON o.id = m.organization_id '
            'WHERE m.user_email = ? ORDER BY o.name',
            email,
        )

    def teams_of_user(self, email: str) -> list[Row]:
        return self._all(
            'SELECT t.name AS team_name, t.slug AS team_slug, '
            'o.slug AS organization_slug FROM team_members tm '
            'JOIN teams t ON t.id = tm.team_id '
            'JOIN organizations o ON o.id = t.organization_id '
            'WHERE tm.user_email = ? ORDER BY t.name',
            email,
        )

    def users_by_identity(self, integration_slug: str, subject: str) -> list[str]:
        """Emails of the users with an active connection for ``subject``."""
        rows = self._db.execute(
            'SELECT DISTINCT user_email FROM identity_connections '
            "WHERE integration_slug = ? AND subject = ? AND status = 'active' "
            'ORDER BY user_email',
            (integration_slug, subject),
        )
        return [email for (email,) in rows]
