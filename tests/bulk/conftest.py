"""Fixtures shared by the bulk tests."""

from __future__ import annotations

import typing

import pytest


@pytest.fixture
async def client(imbi_sandbox: typing.Any) -> typing.Any:
    """A client of the test's sandbox (`imbi_sandbox`), closed afterwards."""
    async with imbi_sandbox.client() as client:
        yield client
