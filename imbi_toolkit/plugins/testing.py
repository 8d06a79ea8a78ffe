"""Helpers for testing plugins: register one for a test, remove it after.

`registered` is a context manager; the `imbi_register_plugin` pytest fixture
(available in every project that installs imbi-toolkit, through its `pytest11`
entry point) does the same for the length of one test:

    def test_my_plugin(imbi_register_plugin, imbi_sandbox):
        imbi_register_plugin(my_plugin)
        ...  # Toolkit(client) now runs my_plugin's hooks

Both register into the shared manager (the one `Toolkit(client)` uses) unless
given another one.
"""

from __future__ import annotations

import contextlib
import typing
from collections import abc

import pytest

from imbi_toolkit.plugins import _manager as manager_module


@contextlib.contextmanager
def registered(
    plugin: object,
    *,
    name: str | None = None,
    manager: manager_module.PluginManager | None = None,
) -> abc.Iterator[str]:
    """Register `plugin` for the length of a `with` block.

    Args:
        plugin: A module, class instance or other object with hookimpls.
        name: The name to register it under; defaults to pluggy's canonical
            name for the object.
        manager: The manager to use; defaults to the shared one.

    Yields:
        The name the plugin was registered under.

    Raises:
        PluginValidationError: When the plugin does not fit the hooks.
    """
    manager = manager or manager_module.get_plugin_manager()
    registered_name = manager.register(plugin, name=name)
    if registered_name is None:
        raise ValueError(f'plugin name {name!r} is blocked in this manager')
    try:
        yield registered_name
    finally:
        manager.unregister(name=registered_name)


@pytest.fixture
def imbi_register_plugin() -> abc.Iterator[abc.Callable[..., str]]:
    """Register plugins for one test; they are removed when it ends.

    The fixture is a function `register(plugin, *, name=None, manager=None)`
    that returns the registered name.
    """
    with contextlib.ExitStack() as stack:

        def register(
            plugin: object,
            *,
            name: str | None = None,
            manager: manager_module.PluginManager | None = None,
        ) -> str:
            return stack.enter_context(registered(plugin, name=name, manager=manager))

        yield typing.cast(abc.Callable[..., str], register)
