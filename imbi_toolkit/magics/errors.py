"""How the magics report failures: one line, and the cell fails.

User mistakes (bad arguments, missing settings, an unknown variable) become
IPython's `UsageError`, which IPython shows as one line without a traceback.
HTTP failures become the client's typed errors
(`imbi_toolkit.api.errors.ImbiStatusError` and friends): their
`_render_traceback_` makes IPython show the status and the server's `detail`
instead of a traceback from inside httpx. Both are raised, never printed, so
a notebook run by nbclient or papermill stops at the failing cell.
"""

from __future__ import annotations

import contextlib
import sys
from collections import abc

from IPython.core.error import UsageError

from imbi_toolkit.magics import loop, session

__all__ = ['UsageError', 'reported']


def _translate(exc: Exception) -> BaseException | None:
    """Return the user-facing error for `exc`, or `None` to keep it as it is."""
    if isinstance(exc, UsageError):
        return None
    if isinstance(exc, session.ConfigurationError):
        return UsageError(str(exc))
    if isinstance(exc, loop.LoopClosedError):
        return UsageError('the imbi_toolkit extension was unloaded: %load_ext it again')
    if 'httpx' in sys.modules:
        import httpx

        from imbi_toolkit.api import errors

        if isinstance(exc, httpx.HTTPStatusError):
            return errors.from_response(exc.response)
        if isinstance(exc, httpx.TransportError):
            return errors.from_transport_error(exc)
        if isinstance(exc, errors.ProjectNotFoundError):
            # A wrong id or slug on the magic's line.
            return UsageError(str(exc))
    plugin_errors = sys.modules.get('imbi_toolkit.plugins.errors')
    if plugin_errors is not None and isinstance(exc, plugin_errors.PluginError):
        return UsageError(f'{type(exc).__name__}: {exc}')
    patching_errors = sys.modules.get('imbi_toolkit.patching.errors')
    if patching_errors is not None and isinstance(
        exc, patching_errors.PatchValidationError
    ):
        return UsageError(str(exc).replace('\n', ' '))
    toolkit_errors = sys.modules.get('imbi_toolkit.errors')
    if (
        toolkit_errors is not None
        and isinstance(exc, toolkit_errors.ToolkitError)
        and not hasattr(exc, '_render_traceback_')
    ):
        # The toolkit's own refusals (a journal in use, a plan to redo, a
        # write that cannot be undone) say what to do in one line.
        return UsageError(f'{type(exc).__name__}: {exc}'.replace('\n', ' '))
    if isinstance(exc, ValueError) and type(exc).__module__ == 'builtins':
        # The client's argument checks (path segments, statuses...) say
        # what is wrong and how to fix it.
        return UsageError(str(exc))
    return None


@contextlib.contextmanager
def reported() -> abc.Iterator[None]:
    """Turn failures inside the block into the errors a magic should raise."""
    try:
        yield
    except Exception as exc:
        replacement = _translate(exc)
        if replacement is None:
            raise
        # `from None`: the one-line error is the whole story for the user.
        raise replacement from None
