"""The toolkit end to end against the real imbi-api (`make conformance`).

Not part of `make test`: nothing here is collected unless `IMBI_E2E_REAL_ENV`
names the `.env` file of an organisation made by the real-imbi harness
(`run.sh org SLUG` writes `$REAL_IMBI_DIR/orgs/SLUG.env`). `make conformance`
makes a fresh organisation per run and sets it. See docs/conformance.md.

The organisation is demo-like (billing-api, ledger-service, legacy-billing
archived); the session adds, with plain HTTP calls (setup, not the code under
test), `search-api` (the plugins notebook uses it) and four projects of a
`consumer` type that the bulk and magics tests own.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import typing
from collections import abc

import httpx
import pytest

ENV_VARIABLE = 'IMBI_E2E_REAL_ENV'

if not os.environ.get(ENV_VARIABLE):
    # Not skipped: not collected. These tests need a real server.
    collect_ignore_glob = ['test_*.py']

# Projects the session adds: slug -> (name, project type, description).
EXTRA_PROJECTS: dict[str, tuple[str, str, str]] = {
    'search-api': (
        'Search API',
        'api-service',
        'Full-text search over accounts and campaigns',
    ),
    'events-consumer': ('Events Consumer', 'consumer', 'Consumes domain events'),
    'audit-consumer': ('Audit Consumer', 'consumer', 'Writes the audit trail'),
    'email-consumer': ('Email Consumer', 'consumer', 'Sends transactional e-mail'),
    'search-indexer': ('Search Indexer', 'consumer', 'Keeps the search index fresh'),
}
CONSUMERS = ('events-consumer', 'audit-consumer', 'email-consumer', 'search-indexer')


@dataclasses.dataclass(frozen=True)
class RealOrg:
    """An organisation on the real server and the keys to reach it."""

    base_url: str
    token: str
    readonly_token: str
    org: str
    api_version: str
    settings: dict[str, str]
    projects: dict[str, str]  # slug -> id

    def env(self) -> dict[str, str]:
        """The `IMBI_CLIENT_*` settings of the admin key (retries as a user gets)."""
        return {
            'IMBI_CLIENT_API_BASE_URL': self.base_url,
            'IMBI_CLIENT_API_TOKEN': self.token,
        }

    def http(self) -> httpx.Client:
        """A plain client for setup and for checking what the server stored."""
        return httpx.Client(
            base_url=self.base_url,
            headers={'authorization': f'Bearer {self.token}'},
            timeout=60,
        )

    def project(self, slug: str) -> dict[str, typing.Any]:
        """The project as the server has it now (GET shape)."""
        with self.http() as client:
            response = client.get(
                f'/organizations/{self.org}/projects/{self.projects[slug]}'
            )
        response.raise_for_status()
        return typing.cast(dict[str, typing.Any], response.json())


def _read_env(path: pathlib.Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.strip().partition('=')
        if sep and not name.startswith('#'):
            values[name] = value
    return values


def _post(
    client: httpx.Client, path: str, body: dict[str, typing.Any]
) -> httpx.Response:
    try:
        response = client.post(path, json=body)
    except httpx.TransportError:  # uvicorn drops keep-alive after a 500
        response = client.post(path, json=body)
    return response


def _add_projects(org: str, client: httpx.Client) -> dict[str, str]:
    base = f'/organizations/{org}'
    listing = client.get(f'{base}/projects/', params={'include_archived': 'true'})
    listing.raise_for_status()
    projects = {p['slug']: p['id'] for p in listing.json()}
    team = listing.json()[0]['team']['slug']
    # Duplicate slugs are not refused by 2.41: look before creating.
    types = client.get(f'{base}/project-types/').json()
    if not any(t['slug'] == 'consumer' for t in types):
        created = _post(
            client,
            f'{base}/project-types/',
            {'name': 'Consumer', 'slug': 'consumer', 'deployable': True},
        )
        assert created.status_code == 201, created.text
    for slug, (name, project_type, description) in EXTRA_PROJECTS.items():
        if slug in projects:
            continue
        created = _post(
            client,
            f'{base}/projects/',
            {
                'name': name,
                'slug': slug,
                'description': description,
                'team_slug': team,
                'project_type_slugs': [project_type],
                'environments': {
                    env: {'url': f'https://{slug}.{env}.example.com'}
                    for env in ('testing', 'staging', 'production')
                },
                'links': {'github-repository': f'https://github.com/example/{slug}'},
            },
        )
        assert created.status_code == 201, created.text
        projects[slug] = created.json()['id']
    return projects


@pytest.fixture(scope='session')
def real() -> RealOrg:
    """The organisation under test, with the session's extra projects."""
    path = pathlib.Path(os.environ[ENV_VARIABLE])
    settings = _read_env(path)
    org = RealOrg(
        base_url=settings['IMBI_CLIENT_API_BASE_URL'],
        token=settings['IMBI_CLIENT_API_TOKEN'],
        readonly_token=settings['IMBI_REAL_READONLY_TOKEN'],
        org=settings['IMBI_REAL_ORG'],
        api_version=settings.get('IMBI_REAL_API_VERSION', ''),
        settings=settings,
        projects={},
    )
    with org.http() as client:
        org.projects.update(_add_projects(org.org, client))
    return org


@pytest.fixture(scope='session')
def fake_github() -> abc.Iterator[typing.Any]:
    """GitHub's users API on 127.0.0.1, for the github plugin (no internet)."""
    from imbi_toolkit_github.testing import FakeGitHub

    with FakeGitHub({'octocat': 583231, 'alice-gh': 4242}) as github:
        yield github


@pytest.fixture
def real_env(
    real: RealOrg,
    fake_github: typing.Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: pathlib.Path,
) -> RealOrg:
    """This process's environment pointed at the real server and the fake GitHub."""
    for name in list(os.environ):
        if name.startswith(('IMBI_CLIENT_', 'IMBI_TOOLKIT_')):
            monkeypatch.delenv(name)
    for name, value in real.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv('IMBI_TOOLKIT_GITHUB_API_URL', fake_github.url)
    monkeypatch.chdir(tmp_path)  # no .env file from the developer's machine
    return real
