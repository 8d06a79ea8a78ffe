"""Plugins: pluggy hooks that run around the shared `Imbi` client.

Write a plugin with `imbi_toolkit.hookimpl` (the hooks are in
`imbi_toolkit.hookspecs` and `docs/hooks.md`), declare it in the
`imbi_toolkit` entry-point group, and call the API through `Toolkit`, the one
layer that runs the hooks:

    >>> from imbi_toolkit.plugins import Toolkit
    >>> toolkit = Toolkit(client)
    >>> await toolkit.create_release('engineering', project_id, body)
"""

from imbi_toolkit.hookspecs import hookimpl
from imbi_toolkit.plugins.errors import (
    PluginError,
    PluginHookError,
    PluginLoadError,
    PluginValidationError,
    RefusedError,
)
from imbi_toolkit.plugins.manager import (
    ENTRY_POINT_GROUP,
    PluginFailure,
    PluginInfo,
    PluginLoadWarning,
    PluginManager,
    get_plugin_manager,
)
from imbi_toolkit.plugins.toolkit import Toolkit

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
