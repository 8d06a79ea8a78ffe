"""Fixtures for unit tests of the client's edge cases with httpx.MockTransport."""

from __future__ import annotations

from collections import abc

import pytest

from imbi_toolkit.api import Imbi

from ..fakes import Script


def pytest_configure(config: pytest.Config) -> None:
    # `make pytest-plain` runs tests/api with the httpx shortcuts off
    # (IMBI_TOOLKIT_LEAN=0) and deselects these: they check the shortcuts'
    # own effects, which plain httpx does not have.
    config.addinivalue_line(
        'markers', 'lean: checks an effect of the httpx shortcuts themselves'
    )


@pytest.fixture
def recorder() -> Script:
    """Answers every request ``200 {}`` until a test sets its steps."""
    return Script()


@pytest.fixture
async def client(recorder: Script) -> abc.AsyncIterator[Imbi]:
    async with Imbi(
        base_url='http://imbi.test/api',
        token='t0ken',
        transport=recorder.transport(),
    ) as imbi:
        yield imbi
