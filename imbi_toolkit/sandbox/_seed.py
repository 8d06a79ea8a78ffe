"""The data sets a new sandbox database starts with: ``demo`` and ``empty``.

Both are deterministic: the same ids and timestamps on every start, so that
notebooks, documentation and tests can name them. The README describes the
demo organisation.
"""

from __future__ import annotations

import datetime
import random
import typing
from collections import abc

from imbi_toolkit.sandbox import _config as config
from imbi_toolkit.sandbox import _ids as ids
from imbi_toolkit.sandbox import _versions as versions

SeedData = dict[str, list[dict[str, typing.Any]]]

SEEDS: tuple[str, ...] = ('demo', 'empty')

_EPOCH = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)


def _at(days: float, hours: float = 0.0) -> str:
    return (_EPOCH + datetime.timedelta(days=days, hours=hours)).isoformat()


def build(
    name: str, api_version: str = versions.DEFAULT_LINE, projects: int | None = None
) -> SeedData:
    """Return the named data set, as a server of ``api_version`` stores it.

    Args:
        name: One of :data:`SEEDS`.
        api_version: The emulated API line.
        projects: With the `demo` seed, generate projects until the demo
            organisation (`engineering`) has this many (see
            :func:`check_projects`).

    Raises:
        ValueError: When ``name`` is not one of :data:`SEEDS`, or
            ``projects`` does not fit it.
    """
    check_projects(name, projects)
    if name == 'demo':
        data = _demo()
        if projects is not None:
            _generate_projects(data, projects)
    elif name == 'empty':
        data = _empty()
    else:
        raise ValueError(f'unknown seed {name!r}; choose one of {", ".join(SEEDS)}')
    features = versions.GENERATIONS[api_version]
    if features.line == '2.11':
        _as_2_11(data)
    for environment in data.get('environments', ()):
        # Node fields an environment gets when created on a server that has
        # them (2.30.0 and 2.31.0).
        if features.environment_terminal:
            environment['terminal'] = environment['slug'] == 'production'
        if features.allow_autonomous:
            environment['allow_autonomous'] = environment['slug'] == 'testing'
    return data


#: The most projects a sandbox generates (a bound on memory and start time).
MAX_PROJECTS = 200_000


def check_projects(name: str, projects: int | None) -> None:
    """Check a ``projects`` count for the seed ``name``.

    Raises:
        ValueError: When it is not a count the seed can have.
    """
    if projects is None:
        return
    if name != 'demo':
        raise ValueError(
            f'projects can only be generated with the demo seed, not {name!r}'
        )
    if not DEMO_PROJECTS <= projects <= MAX_PROJECTS:
        raise ValueError(
            f"projects must be between {DEMO_PROJECTS} (the demo seed's own) "
            f'and {MAX_PROJECTS}, not {projects}'
        )


def _as_2_11(data: SeedData) -> None:
    # Before 2.12 services named third-party services, not integrations;
    # `current_release` on environment edges arrived in 2.16.1.
    for project in data.get('projects', ()):
        project['services'] = [
            {
                'third_party_service_slug': service['integration_slug'],
                'third_party_service_name': service['integration_name'],
                **{
                    key: value
                    for key, value in service.items()
                    if key not in ('integration_slug', 'integration_name')
                },
            }
            for service in project.get('services', ())
        ]
    for edge in data.get('project_environments', ()):
        edge['properties'] = {
            key: value
            for key, value in edge['properties'].items()
            if key not in ('current_release', 'current_release_at')
        }


def _token_users() -> list[dict[str, typing.Any]]:
    # The principals behind the sandbox's admin and read-only tokens.
    return [
        {
            'email': config.ADMIN_EMAIL,
            'display_name': 'Sandbox Admin',
            'is_admin': True,
            'created_at': _at(-4),
            'last_login': _at(200),
        },
        {
            'email': config.READONLY_EMAIL,
            'display_name': 'Sandbox Read-only',
            'created_at': _at(-4),
            'last_login': _at(200),
        },
    ]


def _empty() -> SeedData:
    return {'users': _token_users()}


# -- the demo organisation ------------------------------------------------------

