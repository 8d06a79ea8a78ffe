#!/usr/bin/env python3
"""Record one fixed sequence of Imbi API exchanges as normalised JSON.

The same scenario runs against any target: the real imbi-api (see
/work/shared/tools/real-imbi) or the imbi-toolkit sandbox. Its output is the
truth a conformance test compares the sandbox against
(``tests/conformance/``).

Usage::

    IMBI_CLIENT_API_TOKEN=ik_... scripts/record_exchanges.py \\
        --base-url http://127.0.0.1:58000 --org eng-... --out recording.json
    .venv/bin/python scripts/record_exchanges.py --sandbox 2.16 --out sandbox.json

The scenario creates what it writes to: releases, commits and run ids carry a
fresh random run id, so it can be repeated against the same organisation. It
reads and patches one existing project (``--project-slug``, default
``billing-api``: the demo project of the sandbox and of ``run.sh org``).

In the output, every value that differs between runs or targets is replaced by
a placeholder: ids by ``<id:N>`` (numbered in order of first appearance,
created things first), timestamps by ``<ts:Z>``/``<ts:+00:00>``/``<ts:naive>``,
the organisation slug by ``<org>`` (other organisations' by ``<other-org:N>``),
the run id by ``<run>``, the scenario's
commits by ``<commit:N>``, the base URL (and any loopback URL) by ``<base>``,
API keys and JWTs by ``<api-key>``/``<jwt>``. The token is never written.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import secrets
import sys
import typing
import urllib.parse

import httpx

FORMAT = 1
# Bump when the step list changes, so old recordings are recognisably stale.
SCENARIO_VERSION = 2

# Response headers a client depends on; everything else is noise.
RECORDED_HEADERS = (
    'content-type',
    'www-authenticate',
    'location',
    'retry-after',
    'link',
)

# Well-formed API keys that no server issued (the `ik_<32 hex>_<secret>` shape).
UNKNOWN_API_KEY = 'ik_' + '0' * 32 + '_recorderUnknownKey'
MALFORMED_API_KEY = 'ik_not-a-key'
NOT_A_JWT = 'recorder.not.a.jwt'

# Ids the scenario makes up; they never exist on a target.
UNKNOWN_PROJECT_ID = 'NoSuchProject00000000'
UNKNOWN_RELEASE_ID = 'NoSuchRelease00000000'

_TIMESTAMP = re.compile(
    r'\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?'
)
_API_KEY = re.compile(r'ik_[0-9a-fA-F]{32}_[A-Za-z0-9_-]+')
_JWT = re.compile(r'eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*')
_LOOPBACK_URL = re.compile(r'https?://(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?')
# An id as Imbi makes them (nanoid, 21 characters of [A-Za-z0-9_-]) or longer.
_ID_VALUE = re.compile(r'^[A-Za-z0-9_-]{16,64}$')
# Keys whose string values are ids of server objects.
_ID_KEYS = frozenset(
    {'id', 'project_id', 'release_id', 'integration_id', 'node_id', 'current_release'}
)

Auth = typing.Literal['token', 'none', 'malformed', 'unknown-key', 'not-a-jwt']


class ScenarioError(RuntimeError):
    """The target cannot run the scenario (e.g. the project is missing)."""


@dataclasses.dataclass
class Exchange:
    """One request of the scenario and what came back (before normalisation)."""

    name: str
    method: str
    path: str  # template, e.g. /organizations/{org}/projects/{project_id}
    query: list[tuple[str, str]]  # templates too
    auth: Auth
    request_body: object
    request_content_type: str | None
    status: int
    headers: dict[str, str]
    body: object
    controlled: bool  # the scenario made all the data this answer shows
    same_items: bool  # the answer lists the same objects (ids) on any target


@dataclasses.dataclass
class Recorder:
    """Runs requests against one target and keeps the exchanges."""

    client: httpx.Client
    token: str
    params: dict[str, str]
    exchanges: list[Exchange] = dataclasses.field(default_factory=list)

    def send(
        self,
        name: str,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        json_body: object = None,
        content: tuple[str, bytes] | None = None,
        auth: Auth = 'token',
        controlled: bool = False,
        same_items: bool = False,
        keep: typing.Callable[[object], object] | None = None,
    ) -> Exchange:
        """Send one request and record it.

        Args:
            name: The step's name (unique in the scenario).
            method: HTTP method.
            path: Path template; `{name}` is filled from `params`.
            query: Query parameters; values are templates as well.
            json_body: A JSON request body.
            content: A raw body instead: (content type, bytes).
            auth: Which credentials to send.
            controlled: Whether the answer only shows data this run made, so
                values and list lengths are comparable across targets.
            same_items: Whether the answer is a list of the same objects on
                every target (compared by `id`), though their data differs.
            keep: Reduces a large body to the part worth recording.
        """
        if any(step.name == name for step in self.exchanges):
            raise ValueError(f'duplicate step name {name!r}')
        headers = {}
        credentials = {
            'token': self.token,
            'none': None,
            'malformed': MALFORMED_API_KEY,
            'unknown-key': UNKNOWN_API_KEY,
            'not-a-jwt': NOT_A_JWT,
        }[auth]
        if credentials is not None:
            headers['Authorization'] = f'Bearer {credentials}'
        url = path.format(**self.params)
        params = [(key, value.format(**self.params)) for key, value in query or []]
        kwargs: dict[str, typing.Any] = {'params': params, 'headers': headers}
        content_type = None
        if content is not None:
            content_type = content[0]
            headers['Content-Type'] = content_type
            kwargs['content'] = content[1]
        elif json_body is not None:
            content_type = 'application/json'
            kwargs['json'] = json_body
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TransportError:
            # uvicorn closes a keep-alive connection after a 500; the next
            # request can find it dead before any byte was sent.
            response = self.client.request(method, url, **kwargs)
        body: object
        if 'json' in response.headers.get('content-type', ''):
            body = response.json()
        else:
            body = response.text
        if keep is not None:
            body = keep(body)
        exchange = Exchange(
            name=name,
            method=method,
            path=path,
            query=list(query or []),
            auth=auth,
            request_body=(
                content[1].decode(errors='replace')
                if content is not None
                else json_body
            ),
            request_content_type=content_type,
            status=response.status_code,
            headers={
                key: response.headers[key]
                for key in RECORDED_HEADERS
                if key in response.headers
            },
            body=body,
            controlled=controlled,
            same_items=same_items,
        )
        self.exchanges.append(exchange)
        return exchange


def _openapi_info(body: object) -> object:
    # Only what a client's version probe reads; the rest is megabytes.
    if isinstance(body, dict):
        return {key: body[key] for key in ('openapi', 'info') if key in body}
    return body


def _expect(exchange: Exchange, *statuses: int) -> dict[str, typing.Any]:
    if exchange.status not in statuses or not isinstance(exchange.body, dict):
        raise ScenarioError(
            f'step {exchange.name}: {exchange.method} {exchange.path} answered '
            f'{exchange.status} {json.dumps(exchange.body)[:300]}; the scenario needs '
            f'{" or ".join(map(str, statuses))} with an object to go on'
        )
    return exchange.body


def _find_project(client: httpx.Client, token: str, org: str, slug: str) -> str:
    response = client.get(
        f'/organizations/{org}/projects/',
        params={'slim': 'true'},
        headers={'Authorization': f'Bearer {token}'},
    )
    body = response.json() if response.status_code == 200 else []
    found = [
        item['id']
        for item in body
        if isinstance(item, dict) and item.get('slug') == slug
    ]
    if len(found) != 1:
        raise ScenarioError(
            f'organisation {org!r} has {len(found)} projects with slug {slug!r} '
            f'(the list answered {response.status_code}); pass --org and '
            '--project-slug of an existing project (e.g. from `run.sh org`)'
        )
    return str(found[0])


def run_scenario(
    client: httpx.Client,
    token: str,
    *,
    org: str,
    project_slug: str = 'billing-api',
    environment: str = 'production',
    idle_environment: str = 'testing',
    run_id: str | None = None,
) -> tuple[list[Exchange], dict[str, str]]:
    """Run the fixed request sequence.

    Args:
        client: An httpx client whose `base_url` is the API root; it must not
            follow redirects.
        token: An admin token (sent only as a bearer credential).
        org: The organisation to work in.
        project_slug: An existing project in `org` to read, patch and release.
        environment: An environment of that project to deploy to.
        idle_environment: An environment of the project no release of this
            run is deployed to.
        run_id: Makes tags, commits and run ids unique; random by default.

    Returns:
        The exchanges, and the values to hide (actual value -> placeholder).

    Raises:
        ScenarioError: When the target lacks what the scenario builds on.
    """
    run = run_id or secrets.token_hex(4)
    commits = [secrets.token_hex(4)[:7] for _ in range(4)]
    params = {
        'org': org,
        'env': environment,
        'idle_env': idle_environment,
        'run': run,
        'commit1': commits[0],
        'commit2': commits[1],
        'commit3': commits[2],
        'commit4': commits[3],
        'unknown_project_id': UNKNOWN_PROJECT_ID,
        'unknown_release_id': UNKNOWN_RELEASE_ID,
    }
    rec = Recorder(client=client, token=token, params=params)
    org_path = '/organizations/{org}'
    projects = org_path + '/projects/'

    # -- no-auth and version probe -------------------------------------------
    rec.send('status', 'GET', '/status', auth='none')
    rec.send('openapi_info', 'GET', '/openapi.json', auth='none', keep=_openapi_info)

    # -- authentication -------------------------------------------------------
    rec.send('auth_no_token', 'GET', '/users/me', auth='none')
    rec.send('auth_malformed_api_key', 'GET', '/users/me', auth='malformed')
    rec.send('auth_unknown_api_key', 'GET', '/users/me', auth='unknown-key')
    rec.send('auth_not_a_jwt', 'GET', '/users/me', auth='not-a-jwt')

    # -- users ----------------------------------------------------------------
    rec.send('users_me', 'GET', '/users/me')
    rec.send(
        'users_by_identity_unknown_subject',
        'GET',
        '/users/by-identity',
        query=[('integration_slug', 'github'), ('subject', '{run}')],
    )
    rec.send(
        'users_by_identity_plugin_slug',
        'GET',
        '/users/by-identity',
        query=[('plugin_slug', 'github'), ('subject', '{run}')],
    )
    rec.send('users_by_identity_no_params', 'GET', '/users/by-identity')

    # -- trailing-slash redirects ---------------------------------------------
    rec.send('redirect_organizations_no_slash', 'GET', '/organizations')
    rec.send('redirect_projects_no_slash', 'GET', org_path + '/projects')
    rec.send('redirect_users_me_slash', 'GET', '/users/me/')

    # -- organisations ----------------------------------------------------------
    rec.send('organizations_list', 'GET', '/organizations/')
    rec.send('organization_get', 'GET', org_path)
    rec.send('environments_list', 'GET', org_path + '/environments/')

    # -- the project to work on (not recorded) ---------------------------------
    # Releases and deployments come before the project reads, so what those
    # show does not depend on whether the project was ever deployed before.
    params['project_id'] = _find_project(client, token, org, project_slug)
    project = projects + '{project_id}'

    # -- releases -------------------------------------------------------------
    releases = project + '/releases/'
    tag = 'rel-{run}'
    created = rec.send(
        'release_create_new',
        'POST',
        releases,
        json_body={
            'committish': commits[0],
            'tag': tag.format(run=run),
            'title': 'Conformance release',
            'created_by': 'recorder@example.com',
        },
        controlled=True,
    )
    params['release_id'] = _expect(created, 201)['id']
    rec.send(
        'release_create_same_again',
        'POST',
        releases,
        json_body={
            'committish': commits[0],
            'tag': tag.format(run=run),
            'title': 'Conformance release',
            'created_by': 'recorder@example.com',
        },
        controlled=True,
    )
    rec.send(
        'release_create_same_tag_other_commit',
        'POST',
        releases,
        json_body={
            'committish': commits[1],
            'tag': tag.format(run=run),
            'title': 'Conformance release (retry)',
        },
        controlled=True,
    )
    rec.send(
        'release_create_tag_only',
        'POST',
        releases,
        json_body={'tag': f'rel-{run}-tag-only', 'title': 'Tag only'},
        controlled=True,
    )
    untagged = rec.send(
        'release_create_untagged',
        'POST',
        releases,
        json_body={'committish': commits[2], 'title': 'Untagged'},
        controlled=True,
    )
    if untagged.status in (200, 201) and isinstance(untagged.body, dict):
        params['untagged_release_id'] = str(untagged.body.get('id'))
    rec.send(
        'release_create_empty_tag',
        'POST',
        releases,
        json_body={'committish': commits[3], 'tag': '', 'title': 'Empty tag'},
        controlled=True,
    )
    rec.send(
        'release_create_empty_tag_no_commit',
        'POST',
        releases,
        json_body={'tag': '', 'title': 'Nothing to name it by'},
        controlled=True,
    )
    rec.send(
        'release_create_missing_title',
        'POST',
        releases,
        json_body={'committish': commits[0], 'tag': f'rel-{run}-untitled'},
        controlled=True,
    )
    rec.send(
        'release_create_bad_committish',
        'POST',
        releases,
        json_body={'committish': 'HEAD', 'tag': f'rel-{run}-x', 'title': 'x'},
        controlled=True,
    )
    rec.send(
        'release_create_extra_field',
        'POST',
        releases,
        json_body={
            'committish': commits[0],
            'tag': f'rel-{run}-y',
            'title': 'x',
            'version': '1.0.0',
        },
        controlled=True,
    )
    rec.send(
        'release_create_unknown_project',
        'POST',
        projects + '{unknown_project_id}/releases/',
        json_body={'committish': commits[0], 'tag': tag.format(run=run), 'title': 'x'},
    )
    rec.send(
        'releases_list_by_tag',
        'GET',
        releases,
        query=[('tag', tag)],
        controlled=True,
    )
    rec.send(
        'releases_list_by_committish',
        'GET',
        releases,
        query=[('committish', '{commit2}')],
        controlled=True,
    )
    rec.send(
        'releases_list_unknown_project',
        'GET',
        projects + '{unknown_project_id}/releases/',
        same_items=True,
    )
    rec.send('release_get', 'GET', releases + '{release_id}', controlled=True)
    rec.send('release_get_unknown', 'GET', releases + '{unknown_release_id}')

    # -- deployment events ------------------------------------------------------
    edge = releases + '{release_id}/environments/{env}'
    run_url = 'https://ci.example.com/runs/{run}'
    rec.send(
        'deployment_in_progress',
        'POST',
        edge,
        json_body={
            'status': 'in_progress',
            'note': f'Run {run}',
            'external_run_id': f'{run}-1',
            'external_run_url': run_url.format(run=run),
        },
        controlled=True,
    )
    rec.send(
        'deployment_success_same_run',
        'POST',
        edge,
        json_body={
            'status': 'success',
            'note': f'Run {run}',
            'external_run_id': f'{run}-1',
        },
        controlled=True,
    )
    rec.send(
        'deployment_replay',
        'POST',
        edge,
        json_body={
            'status': 'success',
            'note': f'Run {run}',
            'external_run_id': f'{run}-1',
        },
        controlled=True,
    )
    rec.send(
        'deployment_without_run_id',
        'POST',
        edge,
        json_body={'status': 'success'},
        controlled=True,
    )
    rec.send(
        'deployment_bad_status',
        'POST',
        edge,
        json_body={'status': 'done', 'external_run_id': f'{run}-2'},
        controlled=True,
    )
    rec.send(
        'deployment_performed_by_refused',
        'POST',
        edge,
        json_body={'status': 'success', 'performed_by': 'someone'},
        controlled=True,
    )
    rec.send(
        'deployment_unknown_release',
        'POST',
        releases + '{unknown_release_id}/environments/{env}',
        json_body={'status': 'success', 'external_run_id': f'{run}-3'},
    )
    rec.send(
        'deployment_unknown_environment',
        'POST',
        releases + '{release_id}/environments/no-such-environment',
        json_body={'status': 'success', 'external_run_id': f'{run}-4'},
        controlled=True,
    )
    rec.send('deployment_edge_get', 'GET', edge, controlled=True)
    rec.send(
        'deployment_edge_get_idle',
        'GET',
        releases + '{release_id}/environments/{idle_env}',
        controlled=True,
    )
    rec.send(
        'deployment_edges_list',
        'GET',
        releases + '{release_id}/environments',
        controlled=True,
    )
    # -- projects -------------------------------------------------------------
    rec.send('projects_list_slim', 'GET', projects, query=[('slim', 'true')])

    rec.send('projects_list', 'GET', projects)
    rec.send(
        'projects_list_include_archived',
        'GET',
        projects,
        query=[('include_archived', 'true'), ('slim', 'true')],
    )
    rec.send(
        'projects_list_by_id',
        'GET',
        projects,
        query=[('project_id', '{project_id}')],
        same_items=True,
    )
    rec.send(
        'projects_list_filter_valid',
        'GET',
        projects,
        query=[('slim', 'true'), ('filter', 'framework:eq:fastapi')],
    )
    rec.send(
        'projects_list_filter_in',
        'GET',
        projects,
        query=[('slim', 'true'), ('filter', 'framework:in:fastapi,flask')],
    )
    for name, value in (
        ('no_op', 'framework'),
        ('unknown_op', 'framework:like:fast'),
        ('unknown_field', 'no_such_attribute:eq:x'),
        ('exists_value', 'framework:exists:yes'),
        ('empty_value', 'framework:eq:'),
        ('boolean', 'on_call:eq:yes'),
    ):
        rec.send(
            f'projects_list_filter_invalid_{name}',
            'GET',
            projects,
            query=[('slim', 'true'), ('filter', value)],
        )
    rec.send(
        'projects_list_identifier_without_integration',
        'GET',
        projects,
        query=[('identifier', '12345')],
    )
    rec.send('project_get', 'GET', project)
    rec.send('project_get_unknown', 'GET', projects + '{unknown_project_id}')
    rec.send('project_schema', 'GET', project + '/schema')

    # -- project JSON Patch -----------------------------------------------------
    rec.send(
        'project_patch_valid',
        'PATCH',
        project,
        json_body=[
            {'op': 'test', 'path': '/slug', 'value': project_slug},
            {'op': 'replace', 'path': '/description', 'value': 'Conformance scenario'},
        ],
    )
    rec.send(
        'project_patch_test_fails',
        'PATCH',
        project,
        json_body=[{'op': 'test', 'path': '/slug', 'value': 'not-this-project'}],
    )
    rec.send(
        'project_patch_missing_path',
        'PATCH',
        project,
        json_body=[{'op': 'replace', 'path': '/no_such_key', 'value': 1}],
    )
    rec.send(
        'project_patch_pointer_without_slash',
        'PATCH',
        project,
        json_body=[{'op': 'replace', 'path': 'description', 'value': 'x'}],
    )
    rec.send(
        'project_patch_read_only_path',
        'PATCH',
        project,
        json_body=[{'op': 'replace', 'path': '/id', 'value': 'x'}],
    )
    rec.send(
        'project_patch_unknown_op',
        'PATCH',
        project,
        json_body=[{'op': 'frobnicate', 'path': '/description', 'value': 'x'}],
    )
    rec.send(
        'project_patch_not_a_list',
        'PATCH',
        project,
        json_body={'op': 'replace', 'path': '/description', 'value': 'x'},
    )
    rec.send(
        'project_patch_text_plain',
        'PATCH',
        project,
        content=(
            'text/plain',
            b'[{"op": "replace", "path": "/description", "value": "x"}]',
        ),
    )
    rec.send(
        'project_patch_invalid_json',
        'PATCH',
        project,
        content=('application/json', b'[{"op": "replace",'),
    )
    rec.send(
        'project_patch_unknown_project',
        'PATCH',
        projects + '{unknown_project_id}',
        json_body=[{'op': 'test', 'path': '/slug', 'value': project_slug}],
    )

    rec.send('releases_current', 'GET', releases + 'current')
    rec.send(
        'releases_current_unknown_project',
        'GET',
        projects + '{unknown_project_id}/releases/current',
    )
    rec.send('project_get_after_patch', 'GET', project)

    hidden = {
        token: '<token>',
        run: '<run>',
        **{commit: f'<commit:{index}>' for index, commit in enumerate(commits, 1)},
    }
    return rec.exchanges, hidden


# -- normalisation --------------------------------------------------------------


def _walk_ids(value: object, found: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if (
                key in _ID_KEYS
                and isinstance(item, str)
                and _ID_VALUE.match(item)
                and item not in found
            ):
                found.append(item)
            _walk_ids(item, found)
    elif isinstance(value, list):
        for item in value:
            _walk_ids(item, found)


class Normaliser:
    """Replaces run- and target-specific values by stable placeholders."""

    def __init__(self, base_url: str, hidden: dict[str, str], org: str) -> None:
        self._base = base_url.rstrip('/')
        parsed = urllib.parse.urlsplit(self._base)
        self._origin = f'{parsed.scheme}://{parsed.netloc}'
        self._hidden = dict(hidden)
        # As a word only: `payments-<org>`, but not inside another name.
        self._orgs = [(_word(org), '<org>')]

    def number_other_orgs(self, slugs: list[str]) -> None:
        """Give the other organisations' slugs `<other-org:N>`, in this order.

        A target's other organisations (e.g. those earlier `run.sh org` runs
        made) are not the scenario's business, and their slugs are run-specific.
        """
        for slug in slugs:
            self._orgs.append((_word(slug), f'<other-org:{len(self._orgs)}>'))

    def number_ids(self, ids: list[str]) -> None:
        """Give each id its `<id:N>`, in the order given."""
        for value in ids:
            if value not in self._hidden:
                count = sum(1 for p in self._hidden.values() if p.startswith('<id:'))
                self._hidden[value] = f'<id:{count + 1}>'

    def text(self, value: str) -> str:
        """Normalise one string."""
        # Longest first, so a value containing another is replaced whole.
        for actual in sorted(self._hidden, key=len, reverse=True):
            if actual and actual in value:
                value = value.replace(actual, self._hidden[actual])
        for pattern, placeholder in self._orgs:
            value = pattern.sub(placeholder, value)
        value = _API_KEY.sub('<api-key>', value)
        value = _JWT.sub('<jwt>', value)
        if self._base:
            value = value.replace(self._base, '<base>')
        value = value.replace(self._origin, '<base>')
        value = _LOOPBACK_URL.sub('<base>', value)
        return _TIMESTAMP.sub(_timestamp_placeholder, value)

    def location(self, value: str) -> str:
        """A `Location` header as a path relative to the base URL."""
        for root in (self._base, self._origin):
            if root and value.startswith(root):
                value = value[len(root) :] or '/'
                break
        else:
            value = _LOOPBACK_URL.sub('', value)
        return self.text(value)

    def value(self, value: object) -> object:
        """Normalise a JSON value recursively (keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(key): self.value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item) for item in value]
        return value


