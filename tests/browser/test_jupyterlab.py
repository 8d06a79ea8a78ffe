"""The quickstart notebook in a real JupyterLab, in headless Chromium.

What a person checks by eye, asserted: the diff is a table with one row per
operation; every table's text is readable (WCAG contrast >= 4.5) in the
light and in the dark theme; cells are left-aligned; long values wrap at
sensible points; a bulk run shows a progress-bar widget; hostile strings
from the server show as text; no browser dialog opens. Screenshots of both
themes are left in tests/browser/artifacts/ (printed in the summary).

The notebook served is a copy of notebooks/quickstart.ipynb with a few cells
appended (a diff with long values, a bulk run); its own cells run unchanged,
first, against a sandbox whose `search-api` project has a hostile name.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import re
import time
import typing

import httpx
import nbformat
import pytest

from . import lab

pytestmark = pytest.mark.timeout(420)

HERE = pathlib.Path(__file__).parent
ARTIFACTS = lab.ARTIFACTS
QUICKSTART = HERE.parents[1] / 'notebooks' / 'quickstart.ipynb'
PAGE_JS = (HERE / 'page.js').read_text()

HOSTILE = '<img src=x onerror="window.__xss=1">'
LONG_URL = (
    'https://runbooks.example.com/services/search-api/'
    + ''.join(f'chapter-{n}-on-operating-the-index/' for n in range(1, 7))
    + '?from=notebook&theme=dark#recovering-from-a-failed-reindex'
)
LONG_TEXT = (
    'Full-text search over accounts and campaigns. It answers every query '
    'from the customer dashboards, ranks results by recent activity, and keeps '
    'a separate index per region so that data stays where the customer is; '
    'reindexing runs nightly and takes about forty minutes.'
)
# The description before (on the server) and after (in the notebook).
OLD_TEXT = (
    'Full-text search over accounts and campaigns, answering the queries of '
    'the customer dashboards and ranking the results by recent activity.'
)
# Every table in the outputs; the toolkit's carry these classes.
TABLES = '.jp-OutputArea-output table'
KINDS = {'imbi-patch-preview', 'imbi-bulk-results', 'imbi-table'}
THEMES = {'light': 'JupyterLab Light', 'dark': 'JupyterLab Dark'}
MIN_CONTRAST = 4.5
# Most a tint or a chip may stand out of what is around it (a contrast ratio):
# enough to see, never a light patch on a dark page or the other way round.
MAX_TINT = 2.0

# Cells appended to the quickstart copy: a diff with a long URL and a long
# sentence (and the hostile name as an old value), then a bulk run whose
# targets are labelled with the projects' names, plus one that does not exist.
EXTRA_CELLS = [
    '%imbi fetch search-api search\n'
    "search['name'] = 'Search API'\n"
    f'search["description"] = {LONG_TEXT!r}\n'
    f"search['links']['docs'] = {LONG_URL!r}\n"
    '%imbi diff search',
    'from imbi_toolkit import bulk\n'
    'from imbi_toolkit.api import Imbi, Settings\n'
    '\n'
    "ops = [{'op': 'add', 'path': '/links/status', "
    "'value': 'https://status.example.com/'}]\n"
    "targets = [bulk.Target('engineering', p['id'], p['name']) for p in api_projects]\n"
    "targets.append(bulk.Target('engineering', 'no-such-project', 'retired-api'))\n"
    'async with Imbi.from_settings(Settings()) as client:\n'
    '    results = await bulk.run(client, bulk.ApplyPatch(ops), targets)\n'
    'results',
]


@dataclasses.dataclass
class Rendered:
    """What the browser showed, measured once for every test of this module."""

    run: dict[str, typing.Any]
    previews: list[dict[str, typing.Any]]
    cells: dict[str, list[dict[str, typing.Any]]]  # per theme
    overflow: dict[str, float]  # per table class: px past the output area
    url_wrap: dict[str, typing.Any]
    text_wrap: dict[str, typing.Any]
    progress_widgets: list[str]  # each bar's width
    text_progress: list[str]
    hostile_visible: int
    hostile_images: int
    xss: object
    dialogs: list[str]
    lab_dialogs: int
    screenshots: list[pathlib.Path]
    timings: dict[str, float]


def _notebook(root: pathlib.Path) -> pathlib.Path:
    notebook = nbformat.read(QUICKSTART, as_version=4)
    for source in EXTRA_CELLS:
        notebook.cells.append(nbformat.v4.new_code_cell(source))
    path = root / 'quickstart.ipynb'
    nbformat.write(notebook, path)
    return path


def _patch_project(sandbox: typing.Any, slug: str, ops: list[dict[str, str]]) -> None:
    """Change a project through the sandbox's API, as another user would."""
    headers = {'authorization': f'Bearer {sandbox.token}'}
    projects = httpx.get(
        f'{sandbox.base_url}/organizations/engineering/projects/',
        params={'slim': 'true'},
        headers=headers,
    ).json()
    (project,) = [p for p in projects if p['slug'] == slug]
    response = httpx.patch(
        f'{sandbox.base_url}/organizations/engineering/projects/{project["id"]}',
        json=ops,
        headers={**headers, 'content-type': 'application/json-patch+json'},
    )
    response.raise_for_status()


