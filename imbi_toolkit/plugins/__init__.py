"""Plugins: pluggy hooks that run around the shared `Imbi` client.

Write a plugin with `imbi_toolkit.hookimpl` (the hooks are in
`imbi_toolkit.hookspecs` and `docs/hooks.md`), declare it in the
`imbi_toolkit` entry-point group, and call the API through `Toolkit`, the one
layer that runs the hooks (`imbi_toolkit.Toolkit`, also importable from here):

    >>> from imbi_toolkit import Toolkit
    >>> toolkit = Toolkit(client)
    >>> await toolkit.create_release('engineering', project_id, body)

Names are imported on first use, so that a plugin importing `RefusedError`,
or pytest loading the `imbi_register_plugin` fixture, does not import the
HTTP client.
"""

from __future__ import annotations

import typing

from imbi_toolkit import _lazy

if typing.TYPE_CHECKING:
    from imbi_toolkit.hookspecs import hookimpl
    from imbi_toolkit.operations import Toolkit
    from imbi_toolkit.plugins._manager import (
        ENTRY_POINT_GROUP,
        PluginFailure,
        PluginInfo,
        PluginLoadWarning,
        PluginManager,
        get_plugin_manager,
    )
    from imbi_toolkit.plugins.errors import (
        PluginError,
        PluginHookError,
        PluginLoadError,
        PluginValidationError,
        RefusedError,
    )

__all__ = [
    'ENTRY_POINT_GROUP',
    'PluginError',
    'PluginFailure',
    'PluginHookError',
    'PluginInfo',
    'PluginLoadError',
    'PluginLoadWarning',
    'PluginManager',
    'PluginValidationError',
    'RefusedError',
    'Toolkit',
    'get_plugin_manager',
    'hookimpl',
]

# Public name -> module that defines it; resolved lazily by ``__getattr__``.
_LAZY: dict[str, str] = {
    'hookimpl': 'imbi_toolkit.hookspecs',
    'PluginError': 'imbi_toolkit.plugins.errors',
    'PluginHookError': 'imbi_toolkit.plugins.errors',
    'PluginLoadError': 'imbi_toolkit.plugins.errors',
    'PluginValidationError': 'imbi_toolkit.plugins.errors',
    'RefusedError': 'imbi_toolkit.plugins.errors',
    'ENTRY_POINT_GROUP': 'imbi_toolkit.plugins._manager',
    'PluginFailure': 'imbi_toolkit.plugins._manager',
    'PluginInfo': 'imbi_toolkit.plugins._manager',
    'PluginLoadWarning': 'imbi_toolkit.plugins._manager',
    'PluginManager': 'imbi_toolkit.plugins._manager',
    'get_plugin_manager': 'imbi_toolkit.plugins._manager',
    'Toolkit': 'imbi_toolkit.operations',
}


__getattr__, __dir__ = _lazy.exports(__name__, _LAZY, __all__)
