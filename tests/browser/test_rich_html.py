"""The HTML of the rich outputs, parsed: escaped, left-aligned, theme-aware.

What the browser test checks on screen, checked here on the markup of every
table the toolkit renders, with hostile strings in every field.
"""

from __future__ import annotations

import html.parser
import re
import typing

import pytest

from imbi_toolkit import _html, bulk
from imbi_toolkit.magics._display import Table
from imbi_toolkit.magics._preview import PatchPreview
from imbi_toolkit.patching import Patch, Preview

HOSTILE = '<img src=x onerror="window.__xss=1">'
SCRIPT = '</td></tr></table><script>window.__xss=2</script>'


class Parsed(html.parser.HTMLParser):
    """The elements (tag, attributes) and the text of a piece of HTML."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.parts: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or '' for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @property
    def text(self) -> str:
        return ''.join(self.parts)

    def tags(self) -> set[str]:
        return {tag for tag, _ in self.elements}


def _preview() -> Preview:
    return Patch(
        [
            {'op': 'test', 'path': '/name', 'value': HOSTILE},
            {'op': 'replace', 'path': '/name', 'value': SCRIPT},
            {'op': 'add', 'path': f'/links/{HOSTILE}', 'value': 'https://x.example/'},
            {'op': 'remove', 'path': '/links/old'},
            {'op': 'move', 'from': '/a/0', 'path': '/a/-'},
        ]
    ).preview({'name': HOSTILE, 'links': {'old': 'y'}, 'a': [1, 2]})


def _results() -> bulk.Results:
    target = bulk.Target('engineering', 'p1', HOSTILE)
    return bulk.Results(
        [
            bulk.Result(target, status, SCRIPT, 409)
            for status in ('ok', 'skipped', 'conflict', 'refused', 'failed')
        ],
        description=HOSTILE,
    )


def _table() -> Table:
    rows = [{'name': HOSTILE, 'tags': [SCRIPT, 'b']}]
    return Table(
        rows,
        [(HOSTILE, lambda row: row['name']), ('tags', lambda row: row['tags'])],
        title=SCRIPT,
    )


def _patch_preview() -> PatchPreview:
    patch = Patch([{'op': 'replace', 'path': '/name', 'value': HOSTILE}])
    return PatchPreview(HOSTILE, patch, sent=True)


RENDERED: dict[str, typing.Callable[[], str]] = {
    'Preview': lambda: _preview()._repr_html_(),
    'PatchPreview': lambda: _patch_preview()._repr_html_(),
    'Results': lambda: _results()._repr_html_(),
    'Table': lambda: _table()._repr_html_(),
}


@pytest.mark.parametrize('name', RENDERED)
def test_server_strings_are_text(name: str) -> None:
    parsed = Parsed(RENDERED[name]())
    assert parsed.tags() <= {
        'table', 'caption', 'thead', 'tbody', 'tr', 'th', 'td',
        'code', 'strong', 'span', 'p', 'wbr',
    }  # fmt: skip
    assert not any(
        attribute.startswith('on')
        for _, attrs in parsed.elements
        for attribute in attrs
    )
    assert 'img' in parsed.text and ('window.__xss=1' in parsed.text)


@pytest.mark.parametrize('name', ['Results', 'Table'])
def test_hostile_text_reads_literally(name: str) -> None:
    text = Parsed(RENDERED[name]()).text
    assert HOSTILE in text
    assert SCRIPT in text


@pytest.mark.parametrize('name', RENDERED)
def test_every_cell_says_left_and_no_colour_is_opaque(name: str) -> None:
    parsed = Parsed(RENDERED[name]())
    cells = [attrs for tag, attrs in parsed.elements if tag in ('th', 'td')]
    assert cells
    for attrs in cells:
        assert 'text-align: left' in attrs['style']
    styles = ' '.join(attrs.get('style', '') for _, attrs in parsed.elements)
    # Hex colours are opaque: a light one stays light under a dark theme.
    assert not re.search(r'#[0-9a-fA-F]{3,8}\b', styles)
    assert 'var(--jp-content-font-color1, inherit)' in styles


def test_a_row_per_operation_tinted_by_its_kind() -> None:
    parsed = Parsed(_preview()._repr_html_())
    rows = [attrs for tag, attrs in parsed.elements if tag == 'tr' and 'class' in attrs]
    assert [row['class'] for row in rows] == [
        'imbi-patch-test',
        'imbi-patch-replace',
        'imbi-patch-add',
        'imbi-patch-remove',
        'imbi-patch-move',
    ]
    for row in rows:
        assert re.search(
            r'background-color: rgba\(\d+, \d+, \d+, 0\.\d+\)', row['style']
        )


@pytest.mark.parametrize(
    ('value', 'pieces'),
    [
        # After the slashes that end a segment, before query and fragment.
        (
            'https://runbooks.example.com/a/b?x=1&y=2#top',
            ['https://runbooks.example.com/', 'a/', 'b', '?x=1', '&amp;y=2', '#top'],
        ),
        # A pointer keeps its leading slash with the first key.
        ('/links/runbook', ['/links/', 'runbook']),
        # Ordinary words are never split.
        (
            'Invoices, refunds and payment webhooks',
            ['Invoices, refunds and payment webhooks'],
        ),
        # Markup is escaped, and `</` is not a place to break.
        ('</b>', ['&lt;/b&gt;']),
        # A run without any break opportunity breaks every 20 characters.
        ('sha ' + 'a' * 45, ['sha ', 'a' * 20, 'a' * 20, 'a' * 5]),
        ('a' * 40, ['a' * 40]),
    ],
)
def test_text_breaks_only_at_sensible_points(value: str, pieces: list[str]) -> None:
    assert _html.text(value).split('<wbr>') == pieces