_TEAMS = (
    ('platform', 'Platform', 'Shared infrastructure and developer tooling'),
    ('payments', 'Payments', 'Billing, invoicing and the payment gateway'),
    ('growth', 'Growth', 'Sign-up, onboarding and messaging'),
    ('data', 'Data', 'Analytics pipelines and reporting'),
    ('mobile', 'Mobile', 'The mobile apps and their back end'),
)

_LANGUAGES = ['Python 3.12', 'Python 3.11', 'Go 1.22', 'TypeScript', 'Kotlin']

# slug, name, deployable, releasable, blueprint attributes
_TYPES: tuple[tuple[str, str, bool, bool, dict[str, typing.Any]], ...] = (
    (
        'api-service',
        'API Service',
        True,
        False,
        {
            'programming_language': {'type': 'string', 'enum': _LANGUAGES},
            'framework': {
                'type': 'string',
                'enum': ['fastapi', 'flask', 'tornado', 'litestar', 'gin'],
            },
            'on_call': {'type': 'boolean'},
        },
    ),
    (
        'consumer',
        'Message Consumer',
        True,
        False,
        {
            'programming_language': {'type': 'string', 'enum': _LANGUAGES},
            'queue': {'type': 'string'},
            'on_call': {'type': 'boolean'},
        },
    ),
    (
        'frontend',
        'Frontend',
        True,
        False,
        {
            'programming_language': {'type': 'string', 'enum': _LANGUAGES},
            'framework': {'type': 'string', 'enum': ['react', 'vue', 'svelte']},
        },
    ),
    (
        'library',
        'Library',
        False,
        True,
        {
            'programming_language': {'type': 'string', 'enum': _LANGUAGES},
            'package_name': {'type': 'string'},
        },
    ),
    (
        'scheduled-job',
        'Scheduled Job',
        True,
        False,
        {
            'programming_language': {'type': 'string', 'enum': _LANGUAGES},
            'schedule': {'type': 'string', 'required': True},
        },
    ),
)

_ENVIRONMENTS = (
    ('testing', 'Testing', 10, '#16A34A'),
    ('staging', 'Staging', 20, '#CA8A04'),
    ('production', 'Production', 30, '#DC2626'),
)

_ALL_ENVS = ('testing', 'staging', 'production')


class _Project(typing.NamedTuple):
    slug: str
    name: str
    description: str
    team: str
    types: tuple[str, ...]
    attributes: dict[str, typing.Any]
    environments: tuple[str, ...] = _ALL_ENVS
    archived: bool = False


