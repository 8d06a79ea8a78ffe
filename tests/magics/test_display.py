"""What the magics display escapes what came from the server."""

from __future__ import annotations

import html
import re
import typing

import pytest
from IPython.core.interactiveshell import InteractiveShell

from imbi_toolkit.magics import _display as display
from imbi_toolkit.magics._preview import PatchPreview
from imbi_toolkit.patching import Patch

pytestmark = pytest.mark.attack('crashes')

HOSTILE = [
    'billing<img src=x onerror=alert(1)>',
    '<script>alert(1)</script>',
    '[click](javascript:alert(1))',
    '**bold** _it_ `code` | pipe',
    'a`<img src=x onerror=alert(1)>`b',
    '``` fence',
    '&lt;img&gt; &amp;',
    '# heading\n- item\n<b>x</b>',
]


def _outside_code(markdown: str) -> str:
    """The Markdown with code spans and fenced blocks (shown literally) removed."""
    without_blocks = re.sub(r'(?ms)^(`{3,})text\n.*?\n\1$', '', markdown)
    return re.sub(r'(?<!\\)(`+)(?!`).*?(?<!`)\1(?!`)', '', without_blocks)


def assert_inert_markdown(markdown: str) -> None:
    """No raw HTML, entity, link or emphasis can come out of this Markdown."""
    text = _outside_code(markdown)
    for char in '<>&[]()!`|_#':
        for match in re.finditer(re.escape(char), text):
            assert text[match.start() - 1] == '\\', (char, markdown)
    # Emphasis of our own (`**headline**`) is fine; the server's `*` is escaped.
    stripped = re.sub(r'(?<![\\*])\*\*(?!\*)', '', text)
    for match in re.finditer(r'\*', stripped):
        assert stripped[match.start() - 1] == '\\', markdown


def assert_inert_html(value: str, hostile: str) -> None:
    assert '<img' not in value and '<script' not in value
    assert '<b>' not in value
    assert html.escape(hostile.splitlines()[0]) in value or '\n' in hostile


@pytest.mark.parametrize('hostile', HOSTILE)
def test_message_shows_server_strings_literally(hostile: str) -> None:
    message = display.Message(
        f'Fetched {hostile} (id1) from engineering into `project`: edit it'
    )
    markdown = message._repr_markdown_()
    assert_inert_markdown(markdown)
    assert repr(message).startswith(f'Fetched {hostile}')
    if '`' not in hostile:  # our own code span survives
        assert '`project`' in markdown


def test_a_message_of_several_lines_is_a_code_block() -> None:
    message = display.Message('line <img src=x>\n```\nlast')
    assert message._repr_markdown_() == '````text\nline <img src=x>\n```\nlast\n````'


@pytest.mark.parametrize('hostile', HOSTILE)
def test_banner_shows_server_strings_literally(hostile: str) -> None:
    banner = display.Banner('http://127.0.0.1:9/', hostile, hostile)
    assert_inert_markdown(banner._repr_markdown_())
    assert '`http://127.0.0.1:9/`' in banner._repr_markdown_()


@pytest.mark.parametrize('hostile', HOSTILE)
def test_table_escapes_cells_in_markdown_and_html(hostile: str) -> None:
    table = display.Table(
        [{'name': hostile}], [('name', lambda row: row['name'])], title=hostile
    )
    lines = table._repr_markdown_().splitlines()
    assert lines[3] == '|---|'
    assert_inert_markdown(lines[0])  # the title
    assert lines[2] == '| name |'
    assert lines[4].startswith('| ') and lines[4].endswith(' |')
    assert_inert_markdown(lines[4][2:-2])  # the cell
    assert_inert_html(table._repr_html_(), hostile)


@pytest.mark.parametrize('hostile', HOSTILE)
def test_patch_preview_escapes_the_project_label(hostile: str) -> None:
    preview = PatchPreview(
        hostile, Patch([{'op': 'replace', 'path': '/name', 'value': 'x'}])
    )
    preview.notes.append(f'note about {hostile}')
    head = preview._repr_markdown_().split('\n\n')[:2]
    for part in head:
        assert_inert_markdown(part)
    assert_inert_html(preview._repr_html_().split('<table')[0], hostile)


def test_a_hostile_project_name_in_a_real_listing(
    ip: InteractiveShell, sandbox: typing.Any
) -> None:
    hostile = 'Billing <img src=x onerror=alert(1)>'
    ip.run_line_magic('imbi', 'fetch billing-api project')
    ip.user_ns['project']['name'] = hostile
    ip.run_line_magic('imbi', 'patch project --send')
    table = ip.run_line_magic('imbi', "projects --search 'billing'")
    assert [row['name'] for row in table] == [hostile]
    assert '<img' not in table._repr_html_()
    markdown = table._repr_markdown_()
    assert 'Billing \\<img src\\=x onerror\\=alert\\(1\\)\\>' in markdown
