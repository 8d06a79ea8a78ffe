"""What `%imbi diff` and `%imbi patch` show: a headline over the patch's preview.

The patch itself and its table come from `imbi_toolkit.patching` (`diff`,
`Patch`, `Preview`); this adds what the magics know: which project, whether
the patch was sent, and how to send it.
"""

from __future__ import annotations

import html
import typing

from imbi_toolkit.magics import _display as display

if typing.TYPE_CHECKING:
    from imbi_toolkit.patching import Patch


class PatchPreview:
    """A patch for one project, previewed or sent.

    Attributes:
        label: The project (its slug, or id).
        patch: The `imbi_toolkit.patching.Patch`, `test` ops included.
        sent: Whether it was sent.
        notes: Lines shown under the headline (how the cell was read).
    """

    def __init__(self, label: str, patch: Patch, *, sent: bool = False) -> None:
        self.label = label
        self.patch = patch
        self.sent = sent
        self.notes: list[str] = []

    @property
    def operations(self) -> list[dict[str, typing.Any]]:
        """The JSON Patch operations, as sent (or as they would be)."""
        return list(self.patch)

    def __len__(self) -> int:
        """The number of changes (`test` operations left out)."""
        return sum(1 for op in self.patch if op.get('op') != 'test')

    def headline(self) -> str:
        """One line: the project, the number of changes, sent or not."""
        count = len(self)
        if count == 0:
            return f'{self.label}: no changes'
        noun = 'change' if count == 1 else 'changes'
        tests = len(self.patch) - count
        guards = f' (+{tests} test op{"s" if tests != 1 else ""})' if tests else ''
        state = 'sent' if self.sent else 'not sent; add --send to send'
        return f'{self.label}: {count} {noun}{guards}, {state}'

    def __repr__(self) -> str:
        head = '\n'.join([self.headline(), *self.notes])
        if len(self) == 0:
            return head
        return f'{head}\n{self.patch.preview()}'

    def _repr_markdown_(self) -> str:
        # The label is the project's slug, from the server: escaped.
        head = '\n\n'.join(
            [
                f'**{display.markdown_text(self.headline())}**',
                *(display.markdown_text(note) for note in self.notes),
            ]
        )
        if len(self) == 0:
            return head
        return f'{head}\n\n{self.patch.preview()._repr_markdown_()}'

    def _repr_html_(self) -> str:
        head = f'<p><strong>{html.escape(self.headline())}</strong></p>' + ''.join(
            f'<p>{html.escape(note)}</p>' for note in self.notes
        )
        if len(self) == 0:
            return head
        return head + self.patch.preview()._repr_html_()
