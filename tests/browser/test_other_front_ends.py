"""The rich tables in a page without JupyterLab's CSS variables, in Chromium.

Classic Notebook and VS Code do not define `--jp-*`: the tables must then
take the page's own colours, light or dark, and still read.
"""

from __future__ import annotations

import pathlib
import typing
from collections import abc

import pytest

from . import lab
from .test_rich_html import RENDERED

PAGE_JS = (pathlib.Path(__file__).parent / 'page.js').read_text()

# The page colours of a light front end (classic Notebook) and of VS Code's
# default dark theme.
HOSTS = {
    'light': 'background: #ffffff; color: #000000',
    'dark': 'background: #1e1e1e; color: #cccccc',
}


@pytest.fixture(scope='module')
def page() -> abc.Iterator[typing.Any]:
    lab.require_modules()
    chromium = lab.chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=['--disable-dev-shm-usage', '--disable-gpu']
        )
        try:
            yield browser.new_page(viewport={'width': 900, 'height': 700})
        finally:
            browser.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize('host', HOSTS)
def test_tables_take_the_pages_colours(page: typing.Any, host: str) -> None:
    outputs = ''.join(f'<div>{render()}</div>' for render in RENDERED.values())
    page.set_content(
        f'<html><body style="{HOSTS[host]}; font-family: sans-serif">'
        f'{outputs}</body></html>'
    )
    cells = page.evaluate(f'(selector) => ({PAGE_JS}).cells(selector)', 'table')
    assert len(cells) > 30
    assert page.evaluate('() => window.__xss') is None  # no sanitizer here either
    assert {cell['align'] for cell in cells} == {'left'}
    texts = [text for cell in cells for text in cell['texts']]
    worst = min(texts, key=lambda text: text['ratio'])
    assert worst['ratio'] >= 4.5, worst
    assert max(cell['tint'] for cell in cells) <= 2.0
    lab.ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=lab.ARTIFACTS / f'plain-{host}.png', full_page=True)
