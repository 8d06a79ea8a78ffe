"""A CI pipeline's view: a service account's API key against the real server.

The service account is made for the run with plain HTTP calls (setup):
`POST /service-accounts` (role `admin` in the organisation) and an API key.
"""

from __future__ import annotations

import typing

import pytest

from imbi_toolkit import Toolkit, bulk
from imbi_toolkit.api import Imbi

from .conftest import RealOrg


@pytest.fixture(scope='module')
def service_token(real: RealOrg) -> str:
    slug = f'ci-{real.org}'
    with real.http() as client:
        account = client.post(
            '/service-accounts',
            json={
                'slug': slug,
                'display_name': 'CI pipeline',
                'organization_slug': real.org,
                'role_slug': 'admin',
            },
        )
        assert account.status_code == 201, account.text
        key = client.post(f'/service-accounts/{slug}/api-keys', json={'name': 'ci'})
        assert key.status_code == 201, key.text
    return typing.cast(str, key.json()['key_secret'])


async def test_a_pipeline_releases_and_deploys_as_a_service_account(
    real_env: RealOrg, service_token: str
) -> None:
    project = ('events-consumer', real_env.projects['events-consumer'])
    target = bulk.Target(real_env.org, project[1], project[0])
    async with Imbi(
        base_url=real_env.base_url, token=service_token, max_retries=3
    ) as client:
        toolkit = Toolkit(client)
        identity = await toolkit.whoami()
        release = await bulk.run(
            toolkit,
            bulk.CreateRelease({'committish': '5e7a1ce', 'tag': '7.0.0'}),
            [target],
            progress=False,
        )
        for _ in range(2):  # the CI job retried
            deployed = await bulk.run(
                toolkit,
                bulk.RecordDeployment(
                    'production', status='success', tag='7.0.0', external_run_id='ci-7'
                ),
                [target],
                progress=False,
            )
        found = await client.find_release(real_env.org, project[1], tag='7.0.0')
        assert found is not None
        count = await toolkit.deployment_count(
            real_env.org, project[1], str(found['id']), 'production'
        )
    # /users/me answers 403 to a service account; the toolkit says who it is.
    assert identity.service_account and identity.email is None
    assert release.counts()['ok'] == 1 and deployed.counts()['ok'] == 1
    assert found['created_by'] == f'ci-{real_env.org}'
    assert count == 1
    assert service_token not in str(release) + str(deployed)


def test_the_whoami_magic_names_a_service_account(
    real_env: RealOrg, service_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from IPython.testing import globalipapp

    globalipapp.start_ipython()
    shell = globalipapp.get_ipython()
    monkeypatch.setenv('IMBI_CLIENT_API_TOKEN', service_token)
    shell.run_line_magic('load_ext', 'imbi_toolkit')
    try:
        banner = shell.run_line_magic('imbi', 'whoami')
    finally:
        shell.run_line_magic('unload_ext', 'imbi_toolkit')
        shell.extension_manager.loaded.discard('imbi_toolkit')
    assert repr(banner) == f'Connected to {real_env.base_url}/ as a service account'
    assert service_token not in repr(banner)
