"""Every notebook in notebooks/ runs top to bottom in a real kernel, leaking nothing."""

from __future__ import annotations

import os
import pathlib
import typing

import nbformat
import pytest

from imbi_toolkit.magics import notebooks

NOTEBOOKS = sorted((pathlib.Path(__file__).parents[2] / 'notebooks').glob('*.ipynb'))
CANARY_TOKEN = 'ik_11111111111111111111111111111111_CANARY-notebook-token-never-shown'

# What each notebook must visibly have done, beyond running without error.
EXPECTED = {
    'quickstart.ipynb': ['billing-api: 2 changes (+1 test op), sent', "'success'"],
    'bulk-edit.ipynb': ["'https://runbooks.example.com/'"],
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
