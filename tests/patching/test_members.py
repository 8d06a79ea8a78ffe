"""`diff`'s fast path for edits of object members gives the general path's patches."""

from __future__ import annotations

import copy
import json
import math
import random
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imbi_toolkit.bulk._plan import _copy
from imbi_toolkit.patching import PatchValidationError, diff, patchable, replay_safe
from imbi_toolkit.patching import _diff as diff_module
from imbi_toolkit.patching._diff import diff_patchable
from imbi_toolkit.patching._members import json_copy, member_diff

from .conftest import PROJECT
from .strategies import json_pairs, keys, reorder, reordered_pairs, scalars

SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Keys that look like array indices get a test of their object when removed.
member_keys = st.one_of(keys, st.sampled_from(['0', '12', '-', 'a/b', '~1', '']))
odd_scalars = st.one_of(
    scalars, st.sampled_from([math.nan, math.inf, -math.inf, True, 1.0])
)
values = st.recursive(
    odd_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(member_keys, children, max_size=4),
    ),
    max_leaves=20,
)
documents = st.dictionaries(member_keys, values, max_size=6)
_CONFUSABLE: dict[type, list[object]] = {
    int: [True, 1.0, 0.0, False],
    bool: [1, 0, 1.0],
    float: [1, True, -0.0, 0.0, 0],
}


def _dicts(value: typing.Any) -> list[dict[str, typing.Any]]:
    """Every object inside `value` (lists included), `value` first."""
    found = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def member_edit(document: dict[str, typing.Any], rng: random.Random) -> None:
    """Change, add and remove members of objects of `document`, in place."""
    for _ in range(rng.randint(1, 5)):
        target = rng.choice(_dicts(document))
        choice = rng.random()
        if target and choice < 0.3:
            del target[rng.choice(list(target))]
        elif target and choice < 0.7:
            key = rng.choice(list(target))
            old = target[key]
            # Often a value `==` calls equal: the type must still change.
            target[key] = rng.choice(
                [
                    *_CONFUSABLE.get(type(old), []) * 3,
                    'z',
                    2,
                    0.5,
                    -0.0,
                    None,
                    {'k': old},
                    [old],
                    json_copy(old),
                    math.nan,
                ]
            )
        else:
            target[rng.choice(['0', '7', '-', 'new', 'a/b', '~x', ''])] = rng.choice(
                [1, True, 'v', {}, {'n': [1]}, [0]]
            )


@st.composite
def member_pairs(
    draw: st.DrawFn,
) -> tuple[dict[str, typing.Any], dict[str, typing.Any]]:
    """A document and an edit of members of its objects, on a copy that
    shares its leaves (as a plan's edit function gets) or not."""
    before = draw(documents)
    rng = draw(st.randoms(use_true_random=False))
    after = _copy(before) if draw(st.booleans()) else copy.deepcopy(before)
    member_edit(after, rng)
    if draw(st.booleans()):
        after = reorder(after, rng, share=draw(st.booleans()))
    return before, after


def _shown(value: object) -> str:
    # Type-strict: 1, 1.0, true and -0.0 all print differently.
    return json.dumps(value, default=repr)


def outcome(
    before: dict[str, typing.Any], after: dict[str, typing.Any], *, tests: bool
) -> tuple[str, str]:
    """`diff`'s answer (the patch, or the problems it raised), as text."""
    try:
        return 'patch', _shown(list(diff(before, after, tests=tests)))
    except PatchValidationError as error:
        return 'refused', _shown([(p.index, p.message) for p in error.problems])
    except ValueError as error:  # an `environments` that is no longer a map
        return 'failed', str(error)


