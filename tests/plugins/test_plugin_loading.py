"""Loading plugins from entry points: isolation, allow-list, strict mode, validation."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from imbi_toolkit import hookimpl
from imbi_toolkit.plugins import (
    PluginLoadError,
    PluginLoadWarning,
    PluginManager,
    PluginValidationError,
)
from imbi_toolkit.plugins import _manager as manager_module

GOOD = """
from imbi_toolkit import hookimpl

@hookimpl
def imbi_identity_subject(plugin_slug, subject):
    return None
"""

BROKEN_IMPORT = """
import this_module_does_not_exist_anywhere
"""

UNKNOWN_HOOK = """
from imbi_toolkit import hookimpl

@hookimpl
def imbi_before_release_created(body):
    return body
"""


def test_installed_plugins_load_and_one_broken_plugin_does_not_stop_them(
    manager, install_distribution
):
    install_distribution('acme-good', {'good': 'acme_good'}, {'acme_good': GOOD})
    install_distribution(
        'acme-broken', {'broken': 'acme_broken'}, {'acme_broken': BROKEN_IMPORT}
    )

    with pytest.warns(PluginLoadWarning) as caught:
        manager.load_entry_points(allow=['acme-good', 'acme-broken'], strict=False)

    names = {info.name: info for info in manager.list_plugins()}
    assert names['good'].distribution == 'acme-good'
    assert names['good'].version == '1.0.0'
    assert names['good'].hooks == ('imbi_identity_subject',)
    assert 'broken' not in names
    [failure] = manager.failures
    assert (failure.name, failure.distribution) == ('broken', 'acme-broken')
    assert failure.error == (
        "ModuleNotFoundError: No module named 'this_module_does_not_exist_anywhere'"
    )
    message = str(caught[0].message)
    assert "'broken' from acme-broken 1.0.0 failed to load" in message
    assert 'IMBI_TOOLKIT_STRICT_PLUGINS=1' in message


def test_strict_mode_raises_naming_plugin_and_distribution(
    manager, install_distribution, monkeypatch
):
    install_distribution(
        'acme-broken', {'broken': 'acme_broken'}, {'acme_broken': BROKEN_IMPORT}
    )
    monkeypatch.setenv('IMBI_TOOLKIT_STRICT_PLUGINS', '1')
    monkeypatch.setenv('IMBI_TOOLKIT_LOAD_PLUGINS', 'acme-broken')

    with pytest.raises(PluginLoadError) as caught:
        manager.load_entry_points()

    assert caught.value.plugin == 'broken'
    assert caught.value.distribution == 'acme-broken'
    assert str(caught.value).startswith(
        "plugin 'broken' from distribution 'acme-broken' failed to load: "
        'ModuleNotFoundError'
    )


def test_unknown_hook_name_is_a_load_failure(manager, install_distribution):
    install_distribution(
        'acme-typo', {'typo': 'acme_typo'}, {'acme_typo': UNKNOWN_HOOK}
    )

    with pytest.warns(PluginLoadWarning, match='unknown hook'):
        manager.load_entry_points(allow=['acme-typo'], strict=False)

    assert not manager.has_plugin('typo')
    [failure] = manager.failures
    assert failure.error.startswith('PluginValidationError: ')
    assert "did you mean 'imbi_before_release_create'?" in failure.error


def test_allow_list_by_entry_point_or_distribution_name(
    manager, install_distribution, monkeypatch
):
    install_distribution('acme-one', {'one': 'acme_one'}, {'acme_one': GOOD})
    install_distribution('acme-two', {'two': 'acme_two'}, {'acme_two': GOOD})

    monkeypatch.setenv('IMBI_TOOLKIT_LOAD_PLUGINS', 'two, acme_one')
    assert manager.load_entry_points() == 2
    assert {info.name for info in manager.list_plugins()} == {'one', 'two'}


def test_empty_allow_list_loads_nothing(manager, monkeypatch):
    monkeypatch.setenv('IMBI_TOOLKIT_LOAD_PLUGINS', '')

    assert manager.load_entry_points() == 0
    assert manager.list_plugins() == []


def test_allow_list_warns_about_names_nobody_installed(manager, install_distribution):
    install_distribution('acme-one', {'one': 'acme_one'}, {'acme_one': GOOD})

    with pytest.warns(PluginLoadWarning, match="names 'acme-nope'"):
        manager.load_entry_points(allow=['acme-one', 'acme-nope'])
    assert manager.has_plugin('one')


def test_register_by_hand_rejects_unknown_hook_and_leaves_manager_unchanged(manager):
    class Typo:
        @hookimpl
        def imbi_resolve_identiy(self, subject):
            return None

    with pytest.raises(PluginValidationError, match="'imbi_resolve_identiy'"):
        manager.register(Typo(), name='typo')
    assert not manager.has_plugin('typo')
    assert manager.implementations('imbi_resolve_identity') == ()


def test_register_rejects_arguments_the_hook_does_not_have(manager):
    class Extra:
        @hookimpl
        def imbi_resolve_identity(self, subject, password):
            return None

    with pytest.raises(PluginValidationError, match=r"'extra'.*password"):
        manager.register(Extra(), name='extra')
    assert not manager.has_plugin('extra')


def test_register_rejects_wrappers(manager):
    class Wrapper:
        @hookimpl(wrapper=True)
        def imbi_resolve_identity(self, subject):
            return (yield)

    with pytest.raises(PluginValidationError, match='do not support wrappers'):
        manager.register(Wrapper(), name='wrapper')


def test_optionalhook_may_name_an_unknown_hook(manager):
    class Future:
        @hookimpl(optionalhook=True)
        def imbi_hook_from_a_later_version(self):
            return None

    assert manager.register(Future(), name='future') == 'future'


def test_implementations_are_cached_and_refreshed_on_register(manager):
    first = types.SimpleNamespace(imbi_resolve_identity=hookimpl(lambda: None))
    second = types.SimpleNamespace(imbi_resolve_identity=hookimpl(lambda: None))

    manager.register(first, name='first')
    cached = manager.implementations('imbi_resolve_identity')
    assert manager.implementations('imbi_resolve_identity') is cached
    manager.register(second, name='second')
    # The most recently registered plugin is called first, like pluggy.
    assert [i.plugin for i in manager.implementations('imbi_resolve_identity')] == [
        'second',
        'first',
    ]
    manager.unregister(name='second')
    assert [i.plugin for i in manager.implementations('imbi_resolve_identity')] == [
        'first'
    ]


def test_importing_the_package_loads_no_plugins():
    code = (
        'import sys, imbi_toolkit; '
        'assert imbi_toolkit.hookimpl is not None; '
        "print(sorted(m for m in sys.modules if m.startswith('imbi_toolkit')))"
    )
    result = subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == (
        "['imbi_toolkit', 'imbi_toolkit.__version__', 'imbi_toolkit._lazy', "
        "'imbi_toolkit.hookspecs', 'imbi_toolkit.types']"
    )


def test_shared_manager_is_built_once(monkeypatch):
    monkeypatch.setattr(manager_module, '_manager', None)
    monkeypatch.setenv('IMBI_TOOLKIT_LOAD_PLUGINS', '')

    first = manager_module.get_plugin_manager()

    assert isinstance(first, PluginManager)
    assert manager_module.get_plugin_manager() is first


def test_the_pytest_fixture_module_does_not_import_the_client():
    # pytest imports it in every test run (entry point pytest11).
    code = (
        'import sys, imbi_toolkit.plugins.testing; '
        "print(sorted(m for m in ('httpx', 'pydantic', 'imbi_toolkit.api') "
        'if m in sys.modules))'
    )
    result = subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == '[]'