def _js(call: str) -> str:
    return f'(argument) => ({PAGE_JS}).{call}'


@pytest.fixture(scope='module')
def rendered(
    imbi_sandbox_factory: typing.Any, tmp_path_factory: pytest.TempPathFactory
) -> Rendered:
    lab.require_modules()
    chromium = lab.chromium_path()
    from playwright.sync_api import sync_playwright

    timings: dict[str, float] = {}
    started = time.perf_counter()

    def lap(name: str) -> None:
        timings[name] = round(time.perf_counter() - started, 1)

    sandbox = imbi_sandbox_factory()
    _patch_project(
        sandbox,
        'search-api',
        [
            {'op': 'replace', 'path': '/name', 'value': HOSTILE},
            {'op': 'replace', 'path': '/description', 'value': OLD_TEXT},
        ],
    )
    root = tmp_path_factory.mktemp('lab-root')
    _notebook(root)
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob('*.png'):
        old.unlink()
    env = {**os.environ, **sandbox.env()}
    screenshots: list[pathlib.Path] = []
    dialogs: list[str] = []

    with (
        lab.lab_server(root, tmp_path_factory.mktemp('lab-state'), env) as server,
        sync_playwright() as playwright,
    ):
        lap('jupyterlab up')
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=['--disable-dev-shm-usage', '--disable-gpu'],
        )
        page = browser.new_page(viewport={'width': 1280, 'height': 900})
        try:
            page.set_default_timeout(60_000)
            page.on(
                'dialog',
                lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()),
            )
            page.goto(f'{server.url}/lab/tree/quickstart.ipynb?token={server.token}')
            page.wait_for_function(
                f'() => {{ const s = ({PAGE_JS}).run(); '
                'return s.ready && s.kernel === "idle"; }'
            )
            lap('notebook open, kernel idle')

            # Run > Run All Cells, as a person would.
            page.locator('.lm-MenuBar-item', has_text=re.compile(r'^Run$')).click()
            page.locator(
                '.lm-Menu-item',
                has=page.locator(
                    '.lm-Menu-itemLabel', has_text=re.compile('^Run All Cells$')
                ),
            ).click()
            page.wait_for_function(
                f'() => {{ const s = ({PAGE_JS}).run(); '
                'return s.ready && s.kernel === "idle" && s.running === 0 '
                '&& (s.executed === s.cells || s.errors.length > 0); }',
                timeout=180_000,
            )
            lap('all cells run')
            run = page.evaluate(_js('run()'))
            previews = page.evaluate(_js('previews()'))

            cells: dict[str, list[dict[str, typing.Any]]] = {}
            for theme, name in THEMES.items():
                page.evaluate(
                    '(theme) => window.jupyterapp.commands.execute('
                    "'apputils:change-theme', {theme})",
                    name,
                )
                # Until the theme's stylesheet paints the notebook.
                page.wait_for_function(
                    _js('themed(argument)'), arg={'name': name, 'dark': theme == 'dark'}
                )
                page.mouse.move(0, 0)  # no row under the pointer (hover colours)
                cells[theme] = page.evaluate(_js('cells(argument)'), TABLES)
                screenshots.extend(_screenshots(page, theme))
            lap('measured and screenshot in both themes')

            overflow = {
                cls: max(
                    page.locator(f'table.{cls}').evaluate_all(
                        f'(tables) => tables.map((t) => ({PAGE_JS}).overflow(t))'
                    )
                    or [0.0]
                )
                for cls in KINDS
            }
            long_diff = page.locator('table.imbi-patch-preview').last
            new_values = long_diff.locator('tbody > tr > td:nth-child(4)')
            url_wrap = new_values.filter(has_text='chapter-1').evaluate(
                _js('lineBreaks(argument)')
            )
            text_wrap = new_values.filter(has_text='It answers every').evaluate(
                _js('lineBreaks(argument)')
            )
            bulk_cell = page.locator('.jp-CodeCell', has_text='bulk.run(')
            # ipywidgets' FloatProgress, which tqdm.auto shows in Jupyter.
            progress_widgets = bulk_cell.locator(
                '.jupyter-widgets.widget-hprogress .progress-bar'
            ).evaluate_all('(bars) => bars.map((bar) => bar.style.width)')
            text_progress = bulk_cell.locator(
                '[data-mime-type="application/vnd.jupyter.stderr"]'
            ).all_inner_texts()
            hostile = page.get_by_text(HOSTILE, exact=True)
            hostile_visible = sum(
                1 for i in range(hostile.count()) if hostile.nth(i).is_visible()
            )
            result = Rendered(
                run=run,
                previews=previews,
                cells=cells,
                overflow=overflow,
                url_wrap=url_wrap,
                text_wrap=text_wrap,
                progress_widgets=progress_widgets,
                text_progress=text_progress,
                hostile_visible=hostile_visible,
                hostile_images=page.locator('.jp-OutputArea img[src="x"]').count(),
                xss=page.evaluate('() => window.__xss'),
                dialogs=dialogs,
                lab_dialogs=page.locator('.jp-Dialog').count(),
                screenshots=screenshots,
                timings=timings,
            )
        except Exception:
            # What the page showed when it went wrong, for the one debugging it.
            page.screenshot(path=ARTIFACTS / 'failure.png')
            raise
        finally:
            browser.close()
    lap('total')
    (ARTIFACTS / 'measurements.json').write_text(
        json.dumps(
            {
                'timings': timings,
                'min_contrast': _min_contrast(result.cells),
                'overflow': result.overflow,
                'url_wrap': result.url_wrap,
                'text_wrap': result.text_wrap,
            },
            indent=2,
        )
    )
    return result


