"""Blueprint attributes checked against the project's schema before sending."""

from __future__ import annotations

import logging
import typing

import pytest

from imbi_toolkit import Toolkit
from imbi_toolkit.patching import PatchValidationError
from imbi_toolkit.plugins import PluginManager

ORG = 'engineering'


async def _toolkit_and_project(client: typing.Any) -> tuple[Toolkit, str]:
    project = await client.find_project(ORG, 'billing-api')
    return Toolkit(client, plugin_manager=PluginManager()), str(project['id'])


def _sent_patches(client: typing.Any) -> list[str]:
    sent: list[str] = []

    async def record(request: typing.Any) -> None:
        if request.method == 'PATCH':
            sent.append(request.url.path)

    client.event_hooks['request'].append(record)
    return sent


@pytest.mark.parametrize(
    ('op', 'message'),
    [
        (
            {'op': 'replace', 'path': '/framework', 'value': 'django'},
            '"django" is not allowed for blueprint attribute \'framework\': use one '
            'of "fastapi", "flask", "tornado", "litestar", "gin"',
        ),
        (
            {'op': 'replace', 'path': '/on_call', 'value': 'yes'},
            'blueprint attribute \'on_call\' takes a boolean, not "yes"',
        ),
        (
            {'op': 'add', 'path': '/framwork', 'value': 'flask'},
            "'framwork' is not a blueprint attribute of this project: did you mean "
            "'framework'?",
        ),
    ],
)
@pytest.mark.imbi_api_version('2.41')
async def test_wrong_attributes_are_refused_before_sending(
    imbi_sandbox: typing.Any, op: dict[str, object], message: str
) -> None:
    async with imbi_sandbox.client() as client:
        toolkit, project = await _toolkit_and_project(client)
        sent = _sent_patches(client)
        with pytest.raises(PatchValidationError) as caught:
            await toolkit.patch_project(ORG, project, [op])
    assert message in str(caught.value)
    assert '\n' not in str(caught.value)
    assert sent == []


@pytest.mark.imbi_api_version('2.41')
async def test_a_required_attribute_cannot_be_cleared(imbi_sandbox: typing.Any) -> None:
    async with imbi_sandbox.client() as client:
        toolkit = Toolkit(client, plugin_manager=PluginManager())
        # The demo's scheduled jobs require their `schedule` (API 2.40+).
        for project in await client.list_projects(ORG, {'slim': 'true'}):
            schema = await client.get_project_schema(ORG, project['id'])
            required = {
                name
                for s in (schema or {}).get('sections', [])
                for name in s['required']
            }
            if required:
                break
        else:
            pytest.fail('the 2.41 demo seed should have a required attribute')
        name = sorted(required)[0]
        with pytest.raises(PatchValidationError, match=f"'{name}' is required"):
            await toolkit.patch_project(
                ORG,
                project['id'],
                [{'op': 'replace', 'path': f'/{name}', 'value': None}],
            )


@pytest.mark.parametrize('imbi_api_version', ['2.16', '2.41'])
async def test_a_right_attribute_is_sent(imbi_sandbox: typing.Any) -> None:
    async with imbi_sandbox.client() as client:
        toolkit, project = await _toolkit_and_project(client)
        answer = await toolkit.patch_project(
            ORG, project, [{'op': 'replace', 'path': '/framework', 'value': 'litestar'}]
        )
    assert answer['framework'] == 'litestar'


@pytest.mark.imbi_api_version('2.11')
async def test_without_schemas_the_check_is_skipped_and_said_once(
    imbi_sandbox: typing.Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger='imbi_toolkit')
    async with imbi_sandbox.client() as client:
        toolkit, project = await _toolkit_and_project(client)
        for value in ('flask', 'gin'):
            await toolkit.patch_project(
                ORG, project, [{'op': 'replace', 'path': '/framework', 'value': value}]
            )
    said = [r for r in caplog.records if 'publishes no project schemas' in r.message]
    assert len(said) == 1


@pytest.mark.imbi_api_version('2.41')
async def test_an_enum_value_in_another_case_is_sent_as_the_server_coerces_it(
    imbi_sandbox: typing.Any,
) -> None:
    async with imbi_sandbox.client() as client:
        toolkit, project = await _toolkit_and_project(client)
        sent = _sent_patches(client)
        await toolkit.patch_project(
            ORG, project, [{'op': 'replace', 'path': '/framework', 'value': 'FLASK'}]
        )
    assert len(sent) == 1
