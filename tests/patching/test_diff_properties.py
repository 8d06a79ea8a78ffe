"""Property tests of `diff` on Imbi projects and of the `test` ops."""

from __future__ import annotations

import copy
import doctest
import importlib
import json
import typing

import jsonpatch
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imbi_toolkit.patching import Patch, diff, diff_json, patchable, validate

from .conftest import PROJECT
from .strategies import json_pairs, json_values

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
text = st.text(alphabet='ab/~ ', min_size=1, max_size=4)


@st.composite
def edited_projects(draw: st.DrawFn) -> dict[str, typing.Any]:
    """The conftest project with random edits of what a user may change."""
    project = copy.deepcopy(PROJECT)
    project['links'] = draw(st.dictionaries(text, text, max_size=3))
    project['identifiers'] = draw(
        st.dictionaries(text, st.one_of(text, st.integers(0, 3)), max_size=3)
    )
    if draw(st.booleans()):
        project['description'] = draw(st.one_of(st.none(), text))
    if draw(st.booleans()):
        project['framework'] = draw(json_values)
    if draw(st.booleans()):
        del project['programming_language']
    project['project_types'] = [
        {'slug': slug}
        for slug in draw(st.lists(text, min_size=1, max_size=4, unique=True))
    ]
    environments = draw(
        st.lists(st.sampled_from(['production', 'staging', 'testing']), unique=True)
    )
    project['environments'] = [
        {'slug': slug, 'id': 'x', 'url': draw(text)} for slug in environments
    ]
    return project


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def expected(before: dict[str, typing.Any], after: dict[str, typing.Any]) -> object:
    """What the server should hold: `after`, with the traps' rewrites."""
    old, new = patchable(before), patchable(after)
    for key in ('description', 'icon'):
        if new.get(key) is None and old.get(key):
            new[key] = ''
        elif new.get(key) is None and key in old:
            new[key] = old[key]
    for key in old:
        if key not in new:
            new[key] = None
    return new


@SETTINGS
@given(edited_projects(), edited_projects())
def test_diff_of_projects_applies_validates_and_guards(
    before: dict[str, typing.Any], after: dict[str, typing.Any]
) -> None:
    patch = diff(before, after)
    validate(patch, before)
    start = patchable(before)
    assert canonical(jsonpatch.apply_patch(start, patch)) == canonical(
        expected(before, after)
    )
    guarded = diff(before, after, tests=True)
    validate(guarded, before)
    assert canonical(jsonpatch.apply_patch(start, guarded)) == canonical(
        expected(before, after)
    )
    assert [op for op in guarded if op['op'] != 'test'] == list(patch)


@SETTINGS
@given(json_pairs())
def test_test_ops_hold_the_values_the_server_will_see(
    pair: tuple[typing.Any, typing.Any],
) -> None:
    before, after = pair
    if not isinstance(before, dict):
        before, after = {'root': before}, {'root': after}
    operations = Patch(diff_json(before, after)).with_tests(before)
    # Every test passes against `before` (jsonpatch raises if one fails).
    assert canonical(jsonpatch.apply_patch(before, operations)) == canonical(after)


@pytest.mark.parametrize(
    'name',
    ['__init__', '_builder', '_pointer', '_concurrency'],
)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(
        f'imbi_toolkit.patching.{name}'.replace('.__init__', '')
    )
    failed, attempted = doctest.testmod(module)
    assert attempted > 0
    assert failed == 0