_PROJECTS: tuple[_Project, ...] = (
    _Project(
        'billing-api',
        'Billing API',
        'Invoices and payment webhooks',
        'payments',
        ('api-service',),
        {
            'programming_language': 'Python 3.12',
            'framework': 'fastapi',
            'on_call': True,
        },
    ),
    _Project(
        'invoice-consumer',
        'Invoice Consumer',
        'Renders and mails invoices from the billing queue',
        'payments',
        ('consumer',),
        {'programming_language': 'Python 3.12', 'queue': 'billing.invoices'},
    ),
    _Project(
        'payment-gateway',
        'Payment Gateway',
        'Card and bank payments through the acquirer',
        'payments',
        ('api-service',),
        {'programming_language': 'Go 1.22', 'framework': 'gin', 'on_call': True},
    ),
    _Project(
        'ledger-service',
        'Ledger Service',
        'Double-entry ledger for every money movement',
        'payments',
        ('api-service',),
        {'programming_language': 'Python 3.11', 'framework': 'tornado'},
    ),
    _Project(
        'checkout-frontend',
        'Checkout Frontend',
        'The checkout pages',
        'payments',
        ('frontend',),
        {'programming_language': 'TypeScript', 'framework': 'react'},
    ),
    _Project(
        'legacy-billing',
        'Legacy Billing',
        'The billing monolith, replaced by Billing API',
        'payments',
        ('api-service',),
        {'programming_language': 'Python 3.11', 'framework': 'flask'},
        ('production',),
        archived=True,
    ),
    _Project(
        'auth-service',
        'Auth Service',
        'Sign-in, sessions and API keys',
        'platform',
        ('api-service',),
        {
            'programming_language': 'Python 3.12',
            'framework': 'fastapi',
            'on_call': True,
        },
    ),
    _Project(
        'feature-flags',
        'Feature Flags',
        'Flag evaluation for every service',
        'platform',
        ('api-service',),
        {'programming_language': 'Go 1.22', 'framework': 'gin'},
    ),
    _Project(
        'status-page',
        'Status Page',
        'Public status and incident history',
        'platform',
        ('frontend',),
        {'programming_language': 'TypeScript', 'framework': 'svelte'},
        ('staging', 'production'),
    ),
    _Project(
        'python-commons',
        'Python Commons',
        'Logging, settings and HTTP helpers shared by the Python services',
        'platform',
        ('library',),
        {'programming_language': 'Python 3.12', 'package_name': 'example-commons'},
        (),
    ),
    _Project(
        'http-client-lib',
        'HTTP Client Library',
        'Retrying HTTP client with tracing',
        'platform',
        ('library',),
        {'programming_language': 'Python 3.12', 'package_name': 'example-http'},
        (),
    ),
    _Project(
        'cert-renewer',
        'Certificate Renewer',
        'Renews TLS certificates before they expire',
        'platform',
        ('scheduled-job',),
        {'programming_language': 'Go 1.22', 'schedule': '0 3 * * *'},
        ('production',),
    ),
    _Project(
        'signup-api',
        'Signup API',
        'Account creation and trials',
        'growth',
        ('api-service',),
        {'programming_language': 'Python 3.12', 'framework': 'litestar'},
    ),
    _Project(
        'onboarding-frontend',
        'Onboarding Frontend',
        'The first-run experience',
        'growth',
        ('frontend',),
        {'programming_language': 'TypeScript', 'framework': 'vue'},
    ),
    _Project(
        'email-sender',
        'Email Sender',
        'Sends transactional email',
        'growth',
        ('consumer',),
        {'programming_language': 'Python 3.11', 'queue': 'messaging.email'},
    ),
    _Project(
        'sms-consumer',
        'SMS Consumer',
        'Sends text messages through the SMS provider',
        'growth',
        ('consumer',),
        {'programming_language': 'Python 3.11', 'queue': 'messaging.sms'},
    ),
    _Project(
        'notifications-api',
        'Notifications API',
        'Preferences and delivery of notifications',
        'growth',
        ('api-service', 'consumer'),
        {
            'programming_language': 'Python 3.12',
            'framework': 'fastapi',
            'queue': 'messaging.notifications',
        },
    ),
    _Project(
        'analytics-pipeline',
        'Analytics Pipeline',
        'Event ingestion into the warehouse',
        'data',
        ('consumer',),
        {'programming_language': 'Python 3.12', 'queue': 'analytics.events'},
    ),
    _Project(
        'warehouse-loader',
        'Warehouse Loader',
        'Nightly loads into the data warehouse',
        'data',
        ('scheduled-job',),
        {'programming_language': 'Python 3.12', 'schedule': '30 1 * * *'},
        ('staging', 'production'),
    ),
    _Project(
        'reporting-frontend',
        'Reporting Frontend',
        'Dashboards for customers',
        'data',
        ('frontend',),
        {'programming_language': 'TypeScript', 'framework': 'react'},
    ),
    _Project(
        'search-api',
        'Search API',
        'Full-text search over accounts and campaigns',
        'data',
        ('api-service',),
        {'programming_language': 'Python 3.12', 'framework': 'fastapi'},
    ),
    _Project(
        'search-indexer',
        'Search Indexer',
        'Keeps the search index in step with the database',
        'data',
        ('consumer',),
        {'programming_language': 'Python 3.12', 'queue': 'search.updates'},
    ),
    _Project(
        'mobile-bff',
        'Mobile BFF',
        'Back end for the mobile apps',
        'mobile',
        ('api-service',),
        {'programming_language': 'Kotlin', 'framework': 'fastapi'},
    ),
    _Project(
        'push-notifier',
        'Push Notifier',
        'Push notifications to phones',
        'mobile',
        ('consumer',),
        {'programming_language': 'Kotlin', 'queue': 'mobile.push'},
    ),
    _Project(
        'mobile-release-notes',
        'Mobile Release Notes',
        'Generates the store release notes',
        'mobile',
        ('scheduled-job',),
        {'programming_language': 'Python 3.12', 'schedule': '0 9 * * 1'},
        ('production',),
    ),
)

