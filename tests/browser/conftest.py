"""Point at the browser test's screenshots and measurements in the run's summary."""

from __future__ import annotations

import json
import pathlib
import time
import typing

ARTIFACTS = pathlib.Path(__file__).parent / 'artifacts'
_STARTED = time.time()


def pytest_terminal_summary(terminalreporter: typing.Any) -> None:
    # Only what this run made, not screenshots left by an earlier one.
    shots = sorted(
        path for path in ARTIFACTS.glob('*.png') if path.stat().st_mtime >= _STARTED
    )
    if not shots:
        return
    terminalreporter.write_sep('-', 'browser test artifacts')
    terminalreporter.write_line(f'{ARTIFACTS}/: {", ".join(p.name for p in shots)}')
    measurements = ARTIFACTS / 'measurements.json'
    if measurements.exists() and measurements.stat().st_mtime >= _STARTED:
        found = json.loads(measurements.read_text())
        timings = ', '.join(f'{k} {v} s' for k, v in found['timings'].items())
        terminalreporter.write_line(f'timings: {timings}')
        for table, worst in found['min_contrast'].items():
            terminalreporter.write_line(
                f'lowest contrast, {table}: {worst["ratio"]} '
                f'({worst["colour"]} on {worst["background"]})'
            )
