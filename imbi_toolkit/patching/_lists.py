"""Plan the edit of one list: which items stay, move, change, go or arrive.

The planner sees only item keys (equal keys mean strictly equal items) and
returns indices, so that `_engine` can turn the plan into JSON Patch ops:

* items whose keys match are paired; the longest run of pairs already in
  order (a longest increasing subsequence) stays put, the other pairs move;
* an item that went and an item that arrived in the same gap between two
  staying items are paired as *changed*, to be patched in place (one op for a
  changed scalar instead of a `remove` plus an `add`);
* the rest are removed or added.
"""

from __future__ import annotations

import bisect
import collections
import dataclasses
import operator
import typing
from collections import abc

# Up to this many items, simulating the moves on a list beats the Fenwick tree.
_SMALL = 32
# Up to this many, a sorted list of slots beats it too (measured on reversed
# and shuffled lists: 2.5x at 1,000 items, 1.15x at 10,000, even at 12,000,
# 0.9x at 14,000, where the memory shifts start to cost more).
_SORTED_SLOTS = 11_000


@dataclasses.dataclass(slots=True)
class ListPlan:
    """Indices into the old list (`a`) and the new list (`b`)."""

    removed: list[int]
    changed: list[tuple[int, int]]
    moved: list[tuple[int, int]]
    staying: list[tuple[int, int]]
    added: list[int]


def plan(
    keys_a: abc.Sequence[typing.Hashable], keys_b: abc.Sequence[typing.Hashable]
) -> ListPlan:
    """Plan turning a list with item keys `keys_a` into one with `keys_b`."""
    return plan_pairs(_match(keys_a, keys_b), len(keys_a), len(keys_b))


def plan_pairs(pairs: list[tuple[int, int]], size_a: int, size_b: int) -> ListPlan:
    """Plan the edit from matched `(a, b)` index pairs, ordered by `b`.

    The pairs must be those `plan` would make: each new item paired with the
    earliest unused strictly equal old item, if there is one.
    """
    in_order = _longest_increasing([a for a, _ in pairs])
    if len(in_order) == len(pairs):
        staying, moved = pairs, []
    else:
        staying = [pairs[i] for i in in_order]
        staying_set = set(in_order)
        moved = [pair for i, pair in enumerate(pairs) if i not in staying_set]
    if len(pairs) == size_a == size_b:  # a reordering only
        return ListPlan([], [], moved, staying, [])
    matched_a = {a for a, _ in pairs}
    matched_b = {b for _, b in pairs}
    gone = [a for a in range(size_a) if a not in matched_a]
    new = [b for b in range(size_b) if b not in matched_b]
    changed, removed, added = _pair_in_gaps(gone, new, staying)
    return ListPlan(removed, changed, moved, staying, added)


def move_steps(
    survivors: list[int], target: dict[int, int], stationary: set[int]
) -> list[tuple[int, int]]:
    """Compute the `(from, to)` list indices of the moves that sort survivors.

    Args:
        survivors: Old indices of the items left after the removals, in list
            order.
        target: Old index -> the item's index in the new list.
        stationary: Old indices of the items that must not move; their ranks
            increase along `survivors`.

    Each moving item goes right after the item ranked just before it, in rank
    order. Every slot an item can occupy (its old place, or its final place in
    a chain of moved items behind a stationary one) gets a number once, so the
    current index of a slot is the count of occupied slots before it.
    """
    by_rank = sorted(survivors, key=target.__getitem__)
    if len(survivors) <= _SMALL:
        return _move_steps_small(survivors, by_rank, stationary)
    rank_of = {item: rank for rank, item in enumerate(by_rank)}
    slot_orig: dict[int, int] = {}
    slot_final: dict[int, int] = {}
    counter = 0

    def chain_after(rank: int) -> None:
        nonlocal counter
        while rank < len(by_rank) and by_rank[rank] not in stationary:
            slot_final[by_rank[rank]] = counter
            counter += 1
            rank += 1

    chain_after(0)
    for item in survivors:
        slot_orig[item] = counter
        counter += 1
        if item in stationary:
            chain_after(rank_of[item] + 1)
    if len(survivors) <= _SORTED_SLOTS:
        return _moves_by_sorted_slots(
            survivors, by_rank, stationary, slot_orig, slot_final
        )
    # A Fenwick tree over the slots: the count of occupied slots before a
    # slot is the current list index of whatever occupies it.
    size = counter
    tree = [0] * (size + 1)
    for slot in slot_orig.values():
        tree[slot + 1] = 1
    for position in range(1, size + 1):  # build in O(n)
        parent = position + (position & -position)
        if parent <= size:
            tree[parent] += tree[position]
    steps = []
    # The Fenwick steps are inlined: this loop runs once per moved item.
    for item in by_rank:
        if item in stationary:
            continue
        slot = slot_orig[item]
        source = 0
        position = slot
        while position:
            source += tree[position]
            position &= position - 1
        position = slot + 1
        while position <= size:
            tree[position] -= 1
            position += position & -position
        slot = slot_final[item]
        destination = 0
        position = slot
        while position:
            destination += tree[position]
            position &= position - 1
        position = slot + 1
        while position <= size:
            tree[position] += 1
            position += position & -position
        if source != destination:
            steps.append((source, destination))
    return steps


