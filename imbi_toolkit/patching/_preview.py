"""Show what a patch will change: HTML, Markdown and plain text.

Each row is one operation: its kind, its path, the value there before it and
the value after it. Long values are shortened, and secrets (values under keys
such as `token` or `password`, and strings shaped like credentials) are
masked, so a preview is safe to leave in a notebook.
"""

from __future__ import annotations

import dataclasses
import html
import json
import typing
from collections import abc

from imbi_toolkit.patching._apply import Applier
from imbi_toolkit.patching._pointer import join, split
from imbi_toolkit.patching.errors import PatchValidationError
from imbi_toolkit.patching.secrets import MASK, is_secret_key, masked

if typing.TYPE_CHECKING:
    from IPython.lib.pretty import RepresentationPrinter

#: Longest rendered value, in characters, before it is shortened.
VALUE_WIDTH = 80
_ABSENT = object()  # no value to show (not the same as "")
# Row tints: translucent, so that the theme's text colour reads over them on a
# light and on a dark background (an opaque light tint under JupyterLab's
# dark theme left light text on a light row).
_COLOURS = {
    'add': 'rgba(46, 160, 67, 0.15)',
    'remove': 'rgba(248, 81, 73, 0.15)',
    'replace': 'rgba(212, 167, 44, 0.18)',
    'move': 'rgba(56, 139, 253, 0.15)',
    'copy': 'rgba(56, 139, 253, 0.15)',
    'test': 'rgba(128, 128, 128, 0.1)',
}
# A stronger edge of the same hue on the op cell, for when tints look alike.
_EDGES = {
    'add': 'rgba(46, 160, 67, 0.8)',
    'remove': 'rgba(248, 81, 73, 0.8)',
    'replace': 'rgba(212, 167, 44, 0.9)',
    'move': 'rgba(56, 139, 253, 0.8)',
    'copy': 'rgba(56, 139, 253, 0.8)',
    'test': 'rgba(128, 128, 128, 0.6)',
}
_SYMBOLS = {
    'add': '+',
    'remove': '-',
    'replace': '~',
    'move': '>',
    'copy': '>',
    'test': '?',
}


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    """One operation as shown: every text is already masked and shortened."""

    op: str
    path: str
    old: str
    new: str


class Preview:
    """A table of the operations of a patch, for notebooks and terminals.

    Args:
        operations: The operations (a `Patch` or a list of dicts).
        before: The document the patch applies to, for the old values; when
            omitted the old-value column stays empty.
        width: Longest rendered value before it is shortened with `…`.
    """

    def __init__(
        self,
        operations: abc.Iterable[abc.Mapping[str, typing.Any]],
        before: object = None,
        *,
        width: int = VALUE_WIDTH,
    ) -> None:
        self.rows = _rows(list(operations), before, width)

    def __len__(self) -> int:
        return len(self.rows)

    def __str__(self) -> str:
        if not self.rows:
            return 'No changes.'
        header = ('', 'path', 'old', 'new')
        lines = [
            (_SYMBOLS.get(row.op, '?') + ' ' + row.op, row.path, row.old, row.new)
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in [header, *lines]) for i in range(3)]
        out = []
        for line in [header, *lines]:
            cells = [line[i].ljust(widths[i]) for i in range(3)]
            out.append('  '.join([*cells, line[3]]).rstrip())
        count = len(self.rows)
        out.append(f'({count} operation{"s" if count != 1 else ""})')
        return '\n'.join(out)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: RepresentationPrinter, cycle: bool) -> None:
        printer.text(str(self))  # type: ignore[no-untyped-call]

    def _repr_markdown_(self) -> str:
        if not self.rows:
            return '*No changes.*'
        lines = ['| op | path | old | new |', '|---|---|---|---|']
        for row in self.rows:
            cells = [row.op, row.path, row.old, row.new]
            lines.append(
                '| ' + ' | '.join(_markdown_cell(cell) for cell in cells) + ' |'
            )
        return '\n'.join(lines)

    def _repr_html_(self) -> str:
        from imbi_toolkit import _html

        if not self.rows:
            return '<p><em>No changes.</em></p>'
        body = []
        for row in self.rows:
            tint = _COLOURS.get(row.op, 'transparent')
            edge = _EDGES.get(row.op, 'transparent')
            cells = ''.join(
                _html.td(_html.code(text) if text else '')
                for text in (row.path, row.old, row.new)
            )
            op_cell = _html.td(
                f'<strong>{html.escape(row.op)}</strong>',
                f'white-space: nowrap; border-left: 3px solid {edge}',
            )
            body.append(
                _html.tr(
                    op_cell + cells,
                    f'background-color: {tint}; color: {_html.TEXT_COLOUR}',
                    f'class="imbi-patch-{html.escape(row.op)}"',
                )
            )
        return _html.table(
            'imbi-patch-preview', ('op', 'path', 'old', 'new'), ''.join(body)
        )


def _rows(
    operations: list[abc.Mapping[str, typing.Any]], before: object, width: int
) -> list[Row]:
    applier = Applier(before) if before is not None else None
    rows = []
    for index, operation in enumerate(operations):
        name = str(operation.get('op'))
        path = str(operation.get('path'))
        source = operation.get('from')
        secret = _secret_path(path) or _secret_path(source)
        old: object = _ABSENT
        new: object = _ABSENT
        if applier is not None:
            read = source if name in ('move', 'copy') else path
            if name != 'add' and isinstance(read, str) and applier.exists(read):
                old = applier.value_at(read)
            elif (
                name == 'add' and applier.exists(path) and _is_object_key(applier, path)
            ):
                old = applier.value_at(path)
        if name in ('add', 'replace', 'test'):
            new = operation.get('value')
        elif name in ('move', 'copy') and old is not _ABSENT:
            new, old = old, (old if name == 'copy' else _ABSENT)
        shown_path = path if source is None else f'{source} → {path}'
        rows.append(
            Row(
                name,
                shown_path,
                _render(old, secret, width),
                _render(new, secret, width),
            )
        )
        if applier is not None:
            try:
                applier.apply(index, operation)
            except PatchValidationError:
                applier = None  # later old values are unknown
    return rows


def _is_object_key(applier: Applier, path: str) -> bool:
    tokens = split(path)
    return bool(tokens) and isinstance(applier.value_at(join(*tokens[:-1])), dict)


def _secret_path(pointer: object) -> bool:
    if not isinstance(pointer, str):
        return False
    try:
        return any(is_secret_key(token) for token in split(pointer))
    except ValueError:
        return False


def _render(value: object, secret: bool, width: int) -> str:
    if value is _ABSENT:
        return ''
    if secret:
        return MASK
    try:
        text = json.dumps(masked(value), ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > width:
        text = text[: max(width - 1, 1)] + '…'
    return text


def _markdown_cell(text: str) -> str:
    if not text:
        return ''
    escaped = text.replace('|', '\\|').replace('\n', ' ')
    if '`' in escaped:
        return f'`` {escaped} ``'
    return f'`{escaped}`'
