"""The long-list move planners agree with simulating the moves on a list."""

from __future__ import annotations

import random

import pytest

from imbi_toolkit.patching import _lists


def _reordering(size: int, kind: str, seed: int) -> list[int]:
    rng = random.Random(seed)
    order = list(range(size))
    if kind == 'reverse':
        order.reverse()
    elif kind == 'shuffle':
        rng.shuffle(order)
    else:  # a few swaps
        for _ in range(max(1, size // 20)):
            i, j = rng.randrange(size), rng.randrange(size)
            order[i], order[j] = order[j], order[i]
    return order


@pytest.mark.parametrize('size', [40, 300])
@pytest.mark.parametrize('kind', ['reverse', 'shuffle', 'swaps'])
@pytest.mark.parametrize('sorted_slots', [True, False])
def test_moves_match_the_simulation(
    size: int, kind: str, sorted_slots: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # new list = old items in this order; the plan's staying pairs form a
    # longest increasing run, the rest move.
    order = _reordering(size, kind, seed=size)
    plan = _lists.plan(order, list(range(size)))
    survivors = list(range(size))
    target = dict(plan.staying + plan.moved)
    stationary = {old for old, _ in plan.staying}
    expected = _lists._move_steps_small(
        survivors, sorted(survivors, key=target.__getitem__), stationary
    )
    # Force one long-list path or the other.
    monkeypatch.setattr(_lists, '_SORTED_SLOTS', size if sorted_slots else 0)
    steps = _lists.move_steps(survivors, target, stationary)
    assert steps == expected
    # Replaying the steps really gives the new order.
    current = list(range(size))
    for source, destination in steps:
        current.insert(destination, current.pop(source))
    assert current == sorted(current, key=target.__getitem__)
    assert len(steps) == size - len(plan.staying)
