"""The project document the magics hand to users: what PATCH applies to.

`GET .../projects/{id}` returns a rich shape (nested team, types and
environments, counters, relationships), but the server applies JSON Patch to
a flatter *patchable document* (contract §1.1): `team_slug`,
`project_type_slugs`, `environments` as a map of edge properties, `links`,
`identifiers` and the blueprint attributes at the top level. A diff of the
GET shape would produce pointers the server rejects, so the magics convert a
fetched project into the patchable document first.
"""

from __future__ import annotations

import typing
from collections import abc

# Keys of the GET shape with no place in the patchable document: read-only,
# server-computed or replaced by the flat keys built below.
_NOT_PATCHABLE = frozenset(
    {
        'id',
        'team',
        'project_types',
        'environments',
        'created_at',
        'updated_at',
        'archived',
        'archived_at',
        'relationships',
        'services',
        'breakdown',
        'open_pr_count',
        'closed_pr_count',
        'viewer_open_pr_count',
        'viewer_closed_pr_count',
        'current_releases',
        'release_summary',
        'lifecycle_results',
    }
)

# Environment node fields merged into each GET environment entry; the rest
# are the project's edge properties, which PATCH reads and writes.
_ENVIRONMENT_NODE_KEYS = frozenset(
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
        'can_deploy',
        'can_promote',
    }
)

Document = dict[str, typing.Any]


def _slug(value: object) -> str | None:
    if isinstance(value, abc.Mapping):
        slug = value.get('slug')
        return str(slug) if slug is not None else None
    return None


def patchable(project: abc.Mapping[str, typing.Any]) -> Document:
    """Convert a project as the API returns it to the patchable document.

    Args:
        project: The project from the API (also the 200 body of a PATCH).

    Returns:
        A new dict in the shape the server applies JSON Patch operations to.
    """
    document: Document = {
        key: value for key, value in project.items() if key not in _NOT_PATCHABLE
    }
    team = _slug(project.get('team'))
    if team is not None:
        document['team_slug'] = team
    types = project.get('project_types')
    if isinstance(types, list):
        document['project_type_slugs'] = [
            slug for slug in (_slug(item) for item in types) if slug is not None
        ]
    environments = project.get('environments')
    if isinstance(environments, list):
        document['environments'] = {
            str(env['slug']): {
                key: value
                for key, value in env.items()
                if key not in _ENVIRONMENT_NODE_KEYS
            }
            for env in environments
            if isinstance(env, abc.Mapping) and env.get('slug') is not None
        }
    elif isinstance(environments, abc.Mapping):  # already patchable
        document['environments'] = dict(environments)
    return document
