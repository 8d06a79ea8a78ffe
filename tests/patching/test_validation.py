from __future__ import annotations

import typing

import pytest

from imbi_toolkit.patching import PatchValidationError, validate

from .conftest import PATCHABLE


def problems_of(patch: typing.Any, document: typing.Any = None) -> list[str]:
    with pytest.raises(PatchValidationError) as caught:
        validate(patch, document)
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ('operation', 'expected'),
    [
        (
            {'op': 'append', 'path': '/x', 'value': 1},
            "unknown op 'append'; use one of add",
        ),
        ({'path': '/x'}, 'unknown op None'),
        ({'op': 'add', 'path': 'links/x', 'value': 1}, 'must start with "/"'),
        ({'op': 'replace', 'path': '', 'value': {}}, 'the document root, which cannot'),
        (
            {'op': 'add', 'path': '/links/a~2', 'value': 1},
            'has a "~" not followed by 0 or 1',
        ),
        ({'op': 'add', 'path': '/links/a'}, 'add needs a "value"'),
        ({'op': 'test', 'path': '/name'}, 'test needs a "value"'),
        ({'op': 'move', 'path': '/links/a'}, 'move needs a "from" pointer'),
        ({'op': 'remove', 'path': '/id'}, '/id is read-only'),
        ({'op': 'replace', 'path': '/relationships/team', 'value': 1}, 'is read-only'),
        (
            {'op': 'copy', 'from': '/created_at', 'path': '/x'},
            '/created_at is read-only',
        ),
        ({'op': 'replace', 'path': '/team', 'value': 'x'}, 'patch /team_slug instead'),
        ({'op': 'add', 'path': '/archived', 'value': True}, 'archive and unarchive'),
        ({'op': 'replace', 'path': '/services', 'value': []}, 'computed by the server'),
        ({'op': 'remove', 'path': '/description'}, 'replace it with "" instead'),
        (
            {'op': 'replace', 'path': '/icon', 'value': None},
            'null does not clear /icon',
        ),
        ({'op': 'replace', 'path': '/slug', 'value': ''}, 'ignores an empty /slug'),
        ({'op': 'remove', 'path': '/team_slug'}, '/team_slug cannot be removed'),
        ({'op': 'replace', 'path': '/project_type_slugs', 'value': []}, 'at least one'),
        ({'op': 'remove', 'path': '/framework'}, 'replace it with null instead'),
        ({'op': 'add', 'path': '/links/a', 'value': {1, 2}}, '"value" is not JSON'),
        ({'op': 'add', 'path': '/score', 'value': float('nan')}, '"value" is not JSON'),
        # An int too long for `str` (Python's limit on digits).
        ({'op': 'add', 'path': '/score', 'value': 10**5000}, '"value" is not JSON'),
        ({'op': 'remove', 'path': '/a~1b'}, 'blueprint attribute /a/b'),
    ],
)
def test_each_problem_is_named_with_its_operation(
    operation: dict[str, typing.Any], expected: str
) -> None:
    patch = [{'op': 'test', 'path': '/name', 'value': 'Billing API'}, operation]
    [problem] = problems_of(patch)
    assert problem.startswith('operation 1: ')
    assert expected in problem


def test_all_problems_are_reported_at_once() -> None:
    found = problems_of([{'op': 'remove', 'path': '/id'}, {'op': 'add', 'path': 'x'}])
    assert [problem.split(':')[0] for problem in found] == [
        'operation 0',
        'operation 1',
        'operation 1',
    ]


@pytest.mark.parametrize('patch', [{'op': 'add'}, 'add', None])
def test_a_patch_must_be_a_list(patch: object) -> None:
    [problem] = problems_of(patch)
    assert 'a JSON Patch is a list of operations' in problem


@pytest.mark.parametrize(
    ('operation', 'expected'),
    [
        (
            {'op': 'add', 'path': '/links/a/b', 'value': 1},
            'add /links/a/b: /links/a does not exist',
        ),
        (
            {'op': 'add', 'path': '/environments/staging/url', 'value': 'u'},
            '/environments/staging does not exist',
        ),
        (
            {'op': 'replace', 'path': '/links/nope', 'value': 1},
            '/links/nope does not exist',
        ),
        ({'op': 'remove', 'path': '/project_type_slugs/3'}, 'index 3 is out of range'),
        (
            {'op': 'add', 'path': '/project_type_slugs/01', 'value': 'x'},
            'not an array index',
        ),
        (
            {'op': 'add', 'path': '/name/x', 'value': 1},
            '/name is not an object or array',
        ),
        ({'op': 'test', 'path': '/score', 'value': 82}, 'test failed'),
        (
            {'op': 'move', 'from': '/links', 'path': '/links/x'},
            'into one of its own children',
        ),
    ],
)
def test_against_the_current_document(
    operation: dict[str, typing.Any], expected: str
) -> None:
    [problem] = problems_of(
        [{'op': 'test', 'path': '/score', 'value': 82.5}, operation], PATCHABLE
    )
    assert problem.startswith('operation 1: ')
    assert expected in problem


def test_valid_patches_pass(project: dict[str, typing.Any]) -> None:
    patch = [
        {'op': 'test', 'path': '/framework', 'value': 'fastapi'},
        {'op': 'replace', 'path': '/framework', 'value': 'litestar'},
        {'op': 'add', 'path': '/links/grafana', 'value': 'https://g'},
        {'op': 'add', 'path': '/environments/production/url', 'value': 'https://pay'},
        {'op': 'add', 'path': '/project_type_slugs/-', 'value': 'consumer'},
        {'op': 'replace', 'path': '/description', 'value': ''},
    ]
    validate(patch)
    validate(patch, PATCHABLE)
    validate(patch, project)  # the GET shape is translated first


def test_error_messages_never_contain_values() -> None:
    secret = 'ik_0123456789abcdef0123456789abcdef_s3cr3t'
    found = problems_of(
        [{'op': 'test', 'path': '/identifiers/sonarqube', 'value': secret}], PATCHABLE
    )
    assert secret not in ' '.join(found)


def test_rfc_only_mode_allows_imbi_paths() -> None:
    validate([{'op': 'remove', 'path': '/id'}], {'id': 1}, imbi=False)