#: The projects of the demo organisation before any are generated.
DEMO_PROJECTS = len(_PROJECTS)

# email, name, GitHub subject (numeric user id) or None, connection status
_PEOPLE: tuple[tuple[str, str, str | None, str, str], ...] = (
    ('alice@example.com', 'Alice Example', '583231', 'active', 'payments'),
    ('bob@example.com', 'Bob Builder', '1024025', 'active', 'platform'),
    ('carol@example.com', 'Carol Danvers', '7741952', 'active', 'growth'),
    ('dave@example.com', 'Dave Lister', None, 'active', 'data'),
    ('erin@example.com', 'Erin Revoked', '3141592', 'revoked', 'mobile'),
    # Two people sharing one subject: the lookup is ambiguous, hence 404.
    ('frank@example.com', 'Frank Twin', '9999999', 'active', 'data'),
    ('grace@example.com', 'Grace Twin', '9999999', 'active', 'mobile'),
)


def _release_plan(index: int) -> list[tuple[str, float, list[tuple[str, str]]]]:
    """Releases of the ``index``-th project: tag, age in days, events."""
    minor = 1 + index % 5
    return [
        (
            f'1.{minor}.0',
            150 + index,
            [
                ('testing', 'success'),
                ('staging', 'success'),
                ('production', 'success'),
            ],
        ),
        (
            f'1.{minor}.1',
            190 + index,
            [
                ('testing', 'success'),
                ('staging', 'success'),
                ('production', 'in_progress'),
                ('production', 'success'),
            ],
        ),
        (
            f'1.{minor + 1}.0',
            205 + index / 4,
            [('testing', 'success'), ('staging', 'failed')]
            if index % 4 == 0
            else [('testing', 'success'), ('staging', 'success')],
        ),
    ]


def _demo() -> SeedData:
    rng = random.Random('imbi-toolkit sandbox demo')  # noqa: S311 - fixed ids
    data: SeedData = {table: [] for table in ('organizations', 'teams')}
    organizations = data['organizations']
    org_id = ids.nanoid(rng)
    organizations.append(
        {
            'id': org_id,
            'slug': 'engineering',
            'name': 'Engineering',
            'description': 'The product engineering organisation',
            'tag_formats': [{'label': 'Semver', 'pattern': r'^v?\d+\.\d+\.\d+$'}],
            'created_at': _at(-4),
            'updated_at': _at(-4),
        }
    )
    teams: dict[str, str] = {}
    for slug, name, description in _TEAMS:
        teams[slug] = ids.nanoid(rng)
        data['teams'].append(
            {
                'id': teams[slug],
                'organization_id': org_id,
                'slug': slug,
                'name': name,
                'description': description,
                'created_at': _at(0),
            }
        )
    types: dict[str, str] = {}
    data['project_types'] = []
    for slug, name, deployable, releasable, attributes in _TYPES:
        types[slug] = ids.nanoid(rng)
        data['project_types'].append(
            {
                'id': types[slug],
                'organization_id': org_id,
                'slug': slug,
                'name': name,
                'deployable': deployable,
                'releasable': releasable,
                'attributes': attributes,
                'created_at': _at(-3),
            }
        )
    environments: dict[str, str] = {}
    data['environments'] = []
    for slug, name, order, color in _ENVIRONMENTS:
        environments[slug] = ids.nanoid(rng)
        data['environments'].append(
            {
                'id': environments[slug],
                'organization_id': org_id,
                'slug': slug,
                'name': name,
                'sort_order': order,
                'label_color': color,
                'created_at': _at(-3),
            }
        )
    _add_projects(data, rng, teams, types, environments)
    _add_people(data, org_id, teams)
    _add_second_organization(data, rng)
    return data


