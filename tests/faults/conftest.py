"""The figures of the socket fault suite, printed at the end of the session."""

from __future__ import annotations

import dataclasses
import typing


@dataclasses.dataclass
class Figures:
    """What the fault suite did, printed at the end of the session."""

    tried: int = 0
    survived: int = 0
    duplicates: int = 0
    leaks: int = 0


FIGURES = Figures()


def pytest_configure(config: typing.Any) -> None:
    config.addinivalue_line(
        'markers', 'fault: a fault-injection case, counted in the reliability figures'
    )


def pytest_runtest_logreport(report: typing.Any) -> None:
    if report.when == 'call' and 'fault' in report.keywords:
        FIGURES.tried += 1
        if report.passed:
            FIGURES.survived += 1


def pytest_terminal_summary(terminalreporter: typing.Any) -> None:
    if not FIGURES.tried:
        return
    terminalreporter.write_sep('-', 'reliability: fault injection against the sandbox')
    terminalreporter.write_line(
        f'faults tried: {FIGURES.tried}, survived: {FIGURES.survived}, '
        f'duplicates: {FIGURES.duplicates}, leaks: {FIGURES.leaks}'
    )
