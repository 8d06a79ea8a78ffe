"""Benchmark: the patching engine against `jsonpatch.make_patch`.

Two shapes of document:

* one project-like document of 1.8 KiB to 5.5 MiB (performance-notes §2):
  scalar fields, a `links` dict, a `facts` dict of mixed str/int/float/bool,
  lists of 7-field deployment dicts;
* a list of 500 or 5000 small project-like objects (`projects x500`,
  `projects x5000`), each with 15 keys: scalars, short lists of slugs and
  tags, and nested `links` and `identifiers` objects.

And five edits of each: one scalar, 1 % of the leaves (1 % of the objects
for the lists), an insert at the front of a list, the keys of one object in
another order (no change in JSON terms), and a reversed list. For each, the
implementations run interleaved in several rounds, each timed over a batch
of ~20 ms; the table shows medians, and each ratio is the median of the
per-round ratios against `jsonpatch.make_patch` in the same run.

Columns:
    engine: `imbi_toolkit.patching.diff_json`, the generic engine under
        `diff` (the 0.1x goal is for this one).
    +verify: `verified_diff`, the engine plus applying its ops copy-on-write
        and comparing what they touched with `after` (what you pay to be
        sure the ops are right).
    ops: operation counts; `ok` says that `jsonpatch.apply_patch` of our ops
        to `before` gives `after`, compared as `json.dumps(sort_keys=True)`
        (type-strict).

Run: `python benchmarks/bench_diff.py [--quick] [--only LABEL ...] [--budget
SECONDS]`. It stops by itself: after the budget (default 300 s) each case
gets one round only.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import sys
import time
import typing
from collections import abc

import jsonpatch

from imbi_toolkit.patching import diff_json
from imbi_toolkit.patching._verify import verified_diff

_WORDS = tuple(
    [
        'alpha',
        'beta',
        'gamma',
        'delta',
        'epsilon',
        'zeta',
        'eta',
        'theta',
        'iota',
        'kappa',
        'lambda',
        'mu',
        'nu',
        'xi',
        'omicron',
        'pi',
        'rho',
        'sigma',
        'tau',
        'upsilon',
        'phi',
        'chi',
        'psi',
        'omega',
    ]
)

# label, facts, list items, lists (performance-notes §2)
SIZES = [
    ('1.8 KiB', 5, 2, 1),
    ('4.2 KiB', 50, 10, 1),
    ('30.9 KiB', 500, 100, 1),
    ('299 KiB', 5000, 1000, 1),
    ('5.5 MiB', 5000, 10000, 3),
]
# label, number of project-like objects in the list
PROJECT_LISTS = [
    ('projects x500', 500),
    ('projects x5000', 5000),
]
BATCH_SECONDS = 0.02


def _words(rng: random.Random, count: int) -> str:
    return ' '.join(rng.choice(_WORDS) for _ in range(count))


def _fact(rng: random.Random, index: int) -> object:
    kind = index % 4
    if kind == 0:
        return _words(rng, 3)
    if kind == 1:
        return rng.randint(0, 10000)
    if kind == 2:
        return round(rng.random() * 100, 3)
    return rng.random() < 0.5


def _deployment(rng: random.Random, index: int) -> dict[str, object]:
    return {
        'id': index,
        'version': f'1.{index // 100}.{index % 100}',
        'environment': rng.choice(['production', 'staging', 'testing']),
        'status': rng.choice(['success', 'failed', 'pending']),
        'created_at': f'2026-10-{1 + index % 28:02d}T12:00:{index % 60:02d}Z',
        'created_by': _words(rng, 1),
        'link': f'https://ci.example.com/builds/{index}',
    }


def make_document(
    facts: int, items: int, lists: int, seed: int = 1
) -> dict[str, typing.Any]:
    """A project-like document (the shape of performance-notes §2)."""
    rng = random.Random(seed)
    document: dict[str, typing.Any] = {
        'id': 4242,
        'name': 'imbi-toolkit',
        'slug': 'imbi-toolkit',
        'description': _words(rng, 12),
        'namespace': {
            'id': 7,
            'name': 'Platform',
            'slug': 'platform',
            'icon_class': 'fas fa-cube',
        },
        'project_type': {'id': 3, 'name': 'Python Library', 'slug': 'python-library'},
        'environments': ['production', 'staging', 'testing'],
        'archived': False,
        'configuration_type': 'ssm',
        'score': 87.5,
        'created_at': '2024-01-01T00:00:00Z',
        'created_by': 'someone',
        'last_modified_at': '2026-10-01T00:00:00Z',
        'last_modified_by': 'someone-else',
        'gitlab_project_id': 1234,
        'sentry_project_slug': 'imbi-toolkit',
        'sonarqube_project_key': 'imbi-toolkit',
        'pagerduty_service_id': 'P123456',
        'icon_class': 'fas fa-tools',
        'identifiers': {'github': 'org/imbi-toolkit', 'pypi': 'imbi-toolkit'},
        'links': {
            f'link-{i}': f'https://example.com/{_words(rng, 1)}/{i}' for i in range(10)
        },
        'urls': {
            'production': 'https://prod.example.com',
            'staging': 'https://stage.example.com',
        },
        'facts': {f'fact_{i:05d}': _fact(rng, i) for i in range(facts)},
    }
    for number in range(lists):
        name = 'deployments' if number == 0 else f'releases_{number}'
        document[name] = [_deployment(rng, i) for i in range(items)]
    return document


def _project(rng: random.Random, index: int) -> dict[str, typing.Any]:
    """A small project-like object: 15 keys, short lists, nested links."""
    slug = f'{_words(rng, 1)}-{index}'
    return {
        'id': index,
        'name': f'{_words(rng, 2).title()} {index}',
        'slug': slug,
        'description': _words(rng, rng.randint(3, 10)),
        'icon': rng.choice([None, 'fas fa-cube', 'fas fa-tools']),
        'team_slug': rng.choice(['platform', 'billing', 'search', 'data']),
        'project_type_slugs': rng.sample(['api', 'consumer', 'library', 'web'], 2),
        'environments': rng.sample(['production', 'staging', 'testing'], 2),
        'tags': [_words(rng, 1) for _ in range(rng.randint(0, 3))],
        'links': {
            'github': f'https://github.com/example/{slug}',
            'docs': f'https://docs.example.com/{slug}',
        },
        'identifiers': {'sonarqube': f'example:{slug}', 'sentry': index * 7},
        'score': round(rng.random() * 100, 1),
        'archived': rng.random() < 0.1,
        'created_at': f'2025-{1 + index % 12:02d}-{1 + index % 28:02d}T12:00:00Z',
        'updated_at': f'2026-{1 + index % 12:02d}-{1 + index % 28:02d}T08:30:00Z',
    }


def make_projects(count: int, seed: int = 1) -> list[dict[str, typing.Any]]:
    """A list of `count` small project-like objects."""
    rng = random.Random(seed)
    return [_project(rng, index) for index in range(count)]


def _main_list(document: typing.Any) -> list[typing.Any]:
    return document if isinstance(document, list) else document['deployments']


def _scalar(before: typing.Any) -> typing.Any:
    after = copy.deepcopy(before)
    if isinstance(after, list):
        after[len(after) // 2]['description'] = 'changed description'
    else:
        after['description'] = 'changed description'
    return after


def _key_order(before: typing.Any) -> typing.Any:
    """The keys of one object (in the middle of the list) in another order."""
    after = copy.deepcopy(before)
    items = _main_list(after)
    middle = len(items) // 2
    items[middle] = dict(reversed(list(items[middle].items())))
    return after


def _one_percent_projects(before: list[typing.Any]) -> list[typing.Any]:
    after = copy.deepcopy(before)
    rng = random.Random(7)
    for index in rng.sample(range(len(after)), max(1, len(after) // 100)):
        project = after[index]
        field = rng.choice(['description', 'score', 'archived', 'tags', 'links'])
        if field == 'description':
            project['description'] += ' x'
        elif field == 'score':
            project['score'] += 1
        elif field == 'archived':
            project['archived'] = not project['archived']
        elif field == 'tags':
            project['tags'].append('new')
        else:
            project['links']['docs'] += '/v2'
    return after


def _one_percent(before: typing.Any) -> typing.Any:
    if isinstance(before, list):
        return _one_percent_projects(before)
    after = copy.deepcopy(before)
    rng = random.Random(7)
    facts = after['facts']
    for key in rng.sample(list(facts), max(1, len(facts) // 100)):
        value = facts[key]
        if isinstance(value, bool):
            facts[key] = not value
        elif isinstance(value, int | float):
            facts[key] = value + 1
        else:
            facts[key] = value + ' x'
    for value in after.values():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for index in rng.sample(range(len(value)), max(1, len(value) // 100)):
                value[index]['status'] = 'rolled-back'
    after['description'] = 'changed'
    return after


def _insert_front(before: typing.Any) -> typing.Any:
    after = copy.deepcopy(before)
    if isinstance(after, list):
        after.insert(0, _project(random.Random(9), 999999))
    else:
        after['deployments'].insert(0, _deployment(random.Random(9), 999999))
    return after


def _reverse(before: typing.Any) -> typing.Any:
    after = copy.deepcopy(before)
    _main_list(after).reverse()
    return after


CASES: list[tuple[str, abc.Callable[[typing.Any], typing.Any]]] = [
    ('scalar', _scalar),
    ('1pct', _one_percent),
    ('insert_front', _insert_front),
    ('key_order', _key_order),
    ('reverse', _reverse),
]


def documents(
    labels: abc.Collection[str] | None = None,
) -> abc.Iterator[tuple[str, typing.Any, bool]]:
    """Yield `(label, document, huge)` for the shapes named in `labels`."""
    for label, facts, items, lists in SIZES:
        if not labels or label in labels:
            yield label, make_document(facts, items, lists), items >= 10000
    for label, count in PROJECT_LISTS:
        if not labels or label in labels:
            yield label, make_projects(count), False


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def _batch_size(call: abc.Callable[[], object]) -> int:
    start = time.perf_counter()
    call()
    elapsed = time.perf_counter() - start
    return max(1, int(BATCH_SECONDS / max(elapsed, 1e-7)))


def rows(
    sizes: abc.Sequence[str] | None = None,
    rounds: int = 5,
    budget_seconds: float = 300.0,
) -> list[dict[str, typing.Any]]:
    """Run the benchmark and return one dict per (document, case).

    Args:
        sizes: Labels from `SIZES` and `PROJECT_LISTS` to run (default:
            all).
        rounds: Interleaved rounds per case (3 at most for 5.5 MiB).
        budget_seconds: After this much time each later case runs one round.
    """
    deadline = time.monotonic() + budget_seconds
    results = []
    for label, before, huge in documents(sizes):
        size = len(json.dumps(before))
        for case, edit in CASES:
            after = edit(before)
            ours = diff_json(before, after)
            theirs = jsonpatch.make_patch(before, after).patch
            ok = _canonical(jsonpatch.apply_patch(before, ours)) == _canonical(after)
            calls: dict[str, abc.Callable[[], object]] = {
                'engine': lambda: diff_json(before, after),  # noqa: B023
                'verify': lambda: verified_diff(before, after),  # noqa: B023
                'make_patch': lambda: jsonpatch.make_patch(before, after),  # noqa: B023
            }
            numbers = {name: _batch_size(call) for name, call in calls.items()}
            wanted = min(rounds, 3) if huge else rounds
            times: dict[str, list[float]] = {name: [] for name in calls}
            for round_number in range(wanted):
                if round_number and time.monotonic() > deadline:
                    break
                for name, call in calls.items():
                    count = numbers[name]
                    start = time.perf_counter()
                    for _ in range(count):
                        call()
                    times[name].append((time.perf_counter() - start) / count)
            base = times['make_patch']
            results.append(
                {
                    'case': case,
                    'document': label,
                    'bytes': size,
                    'rounds': len(base),
                    'engine_ms': statistics.median(times['engine']) * 1e3,
                    'verify_ms': statistics.median(times['verify']) * 1e3,
                    'make_patch_ms': statistics.median(base) * 1e3,
                    'ratio': statistics.median(
                        [
                            ours_s / base_s
                            for ours_s, base_s in zip(
                                times['engine'], base, strict=True
                            )
                        ]
                    ),
                    'verify_ratio': statistics.median(
                        [
                            ours_s / base_s
                            for ours_s, base_s in zip(
                                times['verify'], base, strict=True
                            )
                        ]
                    ),
                    'ops': len(ours),
                    'make_patch_ops': len(theirs),
                    'ok': ok,
                }
            )
    return results


def format_table(results: abc.Sequence[dict[str, typing.Any]]) -> str:
    """Render `rows()` as a Markdown table."""
    lines = [
        '| case | doc size | engine ms | make_patch ms | ratio | +verify ms '
        '| +verify ratio | our ops | make_patch ops | ok |',
        '|---|---|---|---|---|---|---|---|---|---|',
    ]
    for row in results:
        lines.append(
            f'| {row["case"]} | {row["document"]} | {row["engine_ms"]:.3f} | '
            f'{row["make_patch_ms"]:.3f} | {row["ratio"]:.3f} | '
            f'{row["verify_ms"]:.3f} | '
            f'{row["verify_ratio"]:.3f} | {row["ops"]} | {row["make_patch_ops"]} | '
            f'{"yes" if row["ok"] else "NO"} |'
        )
    worst = max(results, key=lambda row: row['ratio'])
    lines.append('')
    lines.append(
        f'Worst engine ratio: {worst["ratio"]:.3f} '
        f'({worst["case"]}, {worst["document"]}); '
        f'ops never above make_patch: '
        f'{all(row["ops"] <= row["make_patch_ops"] for row in results)}; '
        f'Python {sys.version.split()[0]}, jsonpatch {jsonpatch.__version__}.'
    )
    return '\n'.join(lines)


def main(argv: abc.Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--quick', action='store_true', help='skip the 5.5 MiB document'
    )
    parser.add_argument(
        '--only',
        action='append',
        metavar='LABEL',
        help='run only this document (repeatable), e.g. "projects x500"',
    )
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--budget', type=float, default=300.0, help='seconds')
    args = parser.parse_args(argv)
    labels = [label for label, *_ in SIZES] + [label for label, _ in PROJECT_LISTS]
    if args.only:
        unknown = sorted(set(args.only) - set(labels))
        if unknown:
            parser.error(f'unknown document {unknown[0]!r}; choose from {labels}')
        labels = args.only
    elif args.quick:
        labels.remove('5.5 MiB')
    print(format_table(rows(labels, args.rounds, args.budget)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