def general(
    before: dict[str, typing.Any],
    after: dict[str, typing.Any],
    *,
    tests: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[str, str]:
    """`outcome` with the fast path turned off."""
    with monkeypatch.context() as patched:
        patched.setattr(diff_module, 'member_diff', lambda *_, **__: None)
        return outcome(before, after, tests=tests)


def check_same(
    before: dict[str, typing.Any],
    after: dict[str, typing.Any],
    monkeypatch: pytest.MonkeyPatch,
) -> bool:
    """Assert both paths agree, with and without guards; whether the fast
    path took the edit."""
    snapshot = _shown([before, after])
    for tests in (False, True):
        answer = outcome(before, after, tests=tests)
        assert answer == general(before, after, tests=tests, monkeypatch=monkeypatch)
    assert _shown([before, after]) == snapshot  # neither path changed them
    # A plan's call: from the patchable document, translated once.
    try:
        guarded = diff_patchable(patchable(before), after, tests=True)
        planned = 'patch', _shown(list(guarded))
    except PatchValidationError as error:
        planned = 'refused', _shown([(p.index, p.message) for p in error.problems])
    except ValueError as error:
        planned = 'failed', str(error)
    assert planned == answer
    if answer[0] == 'failed':
        return False
    old = patchable(before)
    new = diff_module._resolve_traps(old, patchable(after))
    return member_diff(old, new, tests=True) is not None


@SETTINGS
@given(member_pairs())
def test_member_edits_give_the_general_paths_patches(
    pair: tuple[dict[str, typing.Any], dict[str, typing.Any]],
) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        check_same(*pair, monkeypatch)


@SETTINGS
@given(st.one_of(json_pairs(documents), reordered_pairs(documents)))
def test_any_edit_gives_the_general_paths_patches(
    pair: tuple[dict[str, typing.Any], dict[str, typing.Any]],
) -> None:
    # List edits, unrelated documents, keys in another order: the fast path
    # gives up on what it does not settle, and agrees on the rest.
    with pytest.MonkeyPatch.context() as monkeypatch:
        check_same(*pair, monkeypatch)


NAN = math.nan
# (before, after, whether the fast path takes it): the edges of its rules.
EDGES: list[tuple[dict[str, typing.Any], dict[str, typing.Any], bool]] = [
    ({'e': {'w': -0.0, 'x': 1}}, {'e': {'w': 0.0, 'x': 2}}, True),
    ({'e': {'w': 1, 'x': 1}}, {'e': {'w': 1.0, 'x': 2}}, True),
    ({'e': {'w': 0, 'x': 1}}, {'e': {'w': False, 'x': 2}}, True),
    # `==` calls the objects equal: the engine patches them last.
    ({'e': {'w': 0.0}}, {'e': {'w': -0.0}}, False),
    ({'e': {'w': 1}, 'f': 'a'}, {'e': {'w': True}, 'f': 'b'}, False),
    ({'e': {'w': {'v': 1}}, 'f': 'a'}, {'e': {'w': {'v': True}}, 'f': 'b'}, False),
    ({'e': {'w': [1, 2]}}, {'e': {'w': [1.0, 2]}}, False),
    ({'e': {'w': [1, 2]}}, {'e': {'w': [2, 1]}}, False),
    ({'e': {'w': [1, 2]}}, {'e': {'w': [1, 2]}}, True),
    ({'e': {'w': NAN}}, {'e': {'w': float('nan')}}, False),
    ({'e': {'w': 1.5}}, {'e': {'w': NAN}}, True),
    ({'e': {1: 'a'}}, {'e': {1: 'b'}}, False),
    ({'e': {'a': 1}}, {'e': {'a': 1, 2: 'b'}}, False),
    ({'e': {'1': 'a', 'b': 'c'}}, {'e': {'b': 'c'}}, True),
    ({'e': {'b': 'c', '1': 'a'}}, {'e': {'b': 'd', 'n': 1}}, True),
    ({'e': {'b': 'c', 'x': {'y': 1}}}, {'x': 1, 'e': {'x': {}, 'n': {}}}, True),
    ({'e': ('a',)}, {'e': ('b',)}, False),
    ({'e': {'a/b': {'~': 1}}}, {'e': {'a/b': {'~': 2, '': 3}}}, True),
]


@pytest.mark.parametrize(('before', 'after', 'fast'), EDGES)
def test_edges_of_the_fast_path(
    before: dict[str, typing.Any],
    after: dict[str, typing.Any],
    fast: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert check_same(before, after, monkeypatch) is fast


def test_most_member_edits_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(15)
    taken = 0
    for _ in range(400):
        before: dict[str, typing.Any] = {
            'name': 'Billing',
            'description': 'Invoices',
            'score': 81.5,
            'links': {'docs': 'https://docs.example.com', 'grafana': 'g'},
            'identifiers': {'sentry': 1, 'sonarqube': 'b', 'zero': 0.0},
            'environments': {
                'production': {'url': 'u', 'weight': 1.0, 'on': True},
                'staging': {},
            },
            'project_type_slugs': ['api', 'consumer'],
            'tier': rng.choice([1, 2, 3]),
        }
        after = _copy(before)
        member_edit(after, rng)
        taken += check_same(before, after, monkeypatch)
    # It gives up on NaN, `1` becoming `True` inside an object, list edits.
    assert taken >= 300


def test_a_plans_edit_takes_the_fast_path_with_its_guards() -> None:
    before = patchable(copy.deepcopy(PROJECT))
    after = _copy(before)
    after['description'] = 'New'
    after['links']['runbook'] = 'https://runbooks.example.com/billing'
    after['identifiers'] = {'sonarqube': 'example:billing-api', '0': 1}
    del after['links']['github-repository']
    old = patchable(before)
    new = diff_module._resolve_traps(old, patchable(after))
    assert member_diff(old, new, tests=True) is not None
    patch = diff(before, after, tests=True)
    assert list(patch) == [
        {'op': 'test', 'path': '/description', 'value': PROJECT['description']},
        {'op': 'replace', 'path': '/description', 'value': 'New'},
        {
            'op': 'test',
            'path': '/links/github-repository',
            'value': 'https://github.com/example/billing-api',
        },
        {'op': 'remove', 'path': '/links/github-repository'},
        # The object, as the remove before left it: a retry cannot add twice.
        {'op': 'test', 'path': '/links', 'value': {}},
        {
            'op': 'add',
            'path': '/links/runbook',
            'value': 'https://runbooks.example.com/billing',
        },
        {'op': 'test', 'path': '/identifiers', 'value': PROJECT['identifiers']},
        {'op': 'add', 'path': '/identifiers/0', 'value': 1},
    ]
    assert replay_safe(patch)
    # The guards are copies: changing the edited document later leaves them.
    after['links']['runbook'] = 'changed'
    before['identifiers']['sonarqube'] = 'changed'
    assert patch[6]['value'] == {'sonarqube': 'example:billing-api'}


def test_json_copy_is_a_deep_copy() -> None:
    value = {'a': [1, {'b': (1, [2])}], 'c': {'d': 1.5}}
    copied = json_copy(value)
    assert copied == value
    assert copied['a'] is not value['a']
    assert copied['a'][1] is not value['a'][1]
    assert copied['a'][1]['b'] is not value['a'][1]['b']  # deepcopy's
    assert copied['a'][1]['b'][1] is not value['a'][1]['b'][1]