def _screenshots(page: typing.Any, theme: str) -> list[pathlib.Path]:
    """The cells a person looks at, each with its output, and the page."""
    shots = []
    for name, source in (
        ('projects', '%imbi projects --search api'),
        ('diff', '%imbi diff project'),
        ('diff-long', '%imbi diff search'),
        ('bulk', 'bulk.run('),
    ):
        path = ARTIFACTS / f'{theme}-{name}.png'
        page.locator('.jp-CodeCell', has_text=source).first.screenshot(path=path)
        shots.append(path)
    page.locator(
        '.jp-CodeCell', has_text='%imbi diff project'
    ).first.scroll_into_view_if_needed()
    path = ARTIFACTS / f'{theme}-page.png'
    page.screenshot(path=path)
    shots.append(path)
    return shots


def _min_contrast(cells: dict[str, list[dict[str, typing.Any]]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for theme, found in cells.items():
        for cls in [*sorted(KINDS), '']:
            texts = [t for c in found if c['table'] == cls for t in c['texts']]
            if texts:
                worst = min(texts, key=lambda t: t['ratio'])
                out[f'{theme} {cls}'] = {
                    'max tint': round(
                        max(c['tint'] for c in found if c['table'] == cls), 2
                    ),
                    'max chip': round(max(t['chip'] for t in texts), 2),
                    'ratio': round(worst['ratio'], 2),
                    'text': worst['text'][:40],
                    'colour': worst['colour'],
                    'background': worst['background'],
                }
    return out


def test_every_cell_runs_without_error(rendered: Rendered) -> None:
    run = rendered.run
    assert run['errors'] == []
    assert run['executed'] == run['cells'] > len(EXTRA_CELLS)


def test_the_diff_is_a_table_with_one_row_per_operation(rendered: Rendered) -> None:
    # The quickstart's diffs and patches, then the appended diff.
    assert len(rendered.previews) >= 4
    for preview in rendered.previews:
        match = re.search(
            r': (\d+) changes?(?: \(\+(\d+) test ops?\))?', preview['headline']
        )
        assert match, preview['headline']
        expected = int(match[1]) + int(match[2] or 0)
        assert len(preview['ops']) == expected, preview
        assert set(preview['ops']) <= {
            'add',
            'remove',
            'replace',
            'move',
            'copy',
            'test',
        }
    first = rendered.previews[0]
    assert first['headline'].startswith('billing-api: 2 changes')
    assert {'/description', '/links/runbook'} <= set(first['paths'])
    last = rendered.previews[-1]
    assert {'/name', '/description', '/links/docs'} <= set(last['paths'])


@pytest.mark.parametrize('theme', THEMES)
def test_every_table_reads_with_enough_contrast(rendered: Rendered, theme: str) -> None:
    found = rendered.cells[theme]
    texts = [(cell['table'], text) for cell in found for text in cell['texts']]
    assert len(texts) > 50
    poor = [
        f'{table}: {text["text"][:30]!r} {text["colour"]} on {text["background"]} '
        f'= {text["ratio"]:.2f}'
        for table, text in texts
        if text['ratio'] < MIN_CONTRAST
    ]
    assert poor == []


@pytest.mark.parametrize('theme', THEMES)
def test_tints_follow_the_theme(rendered: Rendered, theme: str) -> None:
    # A tint stays close to the theme's background, and text sits on its
    # cell's colour: no light rows in the dark theme, no dark chips on them.
    found = rendered.cells[theme]
    loud = [
        f'{cell["table"]}: {cell["text"][:30]!r} on {cell["background"]} = '
        f'{cell["tint"]:.2f}'
        for cell in found
        if cell['tint'] > MAX_TINT
    ]
    assert loud == []
    chips = [
        f'{cell["table"]}: {text["text"][:30]!r} on {text["background"]} in a '
        f'{cell["background"]} cell = {text["chip"]:.2f}'
        for cell in found
        for text in cell['texts']
        if text['chip'] > MAX_TINT
    ]
    assert chips == []


def test_every_kind_of_table_is_shown(rendered: Rendered) -> None:
    for theme in THEMES:
        assert {cell['table'] for cell in rendered.cells[theme]} == KINDS


@pytest.mark.parametrize('theme', THEMES)
def test_every_cell_is_left_aligned(rendered: Rendered, theme: str) -> None:
    aligned = {(cell['tag'], cell['align']) for cell in rendered.cells[theme]}
    assert aligned == {('th', 'left'), ('td', 'left')}


def test_tables_fit_their_output_area(rendered: Rendered) -> None:
    assert all(px <= 1 for px in rendered.overflow.values()), rendered.overflow


def test_a_long_url_wraps_after_slashes_and_separators(rendered: Rendered) -> None:
    wrap = rendered.url_wrap
    assert wrap['lines'] > 1, wrap  # it is long enough to wrap at all
    assert wrap['breaks'], wrap
    for before, after in wrap['breaks']:
        # After a slash or a slug's hyphen, or before a query or fragment.
        assert before in '/-' or after in '?&#', wrap


def test_ordinary_text_wraps_between_words(rendered: Rendered) -> None:
    wrap = rendered.text_wrap
    assert wrap['lines'] > 1, wrap
    for before, after in wrap['breaks']:
        assert before.isspace() or after.isspace() or before == '-', wrap


def test_a_bulk_run_shows_a_progress_bar_widget(rendered: Rendered) -> None:
    # One bar, and it reached the end (5 of 5 projects).
    assert rendered.progress_widgets == ['100%']
    # Not tqdm's text bar on stderr.
    assert not any('%|' in text for text in rendered.text_progress)


def test_server_strings_show_as_text(rendered: Rendered) -> None:
    assert rendered.xss is None  # the onerror handler never ran
    assert rendered.hostile_images == 0
    # The literal name, in the projects table and as a bulk result's label.
    assert rendered.hostile_visible >= 2


def test_no_dialog_opens(rendered: Rendered) -> None:
    assert rendered.dialogs == []
    assert rendered.lab_dialogs == 0


def test_screenshots_are_saved(rendered: Rendered) -> None:
    names = {path.name for path in rendered.screenshots}
    for theme in THEMES:
        assert {f'{theme}-diff.png', f'{theme}-bulk.png', f'{theme}-page.png'} <= names
    for path in rendered.screenshots:
        assert path.stat().st_size > 5_000, path