def _word(text: str) -> re.Pattern[str]:
    # As a word only: `payments-<org>`, but not inside another name.
    return re.compile(rf'(?<![A-Za-z0-9_]){re.escape(text)}(?![A-Za-z0-9_])')


def _walk_org_slugs(value: object, found: list[str], in_org: bool = False) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            slug = key == 'organization_slug' or (in_org and key == 'slug')
            if slug and isinstance(item, str) and item not in found:
                found.append(item)
            _walk_org_slugs(item, found, key == 'organization')
    elif isinstance(value, list):
        for item in value:
            _walk_org_slugs(item, found, in_org)


def _timestamp_placeholder(match: re.Match[str]) -> str:
    zone = match.group(1)
    if zone is None:
        return '<ts:naive>'
    return '<ts:Z>' if zone == 'Z' else f'<ts:{zone}>'


def normalise(
    exchanges: list[Exchange], hidden: dict[str, str], base_url: str, org: str
) -> list[dict[str, typing.Any]]:
    """Return the exchanges as JSON-ready dicts with placeholders."""
    normaliser = Normaliser(base_url, hidden, org)
    ids: list[str] = []
    # Ids the scenario made come first, so their numbers depend only on the
    # scenario, not on how much other data a target holds.
    for exchange in sorted(exchanges, key=lambda e: not e.controlled):
        _walk_ids(exchange.body, ids)
    normaliser.number_ids(ids)
    slugs: list[str] = []
    for exchange in exchanges:
        # The organisation list's items are organisations themselves.
        _walk_org_slugs(exchange.body, slugs, exchange.name == 'organizations_list')
    normaliser.number_other_orgs([slug for slug in slugs if slug != org])
    out = []
    for exchange in exchanges:
        headers = {}
        for key, value in exchange.headers.items():
            headers[key] = (
                normaliser.location(value)
                if key == 'location'
                else normaliser.text(value)
            )
        out.append(
            {
                'name': exchange.name,
                'method': exchange.method,
                'path': exchange.path,
                'query': [
                    [key, normaliser.text(value)] for key, value in exchange.query
                ],
                'auth': exchange.auth,
                'request_content_type': exchange.request_content_type,
                'request_body': normaliser.value(exchange.request_body),
                'controlled': exchange.controlled,
                'same_items': exchange.same_items,
                'status': exchange.status,
                'headers': headers,
                'body': normaliser.value(exchange.body),
            }
        )
    return out