def _moves_by_sorted_slots(
    survivors: list[int],
    by_rank: list[int],
    stationary: set[int],
    slot_orig: dict[int, int],
    slot_final: dict[int, int],
) -> list[tuple[int, int]]:
    """`move_steps`' loop with the occupied slots kept in a sorted list.

    A slot's index in that list is the current list index of its item; each
    step is then two bisections and two C-level list edits, fewer Python steps
    than the Fenwick tree, but the edits shift memory, so only for shorter
    lists.
    """
    occupied = list(map(slot_orig.__getitem__, survivors))  # increasing
    steps = []
    for item in by_rank:
        if item in stationary:
            continue
        source = bisect.bisect_left(occupied, slot_orig[item])
        del occupied[source]
        final = slot_final[item]
        destination = bisect.bisect_left(occupied, final)
        occupied.insert(destination, final)
        if source != destination:
            steps.append((source, destination))
    return steps


def _move_steps_small(
    survivors: list[int], by_rank: list[int], stationary: set[int]
) -> list[tuple[int, int]]:
    """The same moves as `move_steps`, found by simulating a short list."""
    current = list(survivors)
    steps = []
    for rank, item in enumerate(by_rank):
        if item in stationary:
            continue
        source = current.index(item)
        del current[source]
        destination = current.index(by_rank[rank - 1]) + 1 if rank else 0
        current.insert(destination, item)
        if source != destination:
            steps.append((source, destination))
    return steps


def _match(
    keys_a: abc.Sequence[typing.Hashable], keys_b: abc.Sequence[typing.Hashable]
) -> list[tuple[int, int]]:
    first = dict(zip(keys_a, range(len(keys_a)), strict=True))
    if len(first) == len(keys_a) and len(set(keys_b)) == len(keys_b):
        # All keys unique on both sides: one C-level lookup per item.
        found = map(first.get, keys_b)
        return [(a, b) for b, a in enumerate(found) if a is not None]
    # Duplicates: pair each new item with the earliest unused equal old item.
    positions: dict[typing.Hashable, collections.deque[int]] = {}
    for index, key in enumerate(keys_a):
        positions.setdefault(key, collections.deque()).append(index)
    pairs = []
    for b, key in enumerate(keys_b):
        queue = positions.get(key)
        if queue:
            pairs.append((queue.popleft(), b))
    return pairs


def _longest_increasing(values: list[int]) -> list[int]:
    """Positions of one longest strictly increasing subsequence of `values`."""
    if all(map(operator.lt, values, values[1:])):
        return list(range(len(values)))
    tails: list[int] = []
    tail_positions: list[int] = []
    previous = [-1] * len(values)
    for position, value in enumerate(values):
        slot = bisect.bisect_left(tails, value)
        if slot:
            previous[position] = tail_positions[slot - 1]
        if slot == len(tails):
            tails.append(value)
            tail_positions.append(position)
        else:
            tails[slot] = value
            tail_positions[slot] = position
    result = []
    position = tail_positions[-1] if tail_positions else -1
    while position != -1:
        result.append(position)
        position = previous[position]
    result.reverse()
    return result


def _pair_in_gaps(
    gone: list[int], new: list[int], staying: list[tuple[int, int]]
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    if not gone or not new:
        return [], gone, new
    stay_a = [a for a, _ in staying]
    stay_b = [b for _, b in staying]
    gone_by_gap: dict[int, list[int]] = {}
    for a in gone:
        gone_by_gap.setdefault(bisect.bisect_left(stay_a, a), []).append(a)
    new_by_gap: dict[int, list[int]] = {}
    for b in new:
        new_by_gap.setdefault(bisect.bisect_left(stay_b, b), []).append(b)
    changed: list[tuple[int, int]] = []
    removed: list[int] = []
    added: list[int] = []
    for gap in sorted(gone_by_gap.keys() | new_by_gap.keys()):
        olds = gone_by_gap.get(gap, [])
        news = new_by_gap.get(gap, [])
        count = min(len(olds), len(news))
        changed.extend(zip(olds[:count], news[:count], strict=True))
        removed.extend(olds[count:])
        added.extend(news[count:])
    return changed, removed, added
