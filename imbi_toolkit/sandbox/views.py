"""Response bodies in the real server's shapes.

See docs/imbi-api.md#shapes and docs/imbi-api.md#organizations.

Organisations and environments are raw graph dicts (timestamps with
``+00:00``); projects, teams, types, releases and users go through response
models (timestamps with ``Z``).
"""

from __future__ import annotations

import typing
from collections import abc

from imbi_toolkit.sandbox import store as sandbox_store
from imbi_toolkit.sandbox.clock import zulu

Row = sandbox_store.Row
Json = dict[str, typing.Any]

# Edge properties never shown from an environment edge (Imbi's protected keys).
PROTECTED_ENV_KEYS = frozenset(
    {
        'id',
        'name',
        'slug',
        'sort_order',
        'organization',
        'created_at',
        'updated_at',
        'label_color',
        'description',
        'icon',
    }
)


def _model_fields(row: Row) -> Json:
    """The fields every node's response model starts with."""
    return {
        'id': row['id'],
        'created_at': zulu(row['created_at']),
        'updated_at': zulu(row['updated_at']),
        'name': row['name'],
        'slug': row['slug'],
        'description': row['description'],
        'icon': row['icon'],
    }


def organization(row: Row, counts: abc.Mapping[str, int], prefix: str = '') -> Json:
    slug = row['slug']
    return {
        'id': row['id'],
        'name': row['name'],
        'slug': slug,
        'description': row['description'],
        'icon': row['icon'],
        'tag_formats': row['tag_formats'],
        'created_at': row['created_at'],
        'updated_at': row['updated_at'],
        'relationships': {
            # No trailing slash, as in Imbi: following these gets a 307.
            name: {
                'href': f'{prefix}/organizations/{slug}/{name}',
                'count': counts[name],
            }
            for name in ('teams', 'members', 'projects')
        },
    }


def organization_model(row: Row) -> Json:
    return {**_model_fields(row), 'tag_formats': row['tag_formats']}


def team(row: Row, org: Row) -> Json:
    return {**_model_fields(row), 'organization': organization_model(org)}


def project_type(row: Row, org: Row) -> Json:
    return {
        **_model_fields(row),
        'deployable': row['deployable'],
        'releasable': row['releasable'],
        'tag_formats': row['tag_formats'],
        'organization': organization_model(org),
    }


def environment(row: Row, org: Row, project_count: int, prefix: str = '') -> Json:
    return {
        'id': row['id'],
        'name': row['name'],
        'slug': row['slug'],
        'description': row['description'],
        'icon': row['icon'],
        'sort_order': row['sort_order'],
        'label_color': row['label_color'],
        'can_deploy': row['can_deploy'],
        'can_promote': row['can_promote'],
        'created_at': row['created_at'],
        'updated_at': row['updated_at'],
        'organization': {
            key: value for key, value in org.items() if key != 'tag_formats'
        },
        'relationships': {
            'projects': {
                'href': f'{prefix}/organizations/{org["slug"]}/projects/'
                f'?environment={row["slug"]}',
                'count': project_count,
            }
        },
    }


def _project_environment(row: Row, org: Row) -> Json:
    entry: Json = {
        **_model_fields(row),
        'sort_order': row['sort_order'],
        'label_color': row['label_color'],
        'can_deploy': row['can_deploy'],
        'can_promote': row['can_promote'],
        'organization': organization_model(org),
    }
    # Edge properties are merged in, raw (``+00:00`` timestamps).
    entry.update(
        (key, value)
        for key, value in row['properties'].items()
        if key not in PROTECTED_ENV_KEYS
    )
    return entry


def current_releases(store: sandbox_store.Store, project_id: str) -> Json:
    """Per environment slug, the release of the latest deployment event."""
    return {
        row['environment_slug']: {
            'deployed_at': zulu(row['timestamp']),
            'performed_by': None,
            'tag': row['tag'],
            'committish': row['committish'],
        }
        for row in store.latest_deployments(project_id)
    }


