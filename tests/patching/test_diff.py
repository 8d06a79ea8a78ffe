"""`diff` on Imbi projects: translation, traps, tests ops, verification."""

from __future__ import annotations

import copy
import importlib
import json
import typing

import jsonpatch
import pytest

from imbi_toolkit.patching import Patch, PatchValidationError, diff, patchable

from .conftest import PATCHABLE

Project = dict[str, typing.Any]


def edited(project: Project) -> Project:
    return copy.deepcopy(project)


def test_no_change_is_an_empty_patch(project: Project) -> None:
    patch = diff(project, edited(project))
    assert isinstance(patch, Patch)
    assert patch == []


def test_server_owned_and_get_only_keys_are_never_patched(project: Project) -> None:
    after = edited(project)
    after['updated_at'] = '2030-01-01T00:00:00Z'
    after['relationships'] = {}
    after['open_pr_count'] = 5
    after['team']['name'] = 'Renamed'  # a property of the team, not the project
    after['environments'][0]['label_color'] = '#000000'
    assert diff(project, after) == []


def test_edits_use_the_patchable_paths(project: Project) -> None:
    after = edited(project)
    after['team'] = {'slug': 'payments'}
    after['project_types'].append({'slug': 'consumer'})
    after['environments'][0]['url'] = 'https://pay.example.com'
    after['environments'].append({'slug': 'staging', 'url': 'https://stage'})
    after['links']['grafana'] = 'https://grafana.example.com/d/billing'
    after['framework'] = 'litestar'
    patch = diff(project, after)
    assert sorted(patch, key=lambda operation: operation['path']) == [
        {
            'op': 'replace',
            'path': '/environments/production/url',
            'value': 'https://pay.example.com',
        },
        {
            'op': 'add',
            'path': '/environments/staging',
            'value': {'url': 'https://stage'},
        },
        {'op': 'replace', 'path': '/framework', 'value': 'litestar'},
        {
            'op': 'add',
            'path': '/links/grafana',
            'value': 'https://grafana.example.com/d/billing',
        },
        {'op': 'add', 'path': '/project_type_slugs/1', 'value': 'consumer'},
        {'op': 'replace', 'path': '/team_slug', 'value': 'payments'},
    ]
    assert jsonpatch.apply_patch(PATCHABLE, patch) == patchable(after)
    json.dumps(patch)  # serialisable as is


@pytest.mark.parametrize('clear', ['none', 'delete'])
def test_clearing_description_sends_empty_string(project: Project, clear: str) -> None:
    after = edited(project)
    if clear == 'none':
        after['description'] = None
    else:
        del after['description']
    assert diff(project, after) == [
        {'op': 'replace', 'path': '/description', 'value': ''}
    ]


def test_clearing_an_already_empty_icon_is_no_change(project: Project) -> None:
    after = edited(project)
    del after['icon']  # it was None
    assert diff(project, after) == []


@pytest.mark.parametrize('clear', ['none', 'delete'])
def test_clearing_a_blueprint_attribute_replaces_it_with_null(
    project: Project, clear: str
) -> None:
    after = edited(project)
    if clear == 'none':
        after['framework'] = None
    else:
        del after['framework']
    assert diff(project, after) == [
        {'op': 'replace', 'path': '/framework', 'value': None}
    ]


def test_removing_a_link_is_a_remove(project: Project) -> None:
    after = edited(project)
    del after['links']['github-repository']
    assert diff(project, after) == [
        {'op': 'remove', 'path': '/links/github-repository'}
    ]


def test_an_empty_name_is_refused(project: Project) -> None:
    after = edited(project)
    after['name'] = ''
    with pytest.raises(PatchValidationError, match='ignores an empty /name') as caught:
        diff(project, after)
    assert caught.value.problems[0].index == 0


def test_keys_with_slash_and_tilde_are_escaped(project: Project) -> None:
    after = edited(project)
    after['links']['ci/cd~x'] = 'https://ci.example.com'
    assert diff(project, after) == [
        {'op': 'add', 'path': '/links/ci~1cd~0x', 'value': 'https://ci.example.com'}
    ]


def test_tests_guard_each_changed_value_with_its_old_value(project: Project) -> None:
    after = edited(project)
    after['framework'] = 'litestar'
    after['project_types'].insert(0, {'slug': 'consumer'})
    after['links']['grafana'] = 'https://g'
    patch = diff(project, after, tests=True)
    assert patch == [
        # A new key: its object is tested (no test can say "absent"), so
        # that a retry after a lost answer is refused.
        {'op': 'test', 'path': '/links', 'value': project['links']},
        {'op': 'add', 'path': '/links/grafana', 'value': 'https://g'},
        {'op': 'test', 'path': '/framework', 'value': 'fastapi'},
        {'op': 'replace', 'path': '/framework', 'value': 'litestar'},
        # Inside an array the whole array is tested: indices shift.
        {'op': 'test', 'path': '/project_type_slugs', 'value': ['api-service']},
        {'op': 'add', 'path': '/project_type_slugs/0', 'value': 'consumer'},
    ]
    # Against a concurrently edited document the tests fail.
    concurrent = patchable(project)
    concurrent['framework'] = 'django'
    with pytest.raises(jsonpatch.JsonPatchTestFailed):
        jsonpatch.apply_patch(concurrent, patch)


def test_a_wrong_engine_result_falls_back_to_replacing_top_level_values(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    after = edited(project)
    after['project_types'].insert(0, {'slug': 'consumer'})

    def broken_engine(before: object, after: object) -> list[dict[str, object]]:
        # An off-by-one insert index, the kind of bug verification is for.
        return [{'op': 'add', 'path': '/project_type_slugs/1', 'value': 'consumer'}]

    # The package's `diff` attribute is the function; fetch the module.
    module = importlib.import_module('imbi_toolkit.patching._diff')
    monkeypatch.setattr(module, 'diff_json', broken_engine)
    assert diff(project, after) == [
        {
            'op': 'replace',
            'path': '/project_type_slugs',
            'value': ['consumer', 'api-service'],
        }
    ]


def test_preview_of_a_diff_shows_old_values(project: Project) -> None:
    after = edited(project)
    after['framework'] = 'litestar'
    text = str(diff(project, after).preview())
    assert '"fastapi"' in text
    assert '"litestar"' in text
