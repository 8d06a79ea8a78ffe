"""The toolkit's exceptions, under one root.

Catch `ToolkitError` for "the toolkit refused or failed", whatever the layer;
catch a subclass for one kind of failure. Each is defined next to the code
that raises it and importable from here (names load on first use, so that
`import imbi_toolkit.errors` stays cheap)::

    ToolkitError
    ├── ImbiError                       (imbi_toolkit.api.errors: the HTTP API)
    │   ├── ImbiTransportError            no HTTP answer
    │   │   ├── ImbiConnectionError
    │   │   └── ImbiTimeoutError
    │   ├── ImbiStatusError               an error status, with `detail`
    │   │   ├── BadRequestError           400
    │   │   ├── AuthenticationError       401
    │   │   ├── PermissionDeniedError     403
    │   │   ├── NotFoundError             404
    │   │   ├── ConflictError             409
    │   │   ├── UnprocessableEntityError  422
    │   │   ├── RateLimitedError          429
    │   │   ├── ServerError               5xx
    │   │   └── UnexpectedRedirectError   3xx (never followed)
    │   ├── UnexpectedResponseError       a 2xx body of the wrong shape
    │   ├── ReleaseNotFoundError          (also LookupError)
    │   ├── ProjectNotFoundError          (also LookupError)
    │   └── ReleaseMismatchError          the tag names a release of another commit
    ├── PluginError                     (imbi_toolkit.plugins: the plugins)
    │   ├── RefusedError                  a plugin said no; nothing was sent
    │   ├── PluginHookError               a plugin failed
    │   ├── PluginValidationError
    │   └── PluginLoadError
    ├── PatchValidationError            (also ValueError; imbi_toolkit.patching)
    └── JournalError                    (also ValueError; imbi_toolkit.bulk)

Examples:
    >>> from imbi_toolkit.errors import ToolkitError
    >>> try:
    ...     await toolkit.patch_project('eng', project_id, patch)
    ... except ToolkitError as error:
    ...     print(f'not patched: {error}')
"""

from __future__ import annotations

import typing

from imbi_toolkit import _lazy


class ToolkitError(Exception):
    """Base class of every error the toolkit raises on purpose."""


if typing.TYPE_CHECKING:
    from imbi_toolkit.api.errors import (
        ImbiError,
        ImbiStatusError,
        ImbiTransportError,
        ProjectNotFoundError,
        ReleaseMismatchError,
        ReleaseNotFoundError,
    )
    from imbi_toolkit.bulk._journal import JournalError
    from imbi_toolkit.patching.errors import PatchValidationError
    from imbi_toolkit.plugins.errors import PluginError, PluginHookError, RefusedError

__all__ = [
    'ImbiError',
    'ImbiStatusError',
    'ImbiTransportError',
    'JournalError',
    'PatchValidationError',
    'PluginError',
    'PluginHookError',
    'ProjectNotFoundError',
    'RefusedError',
    'ReleaseMismatchError',
    'ReleaseNotFoundError',
    'ToolkitError',
]

_LAZY: dict[str, str] = {
    'ImbiError': 'imbi_toolkit.api.errors',
    'ImbiStatusError': 'imbi_toolkit.api.errors',
    'ImbiTransportError': 'imbi_toolkit.api.errors',
    'ProjectNotFoundError': 'imbi_toolkit.api.errors',
    'ReleaseMismatchError': 'imbi_toolkit.api.errors',
    'ReleaseNotFoundError': 'imbi_toolkit.api.errors',
    'JournalError': 'imbi_toolkit.bulk._journal',
    'PatchValidationError': 'imbi_toolkit.patching.errors',
    'PluginError': 'imbi_toolkit.plugins.errors',
    'PluginHookError': 'imbi_toolkit.plugins.errors',
    'RefusedError': 'imbi_toolkit.plugins.errors',
}

__getattr__, __dir__ = _lazy.exports(__name__, _LAZY, __all__)
