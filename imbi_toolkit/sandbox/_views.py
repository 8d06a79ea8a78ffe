"""Response bodies in the real server's shapes.

See docs/imbi-api.md#shapes and docs/imbi-api.md#organizations.

Organisations and environments are raw graph dicts (timestamps with
``+00:00``); projects, teams, types, releases and users go through response
models (timestamps with ``Z``).
"""

from __future__ import annotations

import typing
from collections import abc

from imbi_toolkit.sandbox import _store as sandbox_store
from imbi_toolkit.sandbox import _versions as versions
from imbi_toolkit.sandbox._clock import zulu

Row = sandbox_store.Row
Json = dict[str, typing.Any]
Features = versions.Features


# What every node (organisation, team, type, environment, project) has.
_NODE_KEYS = ('id', 'name', 'slug', 'description', 'icon')

# Columns a response model renders as timestamps (with `Z`).
_TIMESTAMPS = frozenset({'created_at', 'updated_at', 'archived_at', 'last_login'})


def _columns(row: Row, *names: str) -> Json:
    """``names`` from ``row``, in that order, as a response model shows them."""
    return {
        name: zulu(row[name]) if name in _TIMESTAMPS else row[name] for name in names
    }


def _model_fields(row: Row) -> Json:
    """The fields every node's response model starts with."""
    return _columns(
        row, 'id', 'created_at', 'updated_at', 'name', 'slug', 'description', 'icon'
    )


def _raw_node(row: Row, keys: abc.Iterable[str], features: Features) -> Json:
    # A graph node has no property for an unset value: a raw dict leaves out
    # a null description or icon rather than showing null.
    node = {
        key: row[key]
        for key in keys
        if row[key] is not None or key not in ('description', 'icon')
    }
    if features.raw_timestamps_zulu:
        for key in ('created_at', 'updated_at'):
            if key in node:
                node[key] = zulu(node[key])
    return node


_RAW_ORGANIZATION_KEYS = (*_NODE_KEYS, 'tag_formats', 'created_at', 'updated_at')


def _raw_organization(row: Row, features: Features) -> Json:
    node = _raw_node(row, _RAW_ORGANIZATION_KEYS, features)
    if features.document_analytics_identities:
        # Stored on every organisation created since 2.24.0.
        node['document_analytics_identities'] = 'authors_only'
    return node


def organization(
    row: Row, counts: abc.Mapping[str, int], features: Features, prefix: str = ''
) -> Json:
    slug = row['slug']
    return {
        **_raw_organization(row, features),
        'relationships': {
            # No trailing slash, as in Imbi: following these gets a 307.
            name: {
                'href': f'{prefix}/organizations/{slug}/{name}',
                'count': counts[name],
            }
            for name in ('teams', 'members', 'projects')
        },
    }


def organization_model(row: Row, features: Features) -> Json:
    body = {**_model_fields(row), 'tag_formats': row['tag_formats']}
    if features.document_analytics_identities:
        body['document_analytics_identities'] = 'authors_only'
    return body


def team(row: Row, org: Row, features: Features) -> Json:
    return {**_model_fields(row), 'organization': organization_model(org, features)}


def project_type(row: Row, org: Row, features: Features) -> Json:
    return {
        **_model_fields(row),
        'deployable': row['deployable'],
        'releasable': row['releasable'],
        'tag_formats': row['tag_formats'],
        'organization': organization_model(org, features),
    }


def environment(
    row: Row, org: Row, project_count: int, features: Features, prefix: str = ''
) -> Json:
    """An environment list item: a raw graph dict."""
    body = _raw_node(
        row,
        (*_NODE_KEYS, 'sort_order', 'label_color', 'can_deploy', 'can_promote'),
        features,
    )
    # The list shows `terminal` only when the node stores it (no default).
    if features.environment_terminal and row['terminal'] is not None:
        body['terminal'] = row['terminal']
    if features.allow_autonomous:
        body['allow_autonomous'] = bool(row['allow_autonomous'])
    times = _raw_node(row, ('created_at', 'updated_at'), features)
    body.update(
        created_at=times['created_at'],
        updated_at=times['updated_at'],
        organization=_raw_organization(org, features),
        relationships={
            'projects': {
                'href': f'{prefix}/organizations/{org["slug"]}/projects/'
                f'?environment={row["slug"]}',
                'count': project_count,
            }
        },
    )
    return body


def environment_node_fields(row: Row, features: Features) -> Json:
    """An environment's own fields that a project's entry for it shows."""
    fields: Json = {'can_deploy': row['can_deploy'], 'can_promote': row['can_promote']}
    if features.environment_terminal:
        fields['terminal'] = bool(row['terminal'])
    if features.allow_autonomous:
        fields['allow_autonomous'] = bool(row['allow_autonomous'])
    return fields


