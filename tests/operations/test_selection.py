"""Selecting projects: the server's filters, a team, a search; unknown names said."""

from __future__ import annotations

import typing

import pytest

from imbi_toolkit import Toolkit
from imbi_toolkit.api import errors
from imbi_toolkit.plugins import PluginManager

ORG = 'engineering'


@pytest.fixture
async def toolkit(imbi_sandbox: typing.Any) -> typing.Any:
    async with imbi_sandbox.client() as client:
        yield Toolkit(client, plugin_manager=PluginManager())


async def test_type_team_and_search_narrow_the_selection(toolkit: Toolkit) -> None:
    services = await toolkit.select_projects(ORG, project_type='api-service')
    assert services
    assert all(
        'api-service' in [t['slug'] for t in row['project_types']] for row in services
    )
    team, text = services[0]['team']['slug'], services[0]['slug'][:5]
    mine = await toolkit.select_projects(ORG, team=team, search=text)
    assert services[0]['id'] in [row['id'] for row in mine]
    assert all(row['team']['slug'] == team for row in mine)
    assert all(text in (row['name'] + row['slug']).lower() for row in mine)


async def test_an_unknown_type_or_team_is_an_error_naming_the_known_ones(
    toolkit: Toolkit,
) -> None:
    with pytest.raises(
        errors.ProjectNotFoundError, match=r"no project type 'nope'.*api-service"
    ):
        await toolkit.select_projects(ORG, project_type='nope')
    with pytest.raises(
        errors.ProjectNotFoundError, match=r"no team 'nobody' in engineering"
    ):
        await toolkit.select_projects(ORG, team='nobody')
    assert await toolkit.select_projects(ORG, search='zzz-no-such-project') == []


async def test_project_slugs_name_every_project(toolkit: Toolkit) -> None:
    slugs = await toolkit.project_slugs(ORG)
    billing = await toolkit.client.find_project(ORG, 'billing-api')
    assert slugs[billing['id']] == 'billing-api'
