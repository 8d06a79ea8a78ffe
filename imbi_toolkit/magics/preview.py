"""The patch between a snapshot and an edited document, and how it displays."""

from __future__ import annotations

import html
import json
import typing

Operation = dict[str, typing.Any]


def _escape(part: str) -> str:
    return part.replace('~', '~0').replace('/', '~1')


def _get(document: object, pointer: str) -> typing.Any:
    import jsonpointer

    return jsonpointer.resolve_pointer(document, pointer)


def operations(
    before: dict[str, typing.Any], after: dict[str, typing.Any], *, test_ops: bool
) -> list[Operation]:
    """Return the JSON Patch that turns `before` into `after`.

    With `test_ops`, every operation that replaces or removes a value is
    preceded by a `test` of the value it expects, so the server refuses the
    patch (422) when the project changed since the snapshot.
    """
    import jsonpatch

    ops: list[Operation] = list(jsonpatch.make_patch(before, after))
    if not test_ops:
        return ops
    tested: list[Operation] = []
    for op in ops:
        if op['op'] in ('replace', 'remove', 'move'):
            path = op['from'] if op['op'] == 'move' else op['path']
            tested.append({'op': 'test', 'path': path, 'value': _get(before, path)})
        tested.append(op)
    return tested


class PatchPreview:
    """A JSON Patch and what it changes, for display before it is sent.

    Attributes:
        label: What is patched (e.g. the project slug).
        operations: The JSON Patch operations.
        sent: Whether the patch was sent.
    """

    def __init__(
        self,
        label: str,
        before: dict[str, typing.Any],
        ops: list[Operation],
        *,
        sent: bool = False,
    ) -> None:
        self.label = label
        self.operations = ops
        self.sent = sent
        self._before = before

    def __len__(self) -> int:
        return sum(1 for op in self.operations if op['op'] != 'test')

    def _rows(self) -> list[tuple[str, str, str, str]]:
        rows = []
        for op in self.operations:
            if op['op'] == 'test':
                continue
            path = op.get('path', '')
            old = ''
            if op['op'] in ('replace', 'remove'):
                old = json.dumps(_get(self._before, path))
            new = json.dumps(op['value']) if 'value' in op else op.get('from', '')
            rows.append((op['op'], path, old, new))
        return rows

    def _headline(self) -> str:
        count = len(self)
        if count == 0:
            return f'{self.label}: no changes'
        noun = 'change' if count == 1 else 'changes'
        tests = len(self.operations) - count
        suffix = f' (+{tests} test ops)' if tests else ''
        state = 'sent' if self.sent else 'not sent; add --send to send'
        return f'{self.label}: {count} {noun}{suffix}, {state}'

    def __repr__(self) -> str:
        lines = [self._headline()]
        lines.extend(
            f'  {op:<8}{path}  {old} -> {new}' for op, path, old, new in self._rows()
        )
        return '\n'.join(lines)

    def _repr_markdown_(self) -> str:
        lines = [f'**{self._headline()}**']
        if self._rows():
            lines += ['', '| op | path | before | after |', '|---|---|---|---|']
            lines.extend(
                f'| {op} | `{path}` | {old} | {new} |'
                for op, path, old, new in self._rows()
            )
        return '\n'.join(lines)

    def _repr_html_(self) -> str:
        rows = ''.join(
            '<tr>' + ''.join(f'<td>{html.escape(c)}</td>' for c in row) + '</tr>'
            for row in self._rows()
        )
        return (
            f'<p><b>{html.escape(self._headline())}</b></p>'
            '<table><thead><tr><th>op</th><th>path</th><th>before</th>'
            f'<th>after</th></tr></thead><tbody>{rows}</tbody></table>'
        )
