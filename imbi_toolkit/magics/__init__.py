"""The IPython extension: `%load_ext imbi_toolkit` registers the `%imbi` magics.

Only IPython and traitlets (already imported by IPython) are imported here;
httpx, pydantic-settings and jsonpatch load when a magic first needs them,
and the client is created by the first magic that talks to the API.
"""

from imbi_toolkit.magics._core import ImbiMagics
from imbi_toolkit.magics._extension import load, loaded, unload

__all__ = ['ImbiMagics', 'load', 'load_ipython_extension', 'loaded', 'unload']


def load_ipython_extension(ipython: object) -> None:
    """Register the magics (called by `%load_ext imbi_toolkit`)."""
    load(ipython)  # type: ignore[arg-type]


def unload_ipython_extension(ipython: object) -> None:
    """Remove the magics and close their client (called by `%unload_ext`)."""
    unload(ipython)  # type: ignore[arg-type]
