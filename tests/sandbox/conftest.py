"""Helpers for the sandbox contract tests: real sockets on 127.0.0.1."""

from __future__ import annotations

from collections import abc

import httpx
import pytest

from imbi_toolkit.testing import SandboxProcess


@pytest.fixture
async def http(imbi_sandbox: SandboxProcess) -> abc.AsyncIterator[httpx.AsyncClient]:
    """Plain httpx with the admin token."""
    async with httpx.AsyncClient(
        base_url=imbi_sandbox.base_url,
        headers={'authorization': f'Bearer {imbi_sandbox.token}'},
    ) as client:
        yield client


@pytest.fixture
async def anonymous(
    imbi_sandbox: SandboxProcess,
) -> abc.AsyncIterator[httpx.AsyncClient]:
    """Plain httpx without credentials."""
    async with httpx.AsyncClient(base_url=imbi_sandbox.base_url) as client:
        yield client


@pytest.fixture
async def readonly(
    imbi_sandbox: SandboxProcess,
) -> abc.AsyncIterator[httpx.AsyncClient]:
    """Plain httpx with the read-only token."""
    async with httpx.AsyncClient(
        base_url=imbi_sandbox.base_url,
        headers={'authorization': f'Bearer {imbi_sandbox.readonly_token}'},
    ) as client:
        yield client


ProjectLookup = abc.Callable[..., abc.Awaitable[str]]


@pytest.fixture
def project_id(http: httpx.AsyncClient) -> ProjectLookup:
    """Look a demo project's id up by slug."""

    async def lookup(slug: str, org: str = 'engineering') -> str:
        response = await http.get(
            f'/organizations/{org}/projects/', params={'include_archived': 'true'}
        )
        response.raise_for_status()
        return next(item['id'] for item in response.json() if item['slug'] == slug)

    return lookup


@pytest.fixture
async def billing_api(project_id: ProjectLookup) -> str:
    return await project_id('billing-api')


@pytest.fixture(scope='session')
def sandbox_2_11(
    _imbi_sandboxes: abc.Callable[[str], SandboxProcess],
) -> SandboxProcess:
    """The session's demo sandbox emulating API 2.11 (``plugin_slug``)."""
    return _imbi_sandboxes('2.11')
