"""Fixtures shared by every test folder (the helpers are in `fakes.py`)."""

from __future__ import annotations

from collections import abc

import pytest

from .fakes import CaptureServer


@pytest.fixture
def capture_server() -> abc.Iterator[CaptureServer]:
    """A loopback server that records what it receives (see `CaptureServer`)."""
    with CaptureServer() as server:
        yield server
