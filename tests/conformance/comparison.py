"""Compare two recordings of ``scripts/record_exchanges.py``, step by step.

What is compared, per step (matched by name):

- the status code;
- the recorded headers (content-type, www-authenticate, location, retry-after,
  link), exactly, after normalisation;
- the body's *shape*: keys and JSON types, recursively. List items are merged
  into one shape (the union of their keys and types), and so are the values of
  objects keyed by data (`MAP_KEYS`: `links`, `current_releases`, ...). A
  timestamp placeholder (`<ts:Z>`, `<ts:+00:00>`) counts as its own type, so a
  timestamp in another format is a difference. An array or map that is always
  empty on one side and never on the other is a difference too;
- for an error (status >= 400), the `detail` exactly (texts, 422 items);
- for a *controlled* step (the answer shows only data the scenario made),
  every value and every list length as well;
- for a *same_items* step (a list of the same objects on every target, e.g.
  `?project_id=`), the `id`s of the listed objects.

An allow-list (TOML, ``[[allowed]]`` entries with `step`, `where`, optional
`kind`, `expected`, `actual` and `versions`, and a required `reason`) names
the differences that are known and accepted; `step`, `where`, `expected` and
`actual` are globs where only `*` and `?` are wildcards.

Run as a script to compare two recording files:
``python tests/conformance/comparison.py EXPECTED ACTUAL [--allow FILE --version V]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import json
import pathlib
import sys
import tomllib
import typing
from collections import abc

Json = typing.Any

# Objects whose keys are data (environment slugs, link types, attribute
# names), not field names: their values are merged into one item shape.
MAP_KEYS = frozenset(
    {
        'current_releases',
        'latest_deployments',
        'links',
        'identifiers',
        'drift_ranges',
        'properties',
    }
)


@dataclasses.dataclass(frozen=True)
class Difference:
    """One way the actual exchange differs from the recorded one."""

    step: str
    where: str  # status, header <name>, body<path>, detail<path>, step
    kind: str  # status, header, missing, extra, type, value, length, step
    expected: str
    actual: str

    def __str__(self) -> str:
        return (
            f'{self.step}: {self.where} [{self.kind}]: '
            f'recorded {self.expected}, got {self.actual}'
        )


# -- shapes ---------------------------------------------------------------------


def _scalar_type(value: Json) -> str:
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, int | float):
        return 'number'
    if isinstance(value, str):
        # A timestamp's format is part of its type: <ts:Z>, <ts:+00:00>, ...
        return value if value.startswith('<ts:') and value.endswith('>') else 'string'
    return type(value).__name__


@dataclasses.dataclass
class Shape:
    """The JSON types a value (or the merged items of a list) can have."""

    types: set[str] = dataclasses.field(default_factory=set)
    keys: dict[str, Shape] = dataclasses.field(default_factory=dict)
    items: Shape | None = None
    # Whether some value merged in was an empty array or map, or a full one.
    empty: bool = False
    full: bool = False

    @classmethod
    def of(cls, value: Json) -> Shape:
        """The shape of one JSON value."""
        shape = cls()
        shape.add(value)
        return shape

    def add(self, value: Json, is_map: bool = False) -> None:
        """Merge a value into this shape (`is_map`: its keys are data)."""
        if isinstance(value, dict) and not is_map:
            self.types.add('object')
            for key, item in value.items():
                self.keys.setdefault(key, Shape()).add(item, key in MAP_KEYS)
        elif isinstance(value, list | dict):
            self.types.add('map' if isinstance(value, dict) else 'array')
            self.empty |= not value
            self.full |= bool(value)
            for item in value.values() if isinstance(value, dict) else value:
                if self.items is None:
                    self.items = Shape()
                self.items.add(item)
        else:
            self.types.add(_scalar_type(value))


def _types(shape: Shape) -> str:
    return '|'.join(sorted(shape.types)) or 'nothing'


def compare_shapes(
    step: str, expected: Shape, actual: Shape, where: str = ''
) -> list[Difference]:
    """Differences between two shapes, keys and types, recursively."""
    out = []
    if expected.types != actual.types:
        out.append(
            Difference(step, f'body{where}', 'type', _types(expected), _types(actual))
        )
    for key in expected.keys:
        if key not in actual.keys:
            out.append(
                Difference(
                    step,
                    f'body{where}.{key}',
                    'missing',
                    _types(expected.keys[key]),
                    'no such key',
                )
            )
        else:
            out += compare_shapes(
                step, expected.keys[key], actual.keys[key], f'{where}.{key}'
            )
    for key in actual.keys:
        if key not in expected.keys:
            out.append(
                Difference(
                    step,
                    f'body{where}.{key}',
                    'extra',
                    'no such key',
                    _types(actual.keys[key]),
                )
            )
    # Always empty on one side and never on the other: e.g. `current_releases`
    # that the real single-project GET never fills.
    if (expected.empty, expected.full) in ((True, False), (False, True)) and (
        actual.empty,
        actual.full,
    ) == (expected.full, expected.empty):
        out.append(
            Difference(
                step,
                f'body{where}',
                'emptiness',
                'always empty' if expected.empty else 'never empty',
                'never empty' if expected.empty else 'always empty',
            )
        )
    # An empty list says nothing about its items: compare only when both have some.
    if expected.items is not None and actual.items is not None:
        out += compare_shapes(step, expected.items, actual.items, f'{where}[]')
    return out


# -- values ---------------------------------------------------------------------


def _short(value: Json) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 200 else text[:197] + '...'


def compare_values(
    step: str, expected: Json, actual: Json, where: str, prefix: str = 'body'
) -> list[Difference]:
    """Differences in values and list lengths (for controlled steps and details).

    Only what both sides have is compared here; missing and extra keys and
    type changes are the shape comparison's business.
    """
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in [key for key in expected if key in actual]:
            out += compare_values(
                step, expected[key], actual[key], f'{where}.{key}', prefix
            )
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        out = []
        if len(expected) != len(actual):
            out.append(
                Difference(
                    step,
                    f'{prefix}{where}',
                    'length',
                    f'{len(expected)} items',
                    f'{len(actual)} items',
                )
            )
        for index, (left, right) in enumerate(zip(expected, actual, strict=False)):
            out += compare_values(step, left, right, f'{where}[{index}]', prefix)
        return out
    containers = isinstance(expected, dict | list) or isinstance(actual, dict | list)
    if containers and prefix == 'body':  # the shape comparison reports it
        return []
    if expected != actual or type(expected) is not type(actual):
        return [
            Difference(
                step, f'{prefix}{where}', 'value', _short(expected), _short(actual)
            )
        ]
    return []


# -- exchanges ------------------------------------------------------------------


def _item_id(item: Json) -> Json:
    return item.get('id') if isinstance(item, dict) else item


def compare_exchange(expected: Json, actual: Json) -> list[Difference]:
    """All differences between two recorded exchanges of the same step."""
    step = expected['name']
    out = []
    if expected['status'] != actual['status']:
        out.append(
            Difference(
                step, 'status', 'status', str(expected['status']), str(actual['status'])
            )
        )
    for header in sorted(expected['headers'].keys() | actual['headers'].keys()):
        left = expected['headers'].get(header)
        right = actual['headers'].get(header)
        if left != right:
            out.append(
                Difference(
                    step,
                    f'header {header}',
                    'header',
                    'absent' if left is None else repr(left),
                    'absent' if right is None else repr(right),
                )
            )
    body, other = expected['body'], actual['body']
    if expected['status'] != actual['status']:
        # Another outcome altogether: key-by-key differences would only bury it.
        if body != other:
            out.append(Difference(step, 'body', 'value', _short(body), _short(other)))
        return out
    out += compare_shapes(step, Shape.of(body), Shape.of(other))
    if expected.get('controlled'):
        out += compare_values(step, body, other, '')
    elif expected.get('same_items') and isinstance(body, list):
        listed = [_item_id(item) for item in body]
        got = [_item_id(item) for item in other] if isinstance(other, list) else other
        if listed != got:
            out.append(
                Difference(step, 'body[].id', 'value', _short(listed), _short(got))
            )
    elif (
        expected['status'] >= 400
        and isinstance(body, dict)
        and isinstance(other, dict)
        and 'detail' in body
        and 'detail' in other
    ):
        out += compare_values(step, body['detail'], other['detail'], '', 'detail')
    elif expected['status'] >= 400 and isinstance(body, str) and body != other:
        out.append(Difference(step, 'body', 'value', _short(body), _short(other)))
    return out


def compare_recordings(expected: Json, actual: Json) -> list[Difference]:
    """All differences between two recordings, in the expected step order."""
    out = []
    if expected.get('scenario') != actual.get('scenario'):
        out.append(
            Difference(
                '*',
                'scenario',
                'step',
                str(expected.get('scenario')),
                str(actual.get('scenario')),
            )
        )
    steps = {exchange['name']: exchange for exchange in actual['exchanges']}
    for exchange in expected['exchanges']:
        other = steps.pop(exchange['name'], None)
        if other is None:
            out.append(
                Difference(exchange['name'], 'step', 'step', 'present', 'absent')
            )
            continue
        out += compare_exchange(exchange, other)
    for name in steps:
        out.append(Difference(name, 'step', 'step', 'absent', 'present'))
    return out


# -- allow-list -----------------------------------------------------------------


def glob_match(text: str, pattern: str) -> bool:
    """fnmatch with only `*` and `?` as wildcards: `body[].x` means itself."""
    literal = pattern.replace('[', '\0').replace(']', '[]]').replace('\0', '[[]')
    return fnmatch.fnmatchcase(text, literal)


@dataclasses.dataclass
class Allowed:
    """One accepted difference (or family of them)."""

    step: str
    where: str
    reason: str
    kind: str | None = None
    expected: str | None = None
    actual: str | None = None
    versions: list[str] | None = None
    used: int = 0

    def applies_to(self, version: str) -> bool:
        """Whether this entry is meant for a sandbox of `version`."""
        return self.versions is None or version in self.versions

    def matches(self, difference: Difference) -> bool:
        """Whether this entry covers `difference`."""
        return (
            glob_match(difference.step, self.step)
            and glob_match(difference.where, self.where)
            and (self.kind is None or self.kind == difference.kind)
            and (
                self.expected is None or glob_match(difference.expected, self.expected)
            )
            and (self.actual is None or glob_match(difference.actual, self.actual))
        )

    def __str__(self) -> str:
        extra = ''.join(
            f' {name}={value!r}'
            for name, value in (
                ('kind', self.kind),
                ('expected', self.expected),
                ('actual', self.actual),
            )
            if value is not None
        )
        return f'step={self.step!r} where={self.where!r}{extra} ({self.reason})'


class AllowListError(ValueError):
    """The allow-list file is malformed."""


def load_allow_list(path: pathlib.Path) -> list[Allowed]:
    """Read the `[[allowed]]` entries of a TOML file.

    Raises:
        AllowListError: On a missing `step`, `where` or `reason`, or an
            unknown key.
    """
    data = tomllib.loads(path.read_text(encoding='utf-8'))
    entries = []
    for index, raw in enumerate(data.get('allowed', []), 1):
        unknown = set(raw) - {
            'step',
            'where',
            'kind',
            'expected',
            'actual',
            'versions',
            'reason',
        }
        missing = {'step', 'where', 'reason'} - set(raw)
        if unknown or missing or not str(raw.get('reason', '')).strip():
            raise AllowListError(
                f'{path.name}: entry {index} needs step, where and a non-empty '
                f'reason (unknown keys: {sorted(unknown)}, missing: {sorted(missing)})'
            )
        entries.append(
            Allowed(
                step=raw['step'],
                where=raw['where'],
                reason=raw['reason'],
                kind=raw.get('kind'),
                expected=raw.get('expected'),
                actual=raw.get('actual'),
                versions=raw.get('versions'),
            )
        )
    return entries


def apply_allow_list(
    differences: list[Difference], allowed: list[Allowed], version: str
) -> tuple[list[Difference], list[Allowed]]:
    """Split off the allowed differences.

    Returns:
        The differences no entry covers, and the entries for `version` that
        covered nothing (stale: the sandbox was fixed, or the entry is wrong).
    """
    active = [entry for entry in allowed if entry.applies_to(version)]
    remaining = []
    for difference in differences:
        entry = next((entry for entry in active if entry.matches(difference)), None)
        if entry is None:
            remaining.append(difference)
        else:
            entry.used += 1
    return remaining, [entry for entry in active if not entry.used]


def report(differences: list[Difference], stale: abc.Sequence[Allowed] = ()) -> str:
    """A readable account, grouped by step."""
    lines = []
    current = None
    for difference in differences:
        if difference.step != current:
            current = difference.step
            lines.append(f'{current}:')
        lines.append(
            f'  {difference.where} [{difference.kind}]: recorded {difference.expected}'
            f', got {difference.actual}'
        )
    if stale:
        lines.append('allow-list entries that matched nothing (remove them):')
        lines += [f'  {entry}' for entry in stale]
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> int:
    """Compare two recording files; exit 1 on a difference not allowed."""
    parser = argparse.ArgumentParser(description='Compare two exchange recordings.')
    parser.add_argument('expected', type=pathlib.Path)
    parser.add_argument('actual', type=pathlib.Path)
    parser.add_argument('--allow', type=pathlib.Path, help='allow-list TOML file')
    parser.add_argument(
        '--version', default='', help='the version the allow-list entries are for'
    )
    args = parser.parse_args(argv)
    expected = json.loads(args.expected.read_text(encoding='utf-8'))
    actual = json.loads(args.actual.read_text(encoding='utf-8'))
    differences = compare_recordings(expected, actual)
    stale: list[Allowed] = []
    if args.allow is not None:
        differences, stale = apply_allow_list(
            differences, load_allow_list(args.allow), args.version
        )
    if differences or stale:
        print(report(differences, stale))
        print(
            f'{len(differences)} difference(s) between {args.expected} '
            f'(API {expected.get("api_version")}) and {args.actual} '
            f'(API {actual.get("api_version")})'
        )
        return 1
    print(f'{args.actual} matches {args.expected}: {len(expected["exchanges"])} steps')
    return 0


if __name__ == '__main__':
    sys.exit(main())
