"""imbi-toolkit: work with Imbi from Python.

Importing the package is cheap: the client, the plugin machinery and the IPython
extension are imported on first use, so that ``%load_ext imbi_toolkit`` and
services that only record a release stay fast to start.
"""

from __future__ import annotations

import typing

from imbi_toolkit import _lazy
from imbi_toolkit.__version__ import __version__

if typing.TYPE_CHECKING:
    from imbi_toolkit.api import Imbi, Settings
    from imbi_toolkit.errors import ToolkitError
    from imbi_toolkit.hookspecs import hookimpl
    from imbi_toolkit.operations import Toolkit

__all__ = ['Imbi', 'Settings', 'Toolkit', 'ToolkitError', '__version__', 'hookimpl']

# Public name -> module that defines it; resolved lazily by ``__getattr__``.
_LAZY: dict[str, str] = {
    'Imbi': 'imbi_toolkit.api',
    'Settings': 'imbi_toolkit.api',
    'hookimpl': 'imbi_toolkit.hookspecs',
    'Toolkit': 'imbi_toolkit.operations',
    'ToolkitError': 'imbi_toolkit.errors',
}


__getattr__, __dir__ = _lazy.exports(__name__, _LAZY, __all__)


def load_ipython_extension(ipython: typing.Any) -> None:
    """Register the `%imbi` magics: `%load_ext imbi_toolkit`."""
    from imbi_toolkit import magics

    magics.load(ipython)


def unload_ipython_extension(ipython: typing.Any) -> None:
    """Remove the magics and close their client: `%unload_ext imbi_toolkit`."""
    from imbi_toolkit import magics

    magics.unload(ipython)
