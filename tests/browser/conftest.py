"""Point at the browser tests' screenshots in the summary of a run."""

from __future__ import annotations

import pathlib
import typing

ARTIFACTS = pathlib.Path(__file__).parent / 'artifacts'


def pytest_terminal_summary(terminalreporter: typing.Any) -> None:
    shots = sorted(ARTIFACTS.glob('*.png'))
    if shots and terminalreporter.stats.get('passed', []) + terminalreporter.stats.get(
        'failed', []
    ):
        terminalreporter.write_sep('-', 'browser screenshots')
        terminalreporter.write_line(f'{len(shots)} in {ARTIFACTS}')