def _project_environment(row: Row, org: Row, features: Features) -> Json:
    entry: Json = {
        **_model_fields(row),
        'sort_order': row['sort_order'],
        'label_color': row['label_color'],
        **environment_node_fields(row, features),
        'organization': organization_model(org, features),
    }
    # Edge properties are merged in, raw (``+00:00`` timestamps); an edge
    # copy of a leaked node field shows instead of the node's value.
    protected = versions.protected_environment_keys(features)
    entry.update(
        (key, value) for key, value in row['properties'].items() if key not in protected
    )
    return entry


def _deployments_by_environment(
    store: sandbox_store.Store, project_id: str, features: Features
) -> dict[str, tuple[Row | None, Row]]:
    """Per environment slug, the current deployment and the newest attempt.

    The current one is the newest event of any status, or, since 2.29.0,
    the newest successful one (`None` when there is none).
    """
    newest: dict[str, Row] = {}
    succeeded: dict[str, Row] = {}
    for event in store.project_deployments(project_id):  # oldest first
        newest[event['environment_slug']] = event
        if event['status'] == 'success':
            succeeded[event['environment_slug']] = event
    if not features.latest_deployments:
        return {slug: (event, event) for slug, event in newest.items()}
    return {slug: (succeeded.get(slug), event) for slug, event in newest.items()}


def _newer_attempt(serving: Row | None, attempt: Row) -> Json | None:
    """The newest attempt in an environment, unless it is what is serving."""
    if serving is not None and attempt['seq'] == serving['seq']:
        return None
    return {
        'status': attempt['status'],
        'deployed_at': zulu(attempt['timestamp']),
        'tag': attempt['tag'],
        'committish': attempt['committish'],
    }


def current_releases(
    store: sandbox_store.Store, project_id: str, features: Features
) -> tuple[Json, Json]:
    """A list item's ``current_releases`` and ``latest_deployments``."""
    current: Json = {}
    latest: Json = {}
    for slug, (serving, attempt) in _deployments_by_environment(
        store, project_id, features
    ).items():
        if serving is not None:
            current[slug] = {
                'deployed_at': zulu(serving['timestamp']),
                'performed_by': None,
                'tag': serving['tag'],
                'committish': serving['committish'],
            }
        newer = _newer_attempt(serving, attempt)
        if newer is not None:
            latest[slug] = newer
    return current, latest


def releases_current(
    store: sandbox_store.Store,
    record: sandbox_store.ProjectRecord,
    features: Features,
) -> list[Json]:
    """``GET …/releases/current``: one item per environment of the project."""
    by_environment = _deployments_by_environment(store, record.row['id'], features)
    items = []
    for env in record.environments:  # sort_order, then name
        serving, attempt = by_environment.get(env['slug'], (None, None))
        release_row = (
            store.release_by_id(serving['release_id']) if serving is not None else None
        )
        item: Json = {
            'environment': {'slug': env['slug'], 'name': env['name']},
            'release': (
                release(release_row, features) if release_row is not None else None
            ),
        }
        if features.latest_deployments:
            item['latest_deployment'] = (
                _newer_attempt(serving, attempt) if attempt is not None else None
            )
        item.update(
            current_status=serving['status'] if serving is not None else None,
            last_event_at=zulu(serving['timestamp']) if serving is not None else None,
            external_run_url=(
                serving['external_run_url'] if serving is not None else None
            ),
            # Filled from the deployment plugin, which the sandbox has not.
            ci_status=None,
            performed_by=None,
            performed_by_email=None,
        )
        items.append(item)
    return items


# The sandbox has no pull requests; both project shapes show the counts.
_PR_COUNTS: Json = {
    'open_pr_count': 0,
    'closed_pr_count': 0,
    'viewer_open_pr_count': 0,
    'viewer_closed_pr_count': 0,
}

ProjectView = typing.Literal['list', 'get', 'mutation']


