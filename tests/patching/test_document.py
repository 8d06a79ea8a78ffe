from __future__ import annotations

import copy
import typing

import pytest

from imbi_toolkit.patching import patchable

from .conftest import PATCHABLE


def test_get_shape_becomes_the_patchable_document(
    project: dict[str, typing.Any],
) -> None:
    original = copy.deepcopy(project)
    assert patchable(project) == PATCHABLE
    assert project == original  # the input is not changed


def test_patchable_shape_is_left_as_is() -> None:
    assert patchable(PATCHABLE) == PATCHABLE


def test_slugs_are_accepted_where_objects_were(project: dict[str, typing.Any]) -> None:
    project['team'] = 'payments'
    project['project_types'] = ['api-service', {'slug': 'consumer'}]
    project['environments'] = ['staging', {'slug': 'production', 'url': 'u', 'id': 'x'}]
    document = patchable(project)
    assert document['team_slug'] == 'payments'
    assert document['project_type_slugs'] == ['api-service', 'consumer']
    assert document['environments'] == {'staging': {}, 'production': {'url': 'u'}}


def test_a_team_without_slug_is_an_error(project: dict[str, typing.Any]) -> None:
    project['team'] = {'name': 'Platform'}
    with pytest.raises(ValueError, match='team must be a slug'):
        patchable(project)


def test_not_a_mapping_is_an_error() -> None:
    with pytest.raises(TypeError, match='must be a mapping, not list'):
        patchable([])  # type: ignore[arg-type]


def test_a_score_never_computed_is_not_patchable() -> None:
    # GET shows `score: null`, the server's patch document has no score.
    assert 'score' not in patchable({'name': 'x', 'score': None})
    assert patchable({'name': 'x', 'score': 82.5})['score'] == 82.5
