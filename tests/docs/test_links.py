"""Relative links in the README and the docs' references from the code resolve.

The site's own links are checked by `mkdocs build --strict` (`make docs`);
these cover what MkDocs does not see: README.md, which GitHub and PyPI render,
and the `docs/….md#anchor` references in comments and docstrings.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).parents[2]
README = ROOT / 'README.md'
# [text](target) outside code; images too. Reference-style links are not used.
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
FENCE = re.compile(r'^```.*?^```', re.MULTILINE | re.DOTALL)
HEADING = re.compile(r'^#{1,6} (.+?)\s*$', re.MULTILINE)
EXPLICIT_ID = re.compile(r'\{#([\w-]+)\}')
DOC_REFERENCE = re.compile(r'docs/([\w./-]+\.md)(?:#([\w-]+))?')


def links(markdown: str) -> list[str]:
    return LINK.findall(FENCE.sub('', markdown))


def slug(heading: str) -> str:
    """The anchor MkDocs' toc extension gives a heading without an explicit id."""
    text = re.sub(r'[`*_]', '', heading).strip().lower()
    text = re.sub(r'[^\w\s-]', '', text)
    return re.sub(r'[\s-]+', '-', text).strip('-')


def anchors(path: pathlib.Path) -> set[str]:
    text = FENCE.sub('', path.read_text())
    found = set(EXPLICIT_ID.findall(text))
    for heading in HEADING.findall(text):
        if not EXPLICIT_ID.search(heading):
            found.add(slug(heading))
    return found


def broken(base: pathlib.Path, target: str) -> str | None:
    """Why `target`, relative to `base`, does not resolve; None when it does."""
    path, _, anchor = target.partition('#')
    file = (base / path).resolve() if path else None
    if file is not None and not file.exists():
        return f'{target}: no file {file}'
    in_markdown = file is not None and file.suffix == '.md'
    if anchor and in_markdown and anchor not in anchors(file):
        return f'{target}: no heading with the anchor #{anchor}'
    return None


def test_every_relative_link_in_the_readme_resolves():
    relative = [
        target
        for target in links(README.read_text())
        if not re.match(r'^[a-z][a-z0-9+.-]*:', target)  # http:, mailto:
    ]

    assert relative, 'the README links into docs/'
    assert [p for t in relative if (p := broken(ROOT, t))] == []


def test_the_readme_links_every_docs_page():
    linked = {
        (ROOT / t.partition('#')[0]).resolve()
        for t in links(README.read_text())
        if t.startswith('docs/')
    }
    pages = {
        p.resolve()
        for p in (ROOT / 'docs').glob('*.md')
        if p.name not in {'index.md', 'benchmarks.md'}
    }

    assert sorted(p.name for p in pages - linked) == []


def test_a_broken_link_is_reported(tmp_path):
    # The checks above can fail: a missing file and a missing anchor are caught.
    (tmp_path / 'page.md').write_text('# Title\n\n## Section {#the-section}\n')
    assert broken(tmp_path, 'missing.md') is not None
    assert broken(tmp_path, 'page.md#nope') is not None
    assert broken(tmp_path, 'page.md#the-section') is None
    assert broken(tmp_path, 'page.md#title') is None


def _sources() -> list[pathlib.Path]:
    return sorted(
        path
        for folder in ('imbi_toolkit', 'plugins', 'tests')
        for path in (ROOT / folder).rglob('*.py')
        if path != pathlib.Path(__file__)  # it names the old notes on purpose
    )


@pytest.mark.parametrize('path', _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_references_in_the_code_resolve(path):
    text = path.read_text()
    problems = [
        problem
        for page, anchor in DOC_REFERENCE.findall(text)
        if (problem := broken(ROOT / 'docs', f'{page}#{anchor}' if anchor else page))
    ]

    assert problems == []
    # The old notes this code cited are not part of the project.
    assert 'imbi-api-contract' not in text
    assert not re.search(r'contract\s+§', text)


def test_only_the_notebook_make_demo_runs_says_so():
    makefile = (ROOT / 'Makefile').read_text()
    recipe = re.search(r'^demo:.*\n((?:\t.*\n?)+)', makefile, re.MULTILINE)
    assert recipe, 'the Makefile has a demo target'
    run = set(re.findall(r'notebooks/([\w-]+\.ipynb)', recipe[1]))
    claims = set()
    for notebook in (ROOT / 'notebooks').glob('*.ipynb'):
        cells = json.loads(notebook.read_text())['cells']
        text = '\n'.join(
            ''.join(cell['source']) for cell in cells if cell['cell_type'] == 'markdown'
        )
        if re.search(r'`make demo` runs (this|the) notebook', text):
            claims.add(notebook.name)

    assert run == {'quickstart.ipynb'}
    assert claims <= run
