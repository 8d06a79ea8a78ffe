"""A local Imbi API sandbox: the real API's routes, rules and errors, on SQLite.

Run it with ``imbi-toolkit sandbox`` (needs the ``imbi-toolkit[sandbox]``
extra), in tests through the ``imbi_sandbox`` pytest fixture from
:mod:`imbi_toolkit.testing`, or from Python with `start_sandbox`, which runs
it in a subprocess on a free port of 127.0.0.1. Importing this package is
free of the server's dependencies; `create_app` builds the application.

Examples:
    >>> from imbi_toolkit.sandbox import start_sandbox
    >>> with start_sandbox(api_version='2.41') as sandbox:
    ...     print(sandbox.base_url, sandbox.env())
"""

from __future__ import annotations

import typing

from imbi_toolkit import _lazy

if typing.TYPE_CHECKING:
    from imbi_toolkit.sandbox._app import create_app
    from imbi_toolkit.sandbox._config import SandboxConfig
    from imbi_toolkit.sandbox._process import (
        SandboxProcess,
        SandboxStartError,
        start_sandbox,
    )

__all__ = [
    'SandboxConfig',
    'SandboxProcess',
    'SandboxStartError',
    'create_app',
    'start_sandbox',
]

_LAZY: dict[str, str] = {
    'create_app': 'imbi_toolkit.sandbox._app',
    'SandboxConfig': 'imbi_toolkit.sandbox._config',
    'SandboxProcess': 'imbi_toolkit.sandbox._process',
    'SandboxStartError': 'imbi_toolkit.sandbox._process',
    'start_sandbox': 'imbi_toolkit.sandbox._process',
}

__getattr__, __dir__ = _lazy.exports(__name__, _LAZY, __all__)