def project(
    store: sandbox_store.Store,
    record: sandbox_store.ProjectRecord,
    org: Row,
    features: Features,
    *,
    view: ProjectView = 'get',
    prefix: str = '',
) -> Json:
    """The full ``ProjectResponse`` of one project.

    Args:
        store: Where the project's deployments are read from.
        record: The project and the rows it shows.
        org: Its organisation.
        features: What the emulated API line shows.
        view: `list` for a list item (with `current_releases` and, since
            2.29.0, `latest_deployments`), `get` for the single GET (which
            leaves both `{}` since 2.29.0), `mutation` for a PATCH answer.
        prefix: Where the API is mounted, for the relationship links.
    """
    row = record.row
    project_id = row['id']
    team_row = record.team
    environments = record.environments
    org_path = f'{prefix}/organizations/{org["slug"]}'
    base = f'{org_path}/projects/{project_id}'
    body: Json = {
        **_columns(
            row, *_NODE_KEYS, 'created_at', 'updated_at', 'archived', 'archived_at'
        ),
        'team': team(team_row, org, features),
        'project_types': [
            project_type(type_row, org, features) for type_row in record.types
        ],
        'environments': [
            _project_environment(env, org, features) for env in environments
        ],
        **_columns(row, 'links', 'identifiers', 'services', 'score'),
        'breakdown': None,
        'relationships': {
            'team': {
                'href': f'{org_path}/teams/{team_row["slug"]}',
                'count': 1,
            },
            'environments': {
                'href': f'{base}/environments',
                'count': len(environments),
            },
            'href': f'{base}/relationships',
            'outbound_count': 0,
            'inbound_count': 0,
        },
        **_PR_COUNTS,
    }
    current: Json = {}
    latest: Json = {}
    # The single GET computed current_releases until 2.29.0 made both maps
    # list-only.
    if view == 'list' or (view == 'get' and not features.latest_deployments):
        current, latest = current_releases(store, project_id, features)
    body['current_releases'] = current
    if features.latest_deployments:
        body['latest_deployments'] = latest if view == 'list' else {}
    if view == 'list':
        if features.list_release_summary:
            body['release_summary'] = None
        if features.release_drift:
            body['drift_ranges'] = {}  # computed with slim=true only
    # Blueprint attributes are top-level extra keys.
    for key, value in row['attributes'].items():
        body.setdefault(key, value)
    return body


def project_slim(store: sandbox_store.Store, row: Row, features: Features) -> Json:
    """The ``slim=true`` list item: only what a projects list page reads."""
    project_id = row['id']
    team_row = store.team_by_id(row['team_id'])
    environments = []
    for env in store.environments_of_project(project_id):
        ref = {
            'name': env['name'],
            'slug': env['slug'],
            'label_color': env['label_color'],
            'sort_order': env['sort_order'],
        }
        if features.environment_terminal:
            ref['terminal'] = bool(env['terminal'])
        environments.append(ref)
    current, latest = current_releases(store, project_id, features)
    body: Json = {
        **_columns(row, 'id', 'name', 'slug', 'description', 'archived', 'score'),
        'team': {'name': team_row['name'], 'slug': team_row['slug']},
        'project_types': [
            {
                'name': type_row['name'],
                'slug': type_row['slug'],
                'deployable': type_row['deployable'],
                'releasable': type_row['releasable'],
            }
            for type_row in store.types_of_project(project_id)
        ],
        'environments': environments,
        **_PR_COUNTS,
        'current_releases': current,
        'release_summary': None,
    }
    if features.latest_deployments:
        body['latest_deployments'] = latest
    if features.release_drift:
        body['drift_ranges'] = {}  # no drift data in the sandbox
    return body


def release(row: Row, features: Features) -> Json:
    body = _columns(
        row,
        'id',
        'project_id',
        'tag',
        'committish',
        'title',
        'description',
        'links',
        'created_at',
        'updated_at',
        'created_by',
    )
    if features.release_drift:
        # Set by CI drift ingestion only, which the sandbox does not have.
        body['drift_detected'] = None
        body['drift_checked_at'] = None
    return body


def deployment_event(event: Row, features: Features) -> Json:
    stored = features.external_run_url  # before 2.18.0 nothing was kept
    body: Json = {
        'timestamp': zulu(event['timestamp']),
        'status': event['status'],
        'note': event['note'],
        'external_run_id': event['external_run_id'] if stored else None,
        'external_run_url': event['external_run_url'] if stored else None,
        # Filled only by the server's own resync/deploy paths.
        'performed_by': None,
    }
    if features.event_credential:
        body['credential'] = None
    return body


def deployment_edge(
    environment_slug: str, environment_name: str, events: list[Row], features: Features
) -> Json:
    return {
        'environment': {'slug': environment_slug, 'name': environment_name},
        'deployments': [deployment_event(event, features) for event in events],
        'current_status': events[-1]['status'] if events else None,
    }


def deployment_edges(events: list[Row], features: Features) -> list[Json]:
    """Group a release's events (ordered by environment slug) into edges."""
    grouped: dict[str, list[Row]] = {}
    for event in events:
        grouped.setdefault(event['environment_slug'], []).append(event)
    return [
        deployment_edge(slug, rows[0]['environment_name'], rows, features)
        for slug, rows in grouped.items()
    ]


def user(row: Row, memberships: list[Row]) -> Json:
    return {
        **_columns(
            row,
            'email',
            'display_name',
            'is_active',
            'is_admin',
            'is_service_account',
            'created_at',
            'last_login',
            'avatar_url',
            'email_notifications',
        ),
        'organizations': memberships,
    }