def record(
    base_url: str,
    token: str,
    *,
    org: str,
    project_slug: str = 'billing-api',
    environment: str = 'production',
    idle_environment: str = 'testing',
    timeout: float = 60.0,
) -> dict[str, typing.Any]:
    """Run the scenario against `base_url` and return the normalised recording.

    Raises:
        ScenarioError: When the target lacks what the scenario builds on.
        httpx.HTTPError: When the target cannot be reached.
    """
    with httpx.Client(
        base_url=base_url.rstrip('/'), timeout=timeout, follow_redirects=False
    ) as client:
        exchanges, hidden = run_scenario(
            client,
            token,
            org=org,
            project_slug=project_slug,
            environment=environment,
            idle_environment=idle_environment,
        )
    version = None
    for exchange in exchanges:
        if exchange.name == 'openapi_info' and isinstance(exchange.body, dict):
            info = exchange.body.get('info')
            if isinstance(info, dict):
                version = info.get('version')
    return {
        'format': FORMAT,
        'scenario': SCENARIO_VERSION,
        'api_version': version,
        'exchanges': normalise(exchanges, hidden, base_url, org),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        epilog='The token is read from IMBI_CLIENT_API_TOKEN and never written.',
    )
    parser.add_argument(
        '--base-url',
        default=os.environ.get('IMBI_CLIENT_API_BASE_URL'),
        help='API root (default: $IMBI_CLIENT_API_BASE_URL)',
    )
    parser.add_argument(
        '--org',
        default=os.environ.get('IMBI_REAL_ORG', 'engineering'),
        help='organisation slug (default: $IMBI_REAL_ORG, else engineering)',
    )
    parser.add_argument('--project-slug', default='billing-api')
    parser.add_argument('--environment', default='production')
    parser.add_argument('--idle-environment', default='testing')
    parser.add_argument(
        '--sandbox',
        metavar='VERSION',
        help='instead of a target, start an imbi-toolkit sandbox of this API line '
        '(demo seed, organisation engineering) on a free port and stop it after',
    )
    parser.add_argument(
        '--out', required=True, help='where to write the JSON recording'
    )
    args = parser.parse_args(argv)
    if args.sandbox:
        return _record_sandbox(args.sandbox, args.out)
    token = os.environ.get('IMBI_CLIENT_API_TOKEN', '')
    if not args.base_url:
        parser.error('no target: pass --base-url or set IMBI_CLIENT_API_BASE_URL')
    if not token:
        parser.error('no token: set IMBI_CLIENT_API_TOKEN to an admin API key')
    try:
        recording = record(
            args.base_url,
            token,
            org=args.org,
            project_slug=args.project_slug,
            environment=args.environment,
            idle_environment=args.idle_environment,
        )
    except ScenarioError as exc:
        print(f'record_exchanges: {exc}', file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:
        print(
            f'record_exchanges: cannot reach {args.base_url}: {type(exc).__name__}; '
            'is the server running?',
            file=sys.stderr,
        )
        return 1
    return _write(recording, token, args.base_url, args.out)


def _write(recording: dict[str, typing.Any], token: str, target: str, out: str) -> int:
    text = json.dumps(recording, indent=1) + '\n'
    if token in text:  # normalisation hides it; belt and braces
        print('record_exchanges: refusing to write the token', file=sys.stderr)
        return 1
    with open(out, 'w', encoding='utf-8') as handle:
        handle.write(text)
    print(
        f'record_exchanges: {len(recording["exchanges"])} exchanges with '
        f'{target} (API {recording["api_version"]}) -> {out}',
        file=sys.stderr,
    )
    return 0


def _record_sandbox(version: str, out: str) -> int:
    from imbi_toolkit.sandbox._process import SandboxStartError, start_sandbox

    try:
        sandbox = start_sandbox(api_version=version)
    except SandboxStartError as exc:
        print(f'record_exchanges: the sandbox did not start: {exc}', file=sys.stderr)
        return 1
    with sandbox:
        recording = record(sandbox.base_url, sandbox.token, org='engineering')
        return _write(recording, sandbox.token, f'sandbox {version}', out)


if __name__ == '__main__':
    sys.exit(main())
