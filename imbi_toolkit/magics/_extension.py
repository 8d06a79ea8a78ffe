"""Loading and unloading the extension: `%load_ext`, `%unload_ext`, `%reload_ext`.

Loading registers one `ImbiMagics` (its magics and its configurable) and an
`atexit` handler that closes its client; unloading removes exactly those, so
`%reload_ext imbi_toolkit` leaves no duplicates behind. Nothing touches the
network here: the client is created by the first magic that needs it.
"""

from __future__ import annotations

import atexit
import typing

from imbi_toolkit.magics import _completion as completion
from imbi_toolkit.magics._core import ImbiMagics

if typing.TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

_REGISTRY_NAME = 'ImbiMagics'


def loaded(shell: InteractiveShell) -> ImbiMagics | None:
    """The shell's registered `ImbiMagics`, if the extension is loaded."""
    magics = shell.magics_manager.registry.get(_REGISTRY_NAME)
    # After importlib.reload the class is a new object: match by name.
    if magics is not None and type(magics).__name__ == _REGISTRY_NAME:
        return typing.cast(ImbiMagics, magics)
    return None


def load(shell: InteractiveShell) -> ImbiMagics:
    """Register the magics once; loading again returns the registered ones."""
    existing = loaded(shell)
    if existing is not None:
        return existing
    magics = ImbiMagics(shell=shell)  # appends itself to shell.configurables
    shell.register_magics(magics)
    magics.completer = completion.register(shell, magics)
    atexit.register(magics.close)
    return magics


def unload(shell: InteractiveShell) -> None:
    """Remove the magics and their configurable, and close what they opened."""
    magics = loaded(shell)
    if magics is None:
        return
    manager = shell.magics_manager
    for kind, table in magics.magics.items():
        for name, function in table.items():
            if manager.magics[kind].get(name) == function:
                del manager.magics[kind][name]
    del manager.registry[_REGISTRY_NAME]
    configurables = typing.cast(list[object], shell.configurables)
    configurables[:] = [c for c in configurables if c is not magics]
    if magics.completer is not None:
        completion.unregister(shell, magics.completer)
    atexit.unregister(magics.close)
    magics.close()
