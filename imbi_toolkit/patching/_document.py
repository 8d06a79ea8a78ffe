"""Imbi's project document: the GET shape versus the patchable shape.

`GET .../projects/{id}` returns a project with nested `team`, `project_types`
and an `environments` list, plus keys the server owns. `PATCH` applies its
operations to a different document (docs/imbi-api.md#projects-patch):
`team_slug`, `project_type_slugs`, an `environments` map from slug to edge
properties, `links`, `identifiers` and the blueprint attributes as top-level
keys.
"""

from __future__ import annotations

import typing
from collections import abc

#: Paths the server rejects with 400 whatever the op: these and everything
#: under them.
READ_ONLY_PATHS = ('/id', '/created_at', '/updated_at', '/relationships')

#: GET-shape keys and what to patch instead.
GET_SHAPE_KEYS: dict[str, str] = {
    'team': 'patch /team_slug instead',
    'project_types': 'patch /project_type_slugs instead',
    'archived': 'use the archive and unarchive endpoints instead',
    'archived_at': 'use the archive and unarchive endpoints instead',
}

#: Keys the patchable document does not have (server-owned, GET-only or
#: computed), dropped before diffing.
SERVER_KEYS = frozenset(
    {
        'id',
        'created_at',
        'updated_at',
        'relationships',
        'team',
        'project_types',
        'archived',
        'archived_at',
        'services',
        'breakdown',
        'open_pr_count',
        'closed_pr_count',
        'viewer_open_pr_count',
        'viewer_closed_pr_count',
        'current_releases',
        # Computed per request from the deployment records (API 2.41).
        'latest_deployments',
        'lifecycle_results',
        # Only on list items (2.16.1+ / 2.26.2+): summaries, not properties.
        'release_summary',
        'drift_ranges',
    }
)

#: Keys of an environment entry that belong to the environment itself, not
#: to the project's edge to it.
ENVIRONMENT_KEYS = frozenset(
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
        # A property of the environment (API 2.30+), which the server leaves
        # out of the document it applies patches to: a `test` op that
        # carried it would always fail.
        'terminal',
    }
)

#: Keys of the patchable document that are not blueprint attributes.
CORE_KEYS = frozenset(
    {
        'name',
        'slug',
        'description',
        'icon',
        'team_slug',
        'project_type_slugs',
        'environments',
        'links',
        'identifiers',
        'score',
    }
)

#: Cleared by `""`: `null` or `remove` leave the old value in place.
CLEARED_BY_EMPTY_STRING = frozenset({'description', 'icon'})

#: Ignored by the server when empty, and required.
REQUIRED_STRINGS = frozenset({'name', 'slug'})


def patchable(project: abc.Mapping[str, typing.Any]) -> dict[str, typing.Any]:
    """Translate a project to the document that PATCH operations apply to.

    Accepts the GET shape (and tolerates one that is already patchable, or a
    mix, as after a user edited a fetched project by hand): `team` becomes
    `team_slug`, `project_types` becomes `project_type_slugs`, an
    `environments` list becomes a map from slug to edge properties, and the
    keys the server owns are dropped.

    Args:
        project: The project as `GET .../projects/{id}` returns it.

    Returns:
        A new dict; values that need no translation are shared, not copied.

    Raises:
        TypeError: When `project` is not a mapping.
        ValueError: When a team, project type or environment has no slug.
    """
    if type(project) is not dict and not isinstance(project, abc.Mapping):
        raise TypeError(
            f'a project document must be a mapping, not {type(project).__name__}'
        )
    document = {key: value for key, value in project.items() if key not in SERVER_KEYS}
    if document.get('score', 0) is None:
        # A project never scored shows `score: null`, but the server's
        # patchable document has no such property (docs/imbi-api.md#shapes):
        # a `test` of it would fail.
        del document['score']
    if 'team' in project and 'team_slug' not in project:
        document['team_slug'] = _slug(project['team'], 'team')
    if 'project_types' in project and 'project_type_slugs' not in project:
        types = project['project_types']
        if not isinstance(types, list):
            raise ValueError('project_types must be a list of project types or slugs')
        document['project_type_slugs'] = [_slug(item, 'project type') for item in types]
    environments = project.get('environments')
    if isinstance(environments, list):
        document['environments'] = _environment_map(environments)
    return document


def _slug(value: object, what: str) -> object:
    if isinstance(value, str) or value is None:
        return value
    if (type(value) is dict or isinstance(value, abc.Mapping)) and 'slug' in value:
        return value['slug']
    raise ValueError(f'a {what} must be a slug or an object with a "slug" key')


def _environment_map(environments: list[typing.Any]) -> dict[str, typing.Any]:
    result: dict[str, typing.Any] = {}
    for entry in environments:
        if isinstance(entry, str):
            result[entry] = {}
        elif (type(entry) is dict or isinstance(entry, abc.Mapping)) and isinstance(
            entry.get('slug'), str
        ):
            result[entry['slug']] = {
                key: value
                for key, value in entry.items()
                if key not in ENVIRONMENT_KEYS
            }
        else:
            raise ValueError(
                'each environment must be a slug or an object with a "slug" key'
            )
    return result