def _add_projects(
    data: SeedData,
    rng: random.Random,
    teams: abc.Mapping[str, str],
    types: abc.Mapping[str, str],
    environments: abc.Mapping[str, str],
) -> None:
    for table in (
        'projects',
        'project_project_types',
        'project_environments',
        'releases',
        'deployment_events',
    ):
        data[table] = []
    authors = [person[0] for person in _PEOPLE[:4]]
    for index, project in enumerate(_PROJECTS):
        project_id = ids.nanoid(rng)
        repository = f'https://github.com/example/{project.slug}'
        data['projects'].append(
            {
                'id': project_id,
                'team_id': teams[project.team],
                'name': project.name,
                'slug': project.slug,
                'description': project.description,
                'archived': project.archived,
                'archived_at': _at(180) if project.archived else None,
                'links': {
                    'github-repository': repository,
                    'grafana': f'https://grafana.example.com/d/{project.slug}',
                },
                'identifiers': {
                    'sonarqube': f'example:{project.slug}',
                    'sentry': 4500 + index,
                },
                'services': [
                    {
                        'integration_slug': 'github',
                        'integration_name': 'GitHub',
                        'identifier': str(134741 + index * 7),
                        'canonical_url': (
                            f'https://api.github.com/repositories/{134741 + index * 7}'
                        ),
                        'dashboard_url': repository,
                    }
                ],
                'attributes': project.attributes,
                'score': round(55 + (index * 37) % 45 + 0.5, 1),
                'created_at': _at(10 + index),
                'updated_at': _at(120 + index),
            }
        )
        for position, type_slug in enumerate(project.types):
            data['project_project_types'].append(
                {
                    'project_id': project_id,
                    'project_type_id': types[type_slug],
                    'position': position,
                }
            )
        edges: dict[str, dict[str, typing.Any]] = {}
        for env_slug in project.environments:
            host = (
                project.slug
                if env_slug == 'production'
                else f'{project.slug}.{env_slug}'
            )
            edges[env_slug] = {'url': f'https://{host}.example.com'}
        releases = _release_plan(index)
        if project.archived:
            releases = releases[:1]
        for number, (tag, days, events) in enumerate(releases):
            release_id = ids.nanoid(rng)
            committish = f'{rng.getrandbits(28):07x}'
            data['releases'].append(
                {
                    'id': release_id,
                    'project_id': project_id,
                    'committish': committish,
                    'tag': tag,
                    'title': f'Release {tag}',
                    'description': (
                        f'## What changed\n* Release {tag} of {project.name}'
                    ),
                    'links': [
                        {
                            'type': 'github_release',
                            'url': f'{repository}/releases/tag/{tag}',
                            'label': None,
                        }
                    ],
                    'created_by': authors[(index + number) % len(authors)],
                    'created_at': _at(days),
                    'updated_at': _at(days),
                }
            )
            for step, (env_slug, status) in enumerate(events):
                if env_slug not in edges:
                    continue
                timestamp = _at(days, hours=1 + step * 3)
                data['deployment_events'].append(
                    {
                        'release_id': release_id,
                        'environment_id': environments[env_slug],
                        'timestamp': timestamp,
                        'status': status,
                        'note': f'{status} by the deploy pipeline',
                    }
                )
                if status == 'success':
                    edges[env_slug]['current_release'] = release_id
                    edges[env_slug]['current_release_at'] = timestamp
        for env_slug, properties in edges.items():
            data['project_environments'].append(
                {
                    'project_id': project_id,
                    'environment_id': environments[env_slug],
                    'properties': properties,
                }
            )


