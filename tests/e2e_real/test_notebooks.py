"""Every notebook of notebooks/ in a real kernel against the real server.

The notebooks are written for the sandbox's `engineering` organisation; here
the organisation's slug is replaced by the fresh one and nothing else. They
run in this order on the same organisation (as a user would run them one
after another), so each expectation below follows from the ones before.
"""

from __future__ import annotations

import os
import pathlib
import typing

import nbformat
import pytest

from imbi_toolkit.magics import _notebooks as notebooks

from .conftest import RealOrg

NOTEBOOKS = pathlib.Path(__file__).parents[2] / 'notebooks'
ORDER = ('quickstart.ipynb', 'plan-and-undo.ipynb', 'bulk-edit.ipynb', 'plugins.ipynb')

# What each notebook must visibly have done on the real server.
EXPECTED = {
    'quickstart.ipynb': [
        'billing-api: 2 changes (+2 test ops), sent',
        'billing-api: no changes',
        # Quoted on the line, stored without the quotes.
        "'Billing API 2.0')",
        "'success'",
        # The real server has no identity connections (they are made by an
        # OAuth flow with GitHub): the lookup reaches it and finds nobody.
        "No Imbi user matches github subject '583231'",
    ],
    'plan-and-undo.ipynb': [
        'add runbook links',
        '"expects"',
        "'ok': 2",  # ledger-service and search-api; billing-api already had it
        "'skipped': 2",
        'runbook: None',
        'undoing #1',
    ],
    'bulk-edit.ipynb': ["'https://runbooks.example.com/'"],
    'plugins.ipynb': [
        "'Release 3.1.0 (titled by a plugin)'",
        "[('staging', 'success'), ('production', 'success')]",
        "plugin 'notebook-no-renames' refused the request",
    ],
}


def test_every_notebook_is_run() -> None:
    assert {path.name for path in NOTEBOOKS.glob('*.ipynb')} == set(ORDER)


def for_org(notebook: nbformat.NotebookNode, org: str) -> int:
    """Point the notebook at `org` instead of `engineering`; count the edits."""
    edits = 0
    for cell in notebook.cells:
        if cell.cell_type != 'code':
            continue
        source = cell.source.replace("'engineering'", repr(org)).replace(
            '/organizations/engineering/', f'/organizations/{org}/'
        )
        edits += source != cell.source
        cell.source = source
    return edits


@pytest.mark.parametrize('name', ORDER)
def test_notebook_against_the_real_server(
    name: str, real_env: RealOrg, fake_github: typing.Any, tmp_path: pathlib.Path
) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert for_org(notebook, real_env.org) >= 1
    env = dict(os.environ)  # real_env put the real server's settings there
    try:
        notebooks.execute(notebook, env=env, cwd=tmp_path, timeout=180)
    finally:
        out = os.environ.get('IMBI_E2E_OUT')
        if out:
            pathlib.Path(out).mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, os.path.join(out, name))
    # What a user reads: the HTML tables' line-break hints are invisible.
    text = notebooks.outputs_text(notebook).replace('<wbr>', '')
    assert real_env.token not in text
    assert real_env.readonly_token not in text
    assert 'Traceback' not in text
    for expected in EXPECTED[name]:
        assert expected in text, expected
    if name == 'quickstart.ipynb':
        project = real_env.project('billing-api')
        assert project['description'] == 'Invoices, refunds and payment webhooks'
        assert project['links']['runbook'] == 'https://runbooks.example.com/billing-api'
        assert project['name'] == 'Billing API'  # the cell previews were not sent
        with real_env.http() as client:
            url = f'/organizations/{real_env.org}/projects/{project["id"]}/releases/'
            (release,) = client.get(url, params={'tag': '2.0.0'}).json()
            edge = client.get(f'{url}{release["id"]}/environments/production').json()
        assert release['title'] == 'Billing API 2.0'
        assert edge['deployments'][-1]['note'] == 'shipped from the quickstart'
