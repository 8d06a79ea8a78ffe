"""JSON Patch on a project, with the real server's semantics.

See docs/imbi-api.md#projects-patch.

The operations apply to a *patchable document* built from the stored project
(``team_slug``, ``project_type_slugs``, ``environments`` as a map, links,
identifiers and blueprint attributes at the top level), not to the GET shape.
"""

from __future__ import annotations

import typing
from collections import abc

import jsonpatch
import jsonpointer
import pydantic

from imbi_toolkit.sandbox import _clock as clock
from imbi_toolkit.sandbox import _errors as errors
from imbi_toolkit.sandbox import _store as sandbox_store
from imbi_toolkit.sandbox import _versions as versions
from imbi_toolkit.sandbox import _views as views

Row = sandbox_store.Row

READONLY_PATHS = ('/created_at', '/updated_at', '/relationships', '/id')

# Keys never taken from the patched document (writes to them are ignored).
RESERVED = frozenset(
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
    }
)


class PatchOperation(pydantic.BaseModel):
    """One RFC 6902 operation as the server's request model reads it."""

    model_config = pydantic.ConfigDict(populate_by_name=True)

    op: typing.Literal['add', 'remove', 'replace', 'move', 'copy', 'test']
    path: str
    value: typing.Any = None
    from_: str | None = pydantic.Field(None, alias='from')

    def as_dict(self) -> dict[str, typing.Any]:
        out: dict[str, typing.Any] = {'op': self.op, 'path': self.path}
        # `value` is forwarded only when sent: `add` without it is a 400.
        if 'value' in self.model_fields_set:
            out['value'] = self.value
        if self.from_ is not None:
            out['from'] = self.from_
        return out


OPERATIONS = pydantic.TypeAdapter(list[PatchOperation])


class ProjectUpdate(pydantic.BaseModel):
    """The patched document's schema; extra keys are blueprint attributes."""

    model_config = pydantic.ConfigDict(extra='allow')

    name: str | None = None
    slug: str | None = None
    description: str | None = None
    icon: str | None = None
    team_slug: str | None = None
    project_type_slugs: list[str] | None = pydantic.Field(default=None, min_length=1)
    environments: dict[str, dict[str, typing.Any]] | None = None
    links: dict[str, pydantic.AnyUrl] | None = None
    identifiers: dict[str, int | str] | None = None

    @pydantic.field_validator('project_type_slugs')
    @classmethod
    def _deduplicate(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(value))


class InternalError(Exception):
    """The real server fails with a plain-text 500 here (uncaught pointer error)."""


def document(
    record: sandbox_store.ProjectRecord, features: versions.Features
) -> dict[str, typing.Any]:
    """Build the patchable document of a stored project.

    The document shares no container with ``record``, so a patch may
    change it in place.
    """
    row = record.row
    protected = versions.protected_environment_keys(features)
    doc: dict[str, typing.Any] = {
        'name': row['name'],
        'slug': row['slug'],
        'description': row['description'],
        'icon': row['icon'],
        'team_slug': record.team['slug'],
        'project_type_slugs': [t['slug'] for t in record.types],
        'environments': {
            env['slug']: {
                **_leaked_fields(env, features),
                **{
                    key: _copy(value)
                    for key, value in env['properties'].items()
                    if key not in protected
                },
            }
            for env in record.environments
        },
        'links': _copy(row['links']),
        'identifiers': _copy(row['identifiers']),
    }
    if row['score'] is not None:
        doc['score'] = row['score']
    if features.service_edges:
        # Accepted in a patch and dropped: no blueprint declares it.
        doc['service_edges'] = [
            {
                'slug': service.get(features.service_key),
                'name': service.get(features.service_key.replace('_slug', '_name')),
                'identifier': service.get('identifier'),
                'canonical_url': service.get('canonical_url'),
            }
            for service in row['services']
        ]
    for key, value in row['attributes'].items():
        doc.setdefault(key, _copy(value))
    return doc


def _leaked_fields(env: Row, features: versions.Features) -> dict[str, object]:
    # Environment node fields that are not protected: the real server puts
    # them into each entry, and a PATCH writes them back onto the edge.
    nodes = views.environment_node_fields(env, features)
    return {
        name: nodes[name]
        for name in features.leaked_environment_fields
        # Only when the node stores it (environments made before 2.31 do not).
        if name in nodes and (name != 'allow_autonomous' or env[name] is not None)
    }