def project(
    store: sandbox_store.Store,
    record: sandbox_store.ProjectRecord,
    org: Row,
    *,
    with_current_releases: bool = True,
    prefix: str = '',
) -> Json:
    """The full ``ProjectResponse`` of one project."""
    row = record.row
    project_id = row['id']
    team_row = record.team
    environments = record.environments
    org_path = f'{prefix}/organizations/{org["slug"]}'
    base = f'{org_path}/projects/{project_id}'
    body: Json = {
        'id': project_id,
        'name': row['name'],
        'slug': row['slug'],
        'description': row['description'],
        'icon': row['icon'],
        'created_at': zulu(row['created_at']),
        'updated_at': zulu(row['updated_at']),
        'archived': row['archived'],
        'archived_at': zulu(row['archived_at']),
        'team': team(team_row, org),
        'project_types': [project_type(type_row, org) for type_row in record.types],
        'environments': [_project_environment(env, org) for env in environments],
        'links': row['links'],
        'identifiers': row['identifiers'],
        'services': row['services'],
        'score': row['score'],
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
        'open_pr_count': 0,
        'closed_pr_count': 0,
        'viewer_open_pr_count': 0,
        'viewer_closed_pr_count': 0,
        'current_releases': (
            current_releases(store, project_id) if with_current_releases else {}
        ),
    }
    # Blueprint attributes are top-level extra keys.
    for key, value in row['attributes'].items():
        body.setdefault(key, value)
    return body


def project_slim(store: sandbox_store.Store, row: Row) -> Json:
    """The ``slim=true`` list item: only what a projects list page reads."""
    project_id = row['id']
    team_row = store.team_by_id(row['team_id'])
    return {
        'id': project_id,
        'name': row['name'],
        'slug': row['slug'],
        'description': row['description'],
        'archived': row['archived'],
        'score': row['score'],
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
        'environments': [
            {
                'name': env['name'],
                'slug': env['slug'],
                'label_color': env['label_color'],
                'sort_order': env['sort_order'],
            }
            for env in store.environments_of_project(project_id)
        ],
        'open_pr_count': 0,
        'closed_pr_count': 0,
        'viewer_open_pr_count': 0,
        'viewer_closed_pr_count': 0,
        'current_releases': current_releases(store, project_id),
        'release_summary': None,
    }


def release(row: Row) -> Json:
    return {
        'id': row['id'],
        'project_id': row['project_id'],
        'tag': row['tag'],
        'committish': row['committish'],
        'title': row['title'],
        'description': row['description'],
        'links': row['links'],
        'created_at': zulu(row['created_at']),
        'updated_at': zulu(row['updated_at']),
        'created_by': row['created_by'],
    }


def deployment_edge(
    environment_slug: str, environment_name: str, events: list[Row]
) -> Json:
    return {
        'environment': {'slug': environment_slug, 'name': environment_name},
        'deployments': [
            {
                'timestamp': zulu(event['timestamp']),
                'status': event['status'],
                'note': event['note'],
                # Filled only by the server's own resync/deploy paths.
                'external_run_id': None,
                'external_run_url': None,
                'performed_by': None,
            }
            for event in events
        ],
        'current_status': events[-1]['status'] if events else None,
    }


def deployment_edges(events: list[Row]) -> list[Json]:
    """Group a release's events (ordered by environment slug) into edges."""
    grouped: dict[str, list[Row]] = {}
    for event in events:
        grouped.setdefault(event['environment_slug'], []).append(event)
    return [
        deployment_edge(slug, rows[0]['environment_name'], rows)
        for slug, rows in grouped.items()
    ]


def user(row: Row, memberships: list[Row]) -> Json:
    return {
        'email': row['email'],
        'display_name': row['display_name'],
        'is_active': row['is_active'],
        'is_admin': row['is_admin'],
        'is_service_account': row['is_service_account'],
        'created_at': zulu(row['created_at']),
        'last_login': zulu(row['last_login']),
        'avatar_url': row['avatar_url'],
        'email_notifications': row['email_notifications'],
        'organizations': memberships,
    }
