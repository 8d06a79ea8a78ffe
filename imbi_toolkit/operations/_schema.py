"""Blueprint attributes checked against the project's schema before sending.

Servers that publish `GET …/projects/{id}/schema` (docs/imbi-api.md#schema)
say which blueprint attributes a project has, their JSON types, allowed
values and, from 2.40, which are required. A patch that sets an unknown
attribute, a value of the wrong type or outside the enum, or clears a
required attribute is refused here with a message naming the attribute and
what it takes, instead of a 400 from the server (or, for an unknown
attribute, a silently stored typo).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import typing
from collections import abc

from imbi_toolkit.patching import PatchValidationError, Problem, split
from imbi_toolkit.types import JSONObject

_TYPES: dict[str, tuple[type, ...]] = {
    'string': (str,),
    'integer': (int,),
    'number': (int, float),
    'boolean': (bool,),
    'array': (list,),
    'object': (dict,),
}


@dataclasses.dataclass(frozen=True)
class Schema:
    """A project's blueprint attributes, merged over its schema sections.

    Attributes:
        properties: Attribute name → its JSON Schema (`type`, `enum`,
            `minimum`, `maximum`...).
        required: The attributes that must keep a value.
    """

    properties: dict[str, JSONObject]
    required: frozenset[str]

    @classmethod
    def from_api(cls, body: abc.Mapping[str, typing.Any]) -> Schema:
        """Read the answer of `GET …/projects/{id}/schema`."""
        properties: dict[str, JSONObject] = {}
        required: set[str] = set()
        for section in body.get('sections') or ():
            if not isinstance(section, dict):
                continue
            for name, spec in (section.get('properties') or {}).items():
                if isinstance(spec, dict):
                    properties[str(name)] = spec
            required.update(str(name) for name in section.get('required') or ())
        return cls(properties, frozenset(required))

    def problems(
        self,
        patch: abc.Sequence[abc.Mapping[str, typing.Any]],
        core_keys: frozenset[str],
    ) -> list[Problem]:
        """What in `patch` the schema refuses (empty when all is well)."""
        found: list[Problem] = []
        for index, op in enumerate(patch):
            kind = op.get('op')
            tokens = split(str(op.get('path', '')))
            if kind in ('test', 'copy') or not tokens or tokens[0] in core_keys:
                continue
            name = tokens[0]
            spec = self.properties.get(name)
            if spec is None:
                found.append(Problem(index, self._unknown(name)))
                continue
            if len(tokens) > 1:
                continue  # inside an array or object attribute
            clears = kind in ('remove', 'move') or (
                kind in ('add', 'replace') and op.get('value') is None
            )
            if clears:
                if name in self.required:
                    found.append(
                        Problem(
                            index,
                            f'blueprint attribute {name!r} is required: give it a '
                            f'value{_allowed(spec)} instead of clearing it',
                        )
                    )
                continue
            message = _check_value(name, spec, op.get('value'))
            if message:
                found.append(Problem(index, message))
        return found

    def _unknown(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self.properties), n=1)
        hint = f'did you mean {close[0]!r}? ' if close else ''
        known = ', '.join(sorted(self.properties)) or 'none'
        return (
            f'{name!r} is not a blueprint attribute of this project: {hint}'
            f'its schema has {known}'
        )


def check(
    patch: abc.Sequence[abc.Mapping[str, typing.Any]],
    schema: Schema,
    core_keys: frozenset[str],
) -> None:
    """Raise `PatchValidationError` naming what the schema refuses."""
    problems = schema.problems(patch, core_keys)
    if problems:
        raise PatchValidationError(problems)


def touches_attributes(
    patch: abc.Sequence[abc.Mapping[str, typing.Any]], core_keys: frozenset[str]
) -> bool:
    """Whether any operation changes something outside the core fields."""
    for op in patch:
        if op.get('op') == 'test':
            continue
        tokens = split(str(op.get('path', '')))
        if tokens and tokens[0] not in core_keys:
            return True
    return False


def _allowed(spec: abc.Mapping[str, typing.Any]) -> str:
    enum = spec.get('enum')
    if isinstance(enum, list) and enum:
        return ' (one of ' + ', '.join(json.dumps(value) for value in enum) + ')'
    kind = spec.get('type')
    return f' (a {kind})' if isinstance(kind, str) else ''


def _in_enum(value: object, enum: list[typing.Any]) -> bool:
    # The server coerces the case of enum strings ("python 3.12" is stored
    # as "Python 3.12"), so only a value no case matches is refused.
    if isinstance(value, str):
        folded = value.casefold()
        return any(isinstance(v, str) and v.casefold() == folded for v in enum)
    return value in enum


def _check_value(name: str, spec: abc.Mapping[str, typing.Any], value: object) -> str:
    kind = spec.get('type')
    types = _TYPES.get(kind) if isinstance(kind, str) else None
    wrong_type = types is not None and (
        not isinstance(value, types)
        or (isinstance(value, bool) and kind in ('integer', 'number'))
    )
    if wrong_type:
        return (
            f'blueprint attribute {name!r} takes a {kind}, not '
            f'{json.dumps(value)[:60]}{_allowed(spec) if spec.get("enum") else ""}'
        )
    enum = spec.get('enum')
    if isinstance(enum, list) and enum and not _in_enum(value, enum):
        return (
            f'{json.dumps(value)[:60]} is not allowed for blueprint attribute '
            f'{name!r}: use one of {", ".join(json.dumps(v) for v in enum)}'
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high = spec.get('minimum'), spec.get('maximum')
        if isinstance(low, int | float) and value < low:
            return f'blueprint attribute {name!r} is at least {low}, not {value}'
        if isinstance(high, int | float) and value > high:
            return f'blueprint attribute {name!r} is at most {high}, not {value}'
    return ''
