"""A project in the GET shape (docs/imbi-api.md#shapes)."""

from __future__ import annotations

import copy
import typing

import pytest

PROJECT: dict[str, typing.Any] = {
    'id': 'V1StGXR8_Z5jdHi6B-myT',
    'name': 'Billing API',
    'slug': 'billing-api',
    'description': 'Invoices and payment webhooks',
    'icon': None,
    'created_at': '2026-03-17T12:00:00Z',
    'updated_at': '2026-07-20T14:02:11.481920Z',
    'archived': False,
    'archived_at': None,
    'team': {
        'id': 'tE4mQk2vX9pL0sYb7nWcA',
        'name': 'Platform',
        'slug': 'platform',
        'organization': {'name': 'Engineering', 'slug': 'engineering'},
    },
    'project_types': [
        {'id': 'pT9bVn3Qw7Er1Ty5Ui8Op', 'name': 'API Service', 'slug': 'api-service'}
    ],
    'environments': [
        {
            'id': 'eNv1Pr0dXx2Yy3Zz4Aa5B',
            'created_at': '2026-01-02T00:00:00Z',
            'updated_at': None,
            'name': 'Production',
            'slug': 'production',
            'description': None,
            'icon': None,
            'sort_order': 30,
            'label_color': '#DC2626',
            'can_deploy': True,
            'can_promote': True,
            'organization': {'slug': 'engineering'},
            'url': 'https://billing.example.com',
            'current_release': 'Uakgb_J5m9g-0JDMbcJqL',
            'current_release_at': '2026-07-20T14:00:03.120000+00:00',
        }
    ],
    'links': {'github-repository': 'https://github.com/example/billing-api'},
    'identifiers': {'sonarqube': 'example:billing-api'},
    'services': [{'integration_slug': 'github', 'identifier': '134741'}],
    'score': 82.5,
    'breakdown': None,
    'relationships': {'team': {'href': '/api/x', 'count': 1}, 'outbound_count': 2},
    'open_pr_count': 0,
    'closed_pr_count': 0,
    'viewer_open_pr_count': 0,
    'viewer_closed_pr_count': 0,
    'current_releases': {},
    'programming_language': 'Python 3.12',
    'framework': 'fastapi',
}

PATCHABLE: dict[str, typing.Any] = {
    'name': 'Billing API',
    'slug': 'billing-api',
    'description': 'Invoices and payment webhooks',
    'icon': None,
    'team_slug': 'platform',
    'project_type_slugs': ['api-service'],
    'environments': {
        'production': {
            'url': 'https://billing.example.com',
            'current_release': 'Uakgb_J5m9g-0JDMbcJqL',
            'current_release_at': '2026-07-20T14:00:03.120000+00:00',
        }
    },
    'links': {'github-repository': 'https://github.com/example/billing-api'},
    'identifiers': {'sonarqube': 'example:billing-api'},
    'score': 82.5,
    'programming_language': 'Python 3.12',
    'framework': 'fastapi',
}


@pytest.fixture
def project() -> dict[str, typing.Any]:
    return copy.deepcopy(PROJECT)
