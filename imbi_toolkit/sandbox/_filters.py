"""The project list's ``filter=field:op[:value]`` predicates (docs/imbi-api.md#filters).

The grammar and its 400 texts are those of 2.16.1; since 2.26.0 values are
coerced to the attribute's declared type, with 400s of their own. Before,
every value is a string, so ``on_call:eq:true`` matches no boolean.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from collections import abc

from imbi_toolkit.sandbox import _errors as errors

OPERATORS = ('eq', 'exists', 'in', 'ne', 'not_exists', 'not_in')
_VALUELESS = ('exists', 'not_exists')
_FIELD = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')


@dataclasses.dataclass(frozen=True)
class Predicate:
    """One parsed filter.

    Attributes:
        field: The blueprint attribute.
        op: One of :data:`OPERATORS`.
        values: The values to compare with (one for `eq`/`ne`).
    """

    field: str
    op: str
    values: tuple[object, ...]

    def matches(self, attributes: abc.Mapping[str, object]) -> bool:
        """Tell whether a project's attributes satisfy the predicate."""
        value = attributes.get(self.field)
        if self.op == 'exists':
            return value is not None
        if self.op == 'not_exists':
            return value is None
        if value is None:  # ne and not_in leave out projects without it
            return False
        # A bool is not the integer 1 here, as in the graph's comparison.
        found = any(
            value == wanted and isinstance(value, bool) == isinstance(wanted, bool)
            for wanted in self.values
        )
        return found if self.op in ('eq', 'in') else not found


def parse(
    raw: str, declared: abc.Mapping[str, abc.Mapping[str, typing.Any]], *, coerce: bool
) -> Predicate:
    """Parse one ``filter`` value against the filterable attributes.

    Args:
        raw: The query value, e.g. `framework:in:fastapi,litestar`.
        declared: Blueprint attribute name -> rule (`type`, `enum`, ...).
        coerce: Coerce values to the attribute's type (2.26.0 and later).

    Raises:
        ApiError: 400 with the real server's text, checked in its order:
            the shape, the operator, the field, then the value.
    """
    field, _, rest = raw.partition(':')
    op, _, value = rest.partition(':')
    if not field or not op:
        raise errors.ApiError(400, f'Invalid filter {raw!r}; expected field:op[:value]')
    if op not in OPERATORS:
        raise errors.ApiError(
            400,
            f'Unknown filter operator {op!r}; valid operators are '
            + ', '.join(OPERATORS),
        )
    if not _FIELD.fullmatch(field) or field not in declared:
        raise errors.ApiError(
            400, f'Attribute {field!r} is not filterable for this project type'
        )
    if op in _VALUELESS:
        if value:
            raise errors.ApiError(
                400, f'Filter {raw!r} does not accept a value for operator {op!r}'
            )
        return Predicate(field, op, ())
    items = (
        [item for item in value.split(',') if item]
        if op in ('in', 'not_in')
        else [value]
    )
    if not all(items) or not items:
        raise errors.ApiError(400, f'Filter {raw!r} requires a value')
    kind = declared[field].get('type', 'string')
    values = tuple(
        _coerce(raw, field, kind, item) if coerce else item for item in items
    )
    return Predicate(field, op, values)


def _coerce(raw: str, field: str, kind: str, text: str) -> object:
    if kind == 'boolean':
        if text not in ('true', 'false'):
            raise errors.ApiError(
                400,
                f'Filter {raw!r} requires a true/false value for boolean '
                f'attribute {field!r}',
            )
        return text == 'true'
    if kind == 'integer':
        try:
            return int(text)
        except ValueError:
            raise errors.ApiError(
                400,
                f'Filter {raw!r} requires an integer value for integer '
                f'attribute {field!r}',
            ) from None
    if kind == 'number':
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise errors.ApiError(
                400,
                f'Filter {raw!r} requires a finite numeric value for number '
                f'attribute {field!r}',
            )
        return number
    return text
