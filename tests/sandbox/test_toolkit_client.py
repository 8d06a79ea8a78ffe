"""The toolkit's own client against the sandbox: the documented conventions hold."""

from __future__ import annotations

import logging

import pytest

from imbi_toolkit.testing import SandboxProcess

# The 2.16 line's shapes and statuses (2.41's: test_generations.py).
pytestmark = pytest.mark.imbi_api_version('2.16')


async def test_patch_create_and_deploy_with_the_client(
    imbi_sandbox: SandboxProcess, billing_api: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with imbi_sandbox.client() as client:
        patched = await client.patch_project(
            'engineering',
            billing_api,
            [{'op': 'replace', 'path': '/description', 'value': 'Invoices, v2'}],
        )
        assert patched.status_code == 200
        assert patched.json()['description'] == 'Invoices, v2'

        body = {'committish': 'c0ffee0', 'title': 'Release 3.0.0', 'tag': '3.0.0'}
        created = await client.create_release('engineering', billing_api, body)
        assert created.status_code == 201
        again = await client.create_release('engineering', billing_api, body)
        assert again.status_code == 409
        found = await client.find_release('engineering', billing_api, tag='3.0.0')
        assert found is not None
        release_id = found['id']
        assert release_id == created.json()['id']

        recorded = await client.record_deployment(
            'engineering', billing_api, release_id, 'staging', {'status': 'success'}
        )
        assert recorded.status_code == 200
        assert recorded.json()['current_status'] == 'success'
        missing = await client.record_deployment(
            'engineering', billing_api, '3.0.0', 'staging', {'status': 'success'}
        )
        assert missing.status_code == 404  # a version is not a release id
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    # 409 on create and 404 on record are conventions, not failures.
    assert warnings == []
    assert imbi_sandbox.token not in caplog.text


async def test_client_logs_real_failures(
    imbi_sandbox: SandboxProcess, billing_api: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with imbi_sandbox.client() as client:
        response = await client.patch_project(
            'engineering', billing_api, [{'op': 'replace', 'path': '/id', 'value': 'x'}]
        )
    assert response.status_code == 400
    assert any('read-only' in r.getMessage() for r in caplog.records)


async def test_readonly_client_is_refused(
    imbi_sandbox: SandboxProcess, billing_api: str
) -> None:
    async with imbi_sandbox.client(readonly=True) as client:
        response = await client.create_release(
            'engineering', billing_api, {'committish': 'abcdef1', 'title': 'x'}
        )
    assert response.status_code == 403
