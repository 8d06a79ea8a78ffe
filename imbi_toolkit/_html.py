"""HTML for the rich outputs: tables that read in light and dark themes alike.

Notebook front ends style bare tables their own way: JupyterLab right-aligns
every cell, stripes rows with theme colours and puts inline code on a chip of
its own colour. So every element here carries its own inline style (inline
because front ends drop or scope `<style>` elements differently, while a
`style` attribute survives them all). Colours come from JupyterLab's CSS
variables, with fallbacks for front ends that do not define them (classic
Notebook, VS Code); tints are translucent so that they read over a light and
a dark background.

Every text goes through `text` (or `html.escape`): what the server sends is
shown as text, never as markup.
"""

from __future__ import annotations

import html
import re

#: The theme's text colour; elsewhere the surrounding one.
TEXT_COLOUR = 'var(--jp-content-font-color1, inherit)'
_BORDER = 'var(--jp-border-color2, rgba(128, 128, 128, 0.35))'

TABLE_STYLE = (
    'border-collapse: collapse; table-layout: auto; margin: 0.25em 0 0.75em 0; '
    f'color: {TEXT_COLOUR}; max-width: 100%'
)
# Explicit `text-align: left`: JupyterLab right-aligns the cells of output
# tables, which makes paths and values hard to scan.
TH_STYLE = (
    'text-align: left; vertical-align: bottom; padding: 0.3em 0.75em; '
    'font-weight: 600; white-space: nowrap'
)
# `break-word` (unlike `anywhere`) leaves a column's narrowest width at its
# longest word, so a squeezed table never splits short words like paths;
# `text` bounds that longest word with break opportunities.
TD_STYLE = (
    'text-align: left; vertical-align: top; padding: 0.3em 0.75em; '
    'overflow-wrap: break-word'
)
# A line under each row (on the row: once per row, not per cell).
ROW_STYLE = f'border-bottom: 1px solid {_BORDER}'
# JupyterLab puts inline code on a chip of its own background colour, which
# does not follow the row's tint; the row's colours are kept instead.
CODE_STYLE = (
    # `monospace, monospace`: a lone `monospace` shrinks the text in browsers.
    'font-family: var(--jp-code-font-family, monospace, monospace); '
    'font-size: 0.95em; '
    'background: transparent; color: inherit; padding: 0; white-space: pre-wrap'
)
CAPTION_STYLE = (
    f'caption-side: top; text-align: left; padding: 0.2em 0; color: {TEXT_COLOUR}'
)

# Where a long value may break without splitting a word: after a slash that
# ends a segment (not a pointer's leading one, nor within `//`), and before
# the query, fragment and parameter separators of a URL.
_BREAKS = re.compile(r'(?<=[\w.~%-]/)(?=[^/])|(?=[?&#])')
# A run this long with no break opportunity (a hash, a token-like id) may
# break every `_CHUNK` characters, rather than widen the table past the page.
_UNBROKEN = re.compile(r'[^\s/?&#-]{41,}')
_CHUNK = 20


def text(value: str) -> str:
    """Escape `value` for HTML, with break opportunities at sensible points.

    Paths and URLs may break after their slashes and before `?`, `&` and
    `#`; ordinary words are never split, but a run of more than 40
    characters without any break opportunity may break every 20.

    Args:
        value: Any text, e.g. from the server.

    Returns:
        HTML that shows `value` literally, with `<wbr>` break opportunities.
    """
    parts = []
    for part in _BREAKS.split(value):
        position = 0
        for run in _UNBROKEN.finditer(part):
            parts.append(part[position : run.start()])
            chunks = run.group()
            parts.extend(chunks[i : i + _CHUNK] for i in range(0, len(chunks), _CHUNK))
            position = run.end()
        parts.append(part[position:])
    return '<wbr>'.join(html.escape(part) for part in parts if part)


def th(label: str) -> str:
    """A left-aligned header cell."""
    return f'<th style="{TH_STYLE}">{html.escape(label)}</th>'


def tr(cells_html: str, style: str = '', attributes: str = '') -> str:
    """A row with a line under it; `attributes` (e.g. a class) are already escaped."""
    extra = f' {attributes}' if attributes else ''
    return f'<tr{extra} style="{_style(ROW_STYLE, style)}">{cells_html}</tr>'


def td(content_html: str, style: str = '') -> str:
    """A left-aligned cell around HTML that is already escaped."""
    return f'<td style="{_style(TD_STYLE, style)}">{content_html}</td>'


def badge(label: str, colour: str) -> str:
    """`label` on a translucent rounded background, in the text's own colour."""
    return (
        f'<span style="background-color: {colour}; border-radius: 3px; '
        f'padding: 0 0.4em; font-weight: 600">{html.escape(label)}</span>'
    )


def code(value: str) -> str:
    """`value` as inline code in the row's colours, escaped."""
    return f'<code style="{CODE_STYLE}">{text(value)}</code>'


def table(
    css_class: str,
    headers: tuple[str, ...] | list[str],
    rows_html: str,
    caption: str = '',
) -> str:
    """A table with left-aligned header cells around rows already rendered."""
    head = tr(''.join(th(label) for label in headers))
    caption_html = (
        f'<caption style="{CAPTION_STYLE}">{html.escape(caption)}</caption>'
        if caption
        else ''
    )
    return (
        f'<table class="{css_class}" style="{TABLE_STYLE}">{caption_html}'
        f'<thead>{head}</thead><tbody>{rows_html}</tbody></table>'
    )


def _style(base: str, extra: str) -> str:
    return f'{base}; {extra}' if extra else base