def _copy(value: typing.Any) -> typing.Any:
    """Copy a decoded JSON value (cheaper than `copy.deepcopy` for these)."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _check_paths(operations: abc.Sequence[PatchOperation]) -> None:
    for operation in operations:
        for path in (operation.path, operation.from_):
            if path is None:
                continue
            if path == '':
                raise errors.ApiError(400, 'Root path cannot be patched')
            if any(path == ro or path.startswith(f'{ro}/') for ro in READONLY_PATHS):
                raise errors.ApiError(
                    400, f'Path {path!r} is read-only and cannot be patched'
                )


def _apply(
    doc: dict[str, typing.Any], operations: abc.Sequence[PatchOperation]
) -> object:
    try:
        # In place: the document is built for this request only, and on
        # failure nothing is stored.
        return jsonpatch.apply_patch(
            doc, [op.as_dict() for op in operations], in_place=True
        )
    except jsonpatch.JsonPatchTestFailed as exc:
        raise errors.ApiError(422, f'Patch test operation failed: {exc}') from None
    except (jsonpatch.JsonPatchConflict, jsonpatch.InvalidJsonPatch) as exc:
        raise errors.ApiError(400, f'Invalid patch: {exc}') from None
    except jsonpointer.JsonPointerException as exc:
        raise InternalError(str(exc)) from exc


def _blueprint_value(
    name: str, rule: abc.Mapping[str, typing.Any], value: object
) -> object:
    expected = rule.get('type', 'string')
    python_types: dict[str, tuple[type, ...]] = {
        'string': (str,),
        'boolean': (bool,),
        'integer': (int,),
        'number': (int, float),
    }
    allowed = python_types.get(expected, (object,))
    if isinstance(value, bool) and expected in ('integer', 'number'):
        allowed = ()
    if not isinstance(value, allowed):
        raise errors.ApiError(
            400,
            f"Validation error: [{{'type': '{expected}_type', 'loc': ('{name}',), "
            f"'msg': 'Input should be a valid {expected}', 'input': {value!r}}}]",
        )
    choices = rule.get('enum')
    if choices and isinstance(value, str):
        # Enum values are case-coerced to the declared spelling.
        for choice in choices:
            if choice.lower() == value.lower():
                return choice
        expected_text = ', '.join(repr(choice) for choice in choices)
        raise errors.ApiError(
            400,
            f"Validation error: [{{'type': 'enum', 'loc': ('{name}',), "
            f"'msg': 'Input should be {expected_text}', 'input': {value!r}}}]",
        )
    return value


def _by_slug(
    own: list[Row],
    org: Row,
    slugs: abc.Iterable[str],
    load: abc.Callable[[], list[Row]],
) -> dict[str, Row]:
    """An organisation's rows by slug, for looking ``slugs`` up.

    The project's ``own`` rows (of the organisation) answer alone when
    they hold every slug; otherwise ``load`` reads all of the organisation's.
    """
    found = {row['slug']: row for row in own}
    if all(row['organization_id'] == org['id'] for row in own) and all(
        slug in found for slug in slugs
    ):
        return found
    return {row['slug']: row for row in load()}


def apply(
    store: sandbox_store.Store,
    org: Row,
    record: sandbox_store.ProjectRecord,
    operations: abc.Sequence[PatchOperation],
    features: versions.Features,
) -> sandbox_store.ProjectRecord:
    """Apply ``operations`` to a project and store the result.

    Call inside a store transaction.

    Returns:
        The project's record as now stored.

    Raises:
        ApiError: 400, 422 as the real server answers them.
        InternalError: Where the real server answers a plain-text 500.
    """
    _check_paths(operations)
    patched = _apply(document(record, features), operations)
    if not isinstance(patched, dict):
        raise errors.ApiError(400, 'Patch result must be a JSON object')
    try:
        update = ProjectUpdate.model_validate(patched)
    except pydantic.ValidationError as exc:
        raise errors.ApiError(400, f'Validation error: {exc.errors()}') from None

    row = record.row
    team = record.team
    if update.team_slug and update.team_slug != team['slug']:
        found = store.team(org['id'], update.team_slug)
        if found is None:
            raise errors.ApiError(
                422,
                f'Team {update.team_slug!r} not found in organization {org["slug"]!r}',
            )
        team = found
    type_slugs = update.project_type_slugs
    types = _by_slug(
        record.types, org, type_slugs or (), lambda: store.project_types(org['id'])
    )
    if type_slugs is not None:
        unknown = sorted(slug for slug in type_slugs if slug not in types)
        if unknown:
            raise errors.ApiError(422, f'Project type slug(s) not found: {unknown!r}')
    else:
        type_slugs = [t['slug'] for t in record.types]
    if update.environments is not None:
        environments = _by_slug(
            record.environments,
            org,
            update.environments,
            lambda: store.environments(org['id']),
        )
        unknown = sorted(
            slug for slug in update.environments if slug not in environments
        )
        if unknown:
            raise errors.ApiError(422, f'Environment slug(s) not found: {unknown!r}')
        protected = versions.protected_environment_keys(features)
        edges = {
            environments[slug]['id']: {
                key: value for key, value in properties.items() if key not in protected
            }
            for slug, properties in update.environments.items()
        }
    else:
        edges = {env['id']: env['properties'] for env in record.environments}

    declared: dict[str, typing.Any] = {}
    for slug in type_slugs:
        declared.update(types[slug]['attributes'])
    attributes = dict(row['attributes'])
    for key, value in (update.model_extra or {}).items():
        if key in RESERVED or key not in declared:
            continue  # undeclared attributes are dropped silently
        if value is None:
            attributes.pop(key, None)  # `replace` with null clears
        else:
            attributes[key] = _blueprint_value(key, declared[key], value)
    missing = [
        name
        for name, rule in declared.items()
        if rule.get('required') and attributes.get(name) is None
    ]
    if missing:
        problems = [
            {'type': 'missing', 'loc': (name,), 'msg': 'Field required'}
            for name in missing
        ]
        raise errors.ApiError(400, f'Validation error: {problems!r}')

    fields: dict[str, object] = {
        # An empty name or slug is ignored; null does not clear description/icon.
        'name': update.name or row['name'],
        'slug': update.slug or row['slug'],
        'description': row['description']
        if update.description is None
        else update.description,
        'icon': row['icon'] if update.icon is None else update.icon,
        'team_id': team['id'],
        'links': (
            {key: str(url) for key, url in update.links.items()}
            if update.links is not None
            else row['links']
        ),
        'identifiers': update.identifiers
        if update.identifiers is not None
        else row['identifiers'],
        'attributes': attributes,
        'updated_at': clock.now(),
    }
    return store.update_project(
        record,
        fields=fields,
        type_ids=[types[slug]['id'] for slug in type_slugs],
        environments=edges,
    )
