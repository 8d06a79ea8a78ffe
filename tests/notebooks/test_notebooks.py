"""Every notebook in notebooks/ runs top to bottom in a real kernel, leaking nothing."""

from __future__ import annotations

import os
import pathlib
import typing

import nbformat
import pytest

from imbi_toolkit.magics import _notebooks as notebooks

NOTEBOOKS = sorted((pathlib.Path(__file__).parents[2] / 'notebooks').glob('*.ipynb'))
CANARY_TOKEN = 'ik_11111111111111111111111111111111_CANARY-notebook-token-never-shown'

# What each notebook must visibly have done, beyond running without error.
EXPECTED = {
    'quickstart.ipynb': [
        'billing-api: 2 changes (+2 test ops), sent',
        'The cell holds one operation, not a document',
        # Quoted on the line, stored without the quotes.
        "'Billing API 2.0')",
        "'success'",
        'alice@example.com',
    ],
    'bulk-edit.ipynb': ["'https://runbooks.example.com/'"],
    'plan-and-undo.ipynb': [
        'add runbook links',
        '"expects"',
        "'ok':",
        "'skipped':",
        'runbook: None',
        'undoing',
        'release v2.0.0: 9 ok\n',
        'deploy v2.0.0 to staging (success) | expects 0 events in staging',
        'deploy v2.0.0 to staging (success): 9 ok\n',
    ],
    'plugins.ipynb': [
        "'Release 3.1.0 (titled by a plugin)'",
        "[('staging', 'success'), ('production', 'success')]",
        "plugin 'notebook-no-renames' refused the request",
    ],
}


def test_every_notebook_is_checked() -> None:
    assert {path.name for path in NOTEBOOKS} == set(EXPECTED)


@pytest.mark.parametrize('path', NOTEBOOKS, ids=lambda path: path.name)
def test_stored_without_outputs(path: pathlib.Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == 'code':
            assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.fixture(scope='module')
def canary_sandbox(imbi_sandbox_factory: typing.Any) -> typing.Any:
    return imbi_sandbox_factory(token=CANARY_TOKEN)


@pytest.mark.parametrize('path', NOTEBOOKS, ids=lambda path: path.name)
def test_runs_in_a_real_kernel_against_the_sandbox(
    path: pathlib.Path,
    canary_sandbox: typing.Any,
    tmp_path: pathlib.Path,
) -> None:
    canary_sandbox.reset()
    env = {
        **os.environ,
        **canary_sandbox.env(),
    }
    # Any failing cell raises CellExecutionError here and fails the test.
    executed = notebooks.execute(path, env=env, cwd=tmp_path)
    text = notebooks.outputs_text(executed)
    assert CANARY_TOKEN not in text
    assert 'Traceback' not in text
    errors = [
        output
        for cell in executed.cells
        for output in cell.get('outputs', ())
        if output.output_type == 'error'
    ]
    assert errors == []
    for expected in EXPECTED[path.name]:
        assert expected in text, expected
    # tqdm.auto finds ipywidgets: a progress bar is a widget, not a warning.
    assert 'IProgress not found' not in text
    if path.name == 'bulk-edit.ipynb':
        assert any(
            'application/vnd.jupyter.widget-view+json' in output.get('data', {})
            for cell in executed.cells
            for output in cell.get('outputs', ())
        )


def _notebook_of(outputs: list[typing.Any]) -> nbformat.NotebookNode:
    from nbformat.v4 import new_code_cell, new_notebook

    cell = new_code_cell('')
    cell.outputs = outputs
    return new_notebook(cells=[cell])


def _notebook(*sources: str) -> nbformat.NotebookNode:
    from nbformat.v4 import new_code_cell, new_notebook

    return new_notebook(cells=[new_code_cell(source) for source in sources])


@pytest.mark.parametrize(
    ('line', 'ename', 'evalue'),
    [
        (
            '%imbi fetch no-such-project p',
            'UsageError',
            "no project 'no-such-project' in engineering: check the id or slug",
        ),
        (
            "project = {'name': 'x'}\n%imbi patch project --send",
            'UsageError',
            "'project' was not filled by %imbi fetch",
        ),
        (
            "%imbi fetch billing-api p\np['team_slug'] = 'nobody'\n%imbi patch p --send",
            'UnprocessableEntityError',
            "Team 'nobody' not found in organization 'engineering'",
        ),
    ],
)
def test_a_failing_magic_fails_its_cell_with_one_line(
    canary_sandbox: typing.Any,
    tmp_path: pathlib.Path,
    line: str,
    ename: str,
    evalue: str,
) -> None:
    import nbclient.exceptions

    canary_sandbox.reset()
    notebook = _notebook(
        "%load_ext imbi_toolkit\n%config ImbiMagics.org = 'engineering'",
        line,
        "print('not reached')",
    )
    env = {**os.environ, **canary_sandbox.env()}
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        notebooks.execute(notebook, env=env, cwd=tmp_path)
    outputs = notebook.cells[1].outputs
    shown = notebooks.outputs_text(_notebook_of(outputs))
    assert f'{ename}: ' in shown and evalue in shown
    # One line instead of a traceback: nothing from inside httpx or the toolkit.
    assert 'Traceback' not in shown and 'File "' not in shown and 'httpx' not in shown
    # The error alone: no warning logged by a helper on the way (a 422's).
    assert len(outputs) == 1, outputs
    for output in outputs:
        if output.output_type == 'error':
            assert output.ename == ename
            assert len(output.traceback) == 1
    assert notebook.cells[2].outputs == []  # the run stopped at the failing cell
    assert CANARY_TOKEN not in notebooks.outputs_text(notebook)


def test_make_demo_waits_for_its_kernel_and_prints_no_transport_warning(
    tmp_path: pathlib.Path,
) -> None:
    import subprocess
    import sys

    quickstart = pathlib.Path(__file__).parents[2] / 'notebooks' / 'quickstart.ipynb'
    output = tmp_path / 'executed' / 'quickstart.ipynb'
    # What `make demo` runs. The pipes close only when every process holding
    # them has exited: a kernel outliving the command keeps them open and
    # shows up here with its "Parent appears to have exited".
    completed = subprocess.run(
        [
            sys.executable,
            '-m',
            'imbi_toolkit',
            'notebook',
            str(quickstart),
            '--output',
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            name: value
            for name, value in os.environ.items()
            if not name.startswith('IMBI_CLIENT_')
        },
    )
    text = completed.stdout + completed.stderr
    assert completed.returncode == 0, text
    assert 'Parent appears to have exited' not in text
    assert 'without encryption' not in text
    assert 'WARNING' not in completed.stderr, completed.stderr
    assert f'no errors; saved the executed notebook to {output}' in completed.stdout
    assert output.exists()
