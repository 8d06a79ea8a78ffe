"""Fixtures shared by every test folder (the helpers are in `fakes.py`)."""

from __future__ import annotations

import typing
from collections import abc

import pytest

from . import attacks
from .fakes import CaptureServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        'markers',
        'attack(kind): a hostile-input test, counted in the attack figures '
        f'(kinds: {", ".join(attacks.FIGURE_OF)})',
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: typing.Any) -> typing.Any:
    outcome = yield
    marker = item.get_closest_marker('attack')
    if marker is not None:
        kind = str(marker.args[0])
        if kind not in attacks.FIGURE_OF:
            raise pytest.UsageError(f'unknown attack kind {kind!r}')
        outcome.get_result().attack_kind = kind


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    attacks.record(report)


def pytest_terminal_summary(terminalreporter: typing.Any) -> None:
    line = attacks.summary()
    if line is not None:
        terminalreporter.write_sep('-', 'hostile input: attacks on the toolkit')
        terminalreporter.write_line(line)


@pytest.fixture
def capture_server() -> abc.Iterator[CaptureServer]:
    """A loopback server that records what it receives (see `CaptureServer`)."""
    with CaptureServer() as server:
        yield server