def _add_people(data: SeedData, org_id: str, teams: abc.Mapping[str, str]) -> None:
    data['users'] = _token_users()
    data['memberships'] = [
        {'user_email': config.ADMIN_EMAIL, 'organization_id': org_id, 'role': 'admin'},
        {
            'user_email': config.READONLY_EMAIL,
            'organization_id': org_id,
            'role': 'readonly',
        },
    ]
    data['team_members'] = [
        {'user_email': config.ADMIN_EMAIL, 'team_id': teams['platform']}
    ]
    data['identity_connections'] = []
    for index, (email, name, subject, status, team) in enumerate(_PEOPLE):
        data['users'].append(
            {
                'email': email,
                'display_name': name,
                'created_at': _at(index),
                'last_login': _at(200, hours=index),
            }
        )
        data['memberships'].append(
            {'user_email': email, 'organization_id': org_id, 'role': 'developer'}
        )
        data['team_members'].append({'user_email': email, 'team_id': teams[team]})
        if subject is not None:
            data['identity_connections'].append(
                {
                    'user_email': email,
                    'integration_slug': 'github',
                    'subject': subject,
                    'status': status,
                }
            )
    # Bob also connected GitLab, under a different subject.
    data['identity_connections'].append(
        {
            'user_email': 'bob@example.com',
            'integration_slug': 'gitlab',
            'subject': '42',
            'status': 'active',
        }
    )


def _add_second_organization(data: SeedData, rng: random.Random) -> None:
    # A second, small organisation: its projects are not reachable under
    # /organizations/engineering/..., which tests of org scoping need.
    org_id = ids.nanoid(rng)
    team_id = ids.nanoid(rng)
    type_id = ids.nanoid(rng)
    data['organizations'].append(
        {
            'id': org_id,
            'slug': 'research',
            'name': 'Research',
            'description': 'Prototypes and experiments',
            'created_at': _at(30),
            'updated_at': _at(30),
        }
    )
    data['teams'].append(
        {
            'id': team_id,
            'organization_id': org_id,
            'slug': 'research-lab',
            'name': 'Research Lab',
            'created_at': _at(30),
        }
    )
    data['project_types'].append(
        {
            'id': type_id,
            'organization_id': org_id,
            'slug': 'prototype',
            'name': 'Prototype',
            'deployable': True,
            'created_at': _at(30),
        }
    )
    env_id = ids.nanoid(rng)
    data['environments'].append(
        {
            'id': env_id,
            'organization_id': org_id,
            'slug': 'sandbox',
            'name': 'Sandbox',
            'sort_order': 10,
            'label_color': '#2563EB',
            'created_at': _at(30),
        }
    )
    for offset, (slug, name) in enumerate(
        (('ml-playground', 'ML Playground'), ('graph-explorer', 'Graph Explorer'))
    ):
        project_id = ids.nanoid(rng)
        data['projects'].append(
            {
                'id': project_id,
                'team_id': team_id,
                'name': name,
                'slug': slug,
                'description': None,
                'created_at': _at(31 + offset),
                'updated_at': _at(31 + offset),
            }
        )
        data['project_project_types'].append(
            {'project_id': project_id, 'project_type_id': type_id, 'position': 0}
        )
        data['project_environments'].append(
            {'project_id': project_id, 'environment_id': env_id, 'properties': {}}
        )
    data['memberships'].append(
        {'user_email': config.ADMIN_EMAIL, 'organization_id': org_id, 'role': 'admin'}
    )


# -- generated projects (``--projects N``) ----------------------------------------

_WORDS = (
    'account', 'audit', 'billing', 'cache', 'catalog', 'checkout', 'config',
    'content', 'coupon', 'customer', 'delivery', 'device', 'event', 'export',
    'feed', 'geo', 'identity', 'import', 'inventory', 'invoice', 'ledger',
    'loyalty', 'media', 'metrics', 'order', 'partner', 'pricing', 'profile',
    'quote', 'rating', 'refund', 'report', 'review', 'risk', 'routing',
    'schedule', 'search', 'session', 'shipping', 'survey', 'tax', 'ticket',
    'usage', 'voucher', 'wallet',
)  # fmt: skip
_KINDS = {
    'api-service': 'api',
    'consumer': 'consumer',
    'frontend': 'ui',
    'library': 'lib',
    'scheduled-job': 'job',
}
_QUEUES = ('events', 'updates', 'commands', 'notifications')


