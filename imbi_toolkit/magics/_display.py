"""What the magics show: small objects that render as text, Markdown and HTML.

Each has `_repr_html_` and `_repr_markdown_` for Jupyter front ends and a
plain `__repr__` for the terminal. None of them ever holds the token.
"""

from __future__ import annotations

import re
import typing
from collections import abc

# CommonMark lets a backslash escape any ASCII punctuation, which then shows
# as itself: no emphasis, link, raw HTML or entity can come out of the text.
_PUNCTUATION = re.compile(r'([!"#$%&\'()*+,\-./:;<=>?@\[\\\]^_`{|}~])')
_BACKTICKS = re.compile(r'`+')


def markdown_text(text: str) -> str:
    """``text`` escaped so that Markdown shows it as it is, on one line.

    Server strings (a project's name or slug) go through here before they
    reach a Markdown output: `<img src=x onerror=...>` stays text.
    """
    return _PUNCTUATION.sub(r'\\\1', ' '.join(text.splitlines()))


def code_span(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it holds."""
    text = ' '.join(text.splitlines())
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = '`' * (longest + 1)
    pad = ' ' if text.startswith('`') or text.endswith('`') else ''
    return f'{fence}{pad}{text}{pad}{fence}'


def _markdown_message(text: str) -> str:
    if '\n' in text:
        # Several lines (help, tables of text): a code block keeps them as
        # they are, and shows everything in it literally.
        longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
        fence = '`' * max(3, longest + 1)
        return f'{fence}text\n{text}\n{fence}'
    parts = text.split('`')
    if len(parts) % 2 == 0:  # an odd backtick: no code spans at all
        return markdown_text(text)
    # `name` marks code in the magics' messages; what is between two
    # backticks shows literally in a code span, the rest is escaped.
    return ''.join(
        code_span(part) if index % 2 else markdown_text(part)
        for index, part in enumerate(parts)
    )


def _cell(value: object) -> str:
    if value is None:
        return ''
    if isinstance(value, list | tuple):
        return ', '.join(str(item) for item in value)
    return str(value)


def _markdown_cell(value: object) -> str:
    return markdown_text(_cell(value))


class Message:
    """Information for the user (e.g. what a magic stored where).

    The text is plain text, which may hold server strings: Markdown shows
    it literally (what is between two backticks as code).
    """

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        return _markdown_message(self.text)


class Banner:
    """Who the magics are connected as: the base URL and the user, never the token.

    Attributes:
        base_url: The API's base URL, without credentials.
        user: The user's email, or the principal's description for a
            service account (which `/users/me` does not serve).
        display_name: The user's display name, when known.
    """

    def __init__(
        self,
        base_url: str,
        user: str,
        display_name: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.user = user
        self.display_name = display_name

    def _who(self) -> str:
        if self.display_name:
            return f'{self.user} ({self.display_name})'
        return self.user

    def __repr__(self) -> str:
        return f'Connected to {self.base_url} as {self._who()}'

    def _repr_markdown_(self) -> str:
        return (
            f'Connected to {code_span(self.base_url)} as '
            f'**{markdown_text(self._who())}**'
        )


class Table(list[dict[str, typing.Any]]):
    """A list of records (dicts) that displays as a table of chosen columns.

    It is a real `list`, so `-o VAR` gives the records themselves:
    `projects[0]['id']`.

    Args:
        rows: The records.
        columns: `(header, getter)` pairs; a getter takes a record.
        title: A caption (e.g. `3 projects in engineering`).
    """

    def __init__(
        self,
        rows: abc.Iterable[dict[str, typing.Any]],
        columns: abc.Sequence[
            tuple[str, abc.Callable[[dict[str, typing.Any]], object]]
        ],
        title: str = '',
    ) -> None:
        super().__init__(rows)
        self.columns = tuple(columns)
        self.title = title

    def _cells(self) -> list[list[object]]:
        return [[getter(row) for _, getter in self.columns] for row in self]

    def __repr__(self) -> str:
        headers = [header for header, _ in self.columns]
        rows = [[_cell(value) for value in row] for row in self._cells()]
        widths = [
            max([len(header)] + [len(row[i]) for row in rows])
            for i, header in enumerate(headers)
        ]
        lines = [self.title] if self.title else []
        lines.append(
            '  '.join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
        )
        lines.append('  '.join('-' * w for w in widths))
        lines.extend(
            '  '.join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in rows
        )
        return '\n'.join(lines)

    def _repr_markdown_(self) -> str:
        headers = [header for header, _ in self.columns]
        lines = [f'**{markdown_text(self.title)}**', ''] if self.title else []
        lines.append('| ' + ' | '.join(markdown_text(h) for h in headers) + ' |')
        lines.append('|' + '---|' * len(headers))
        lines.extend(
            '| ' + ' | '.join(_markdown_cell(value) for value in row) + ' |'
            for row in self._cells()
        )
        return '\n'.join(lines)

    def _repr_html_(self) -> str:
        from imbi_toolkit import _html

        body = ''.join(
            _html.tr(''.join(_html.td(_html.text(_cell(value))) for value in row))
            for row in self._cells()
        )
        return _html.table(
            'imbi-table',
            [header for header, _ in self.columns],
            body,
            caption=self.title,
        )
