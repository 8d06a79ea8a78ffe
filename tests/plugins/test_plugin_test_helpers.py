"""The helpers plugin authors use in their own tests."""

from __future__ import annotations

import pytest

from imbi_toolkit import hookimpl
from imbi_toolkit.plugins import PluginValidationError, Toolkit, get_plugin_manager
from imbi_toolkit.plugins.testing import registered


class Titles:
    @hookimpl
    def imbi_before_release_create(self, body):
        body.setdefault('title', f'Release {body["tag"]}')


def test_registered_removes_the_plugin_afterwards(manager):
    with registered(Titles(), name='titles', manager=manager) as name:
        assert name == 'titles'
        assert [
            i.plugin for i in manager.implementations('imbi_before_release_create')
        ] == ['titles']
    assert not manager.has_plugin('titles')
    assert manager.implementations('imbi_before_release_create') == ()


def test_registered_removes_the_plugin_when_the_test_fails(manager):
    with pytest.raises(RuntimeError), registered(Titles(), manager=manager) as name:
        raise RuntimeError('test failed')
    assert not manager.has_plugin(name)


def test_registered_refuses_a_plugin_with_an_unknown_hook(manager):
    class Typo:
        @hookimpl
        def imbi_before_release(self, body): ...

    with pytest.raises(PluginValidationError), registered(Typo(), manager=manager):
        pass  # pragma: no cover - never reached


class Describes:
    @hookimpl
    async def imbi_before_release_create(self, body):
        return {**body, 'description': 'from the test plugin'}


async def test_fixture_registers_into_the_shared_manager(
    imbi_register_plugin, client, fake_api
):
    name = imbi_register_plugin(Describes(), name='describes-for-one-test')
    assert get_plugin_manager().has_plugin(name)

    release = await Toolkit(client).create_release(
        'eng', 'P1', {'committish': 'abc1234', 'title': 'T'}
    )

    assert release['description'] == 'from the test plugin'


def test_fixture_removed_the_plugin_after_the_previous_test():
    assert not get_plugin_manager().has_plugin('describes-for-one-test')