def _attributes(
    rng: random.Random, type_slug: str, schema: abc.Mapping[str, typing.Any]
) -> dict[str, typing.Any]:
    # Values the project type's blueprint allows; optional ones left out
    # now and then, as on a real organisation.
    values: dict[str, typing.Any] = {}
    for name, spec in schema.items():
        if not spec.get('required') and rng.random() < 0.2:
            continue
        if 'enum' in spec:
            values[name] = rng.choice(spec['enum'])
        elif spec['type'] == 'boolean':
            values[name] = rng.random() < 0.5
        elif name == 'schedule':
            values[name] = f'{rng.randrange(60)} {rng.randrange(24)} * * *'
        elif name == 'queue':
            values[name] = f'{type_slug}.{rng.choice(_QUEUES)}'
        else:
            values[name] = f'example-{rng.choice(_WORDS)}'
    return values


def _generate_projects(data: SeedData, total: int) -> None:
    """Add projects to the demo organisation until it has ``total``.

    Deterministic (a fixed random sequence): each gets a team, one or two
    project types with blueprint attributes of those types, environments
    with URLs, links, identifiers and a GitHub service. No releases: the
    demo's own projects have those.
    """
    rng = random.Random(f'imbi-toolkit sandbox projects {total}')  # noqa: S311
    org_id = data['organizations'][0]['id']
    teams = [row['id'] for row in data['teams'] if row['organization_id'] == org_id]
    types = {
        row['slug']: row
        for row in data['project_types']
        if row['organization_id'] == org_id
    }
    type_slugs = list(types)
    environments = [
        row for row in data['environments'] if row['organization_id'] == org_id
    ]
    env_sets = (environments, environments[1:], environments[2:])
    projects = data['projects']
    project_types = data['project_project_types']
    edges = data['project_environments']
    alphabet, size = ids.ALPHABET, ids.SIZE
    for number in range(total - DEMO_PROJECTS):
        project_id = ''.join(rng.choices(alphabet, k=size))
        kinds = [rng.choice(type_slugs)]
        if kinds[0] == 'api-service' and rng.random() < 0.1:
            # Like Notifications API: an API that also consumes a queue (the
            # two blueprints agree on the attributes they share).
            kinds.append('consumer')
        word = rng.choice(_WORDS)
        slug = f'{word}-{_KINDS.get(kinds[0], "svc")}-{number:05d}'
        attributes: dict[str, typing.Any] = {}
        for kind in kinds:
            for name, value in _attributes(
                rng, kind, types[kind]['attributes']
            ).items():
                attributes.setdefault(name, value)
        repository = f'https://github.com/example/{slug}'
        links = {'github-repository': repository}
        if rng.random() < 0.7:
            links['grafana'] = f'https://grafana.example.com/d/{slug}'
        if rng.random() < 0.3:
            links['runbook'] = f'https://runbooks.example.com/{slug}'
        github_id = 200_000 + number * 3
        days = 20 + number % 150
        projects.append(
            {
                'id': project_id,
                'team_id': rng.choice(teams),
                'name': slug.replace('-', ' ').title(),
                'slug': slug,
                'description': f'The {word} {kinds[0].replace("-", " ")} #{number}',
                'archived': False,
                'archived_at': None,
                'links': links,
                'identifiers': {
                    'sonarqube': f'example:{slug}',
                    'sentry': 10_000 + number,
                },
                'services': [
                    {
                        'integration_slug': 'github',
                        'integration_name': 'GitHub',
                        'identifier': str(github_id),
                        'canonical_url': (
                            f'https://api.github.com/repositories/{github_id}'
                        ),
                        'dashboard_url': repository,
                    }
                ],
                'attributes': attributes,
                'score': round(40 + rng.random() * 60, 1),
                'created_at': _at(days),
                'updated_at': _at(days + 30),
            }
        )
        for position, kind in enumerate(kinds):
            project_types.append(
                {
                    'project_id': project_id,
                    'project_type_id': types[kind]['id'],
                    'position': position,
                }
            )
        deployable = any(types[kind]['deployable'] for kind in kinds)
        for environment in rng.choice(env_sets) if deployable else ():
            host = (
                slug
                if environment['slug'] == 'production'
                else f'{slug}.{environment["slug"]}'
            )
            edges.append(
                {
                    'project_id': project_id,
                    'environment_id': environment['id'],
                    'properties': {'url': f'https://{host}.example.com'},
                }
            )
