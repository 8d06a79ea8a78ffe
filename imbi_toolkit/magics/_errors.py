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
import logging
import sys
from collections import abc

from IPython.core.error import UsageError

from imbi_toolkit.magics import _loop as loop
from imbi_toolkit.magics import _session as session

__all__ = ['UsageError', 'reported']

# The seed helpers log a warning for every error answer (`patch_project`,
# `create_release`...); a magic raises the typed error saying the same, so
# while it runs these records are held back, and shown only if it succeeds.
_HELD_LOGGERS = ('imbi_toolkit.api._client',)


class _Hold(logging.Filter):
    """Keeps back the records logged in the magics' loop thread."""

    def __init__(self, background: loop.BackgroundLoop | None) -> None:
        super().__init__()
        self.background = background
        self.records: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        thread = self.background.thread if self.background is not None else None
        if thread is not None and record.thread == thread.ident:
            self.records.append(record)
            return False
        return True


@contextlib.contextmanager
def _held_logs(background: loop.BackgroundLoop | None) -> abc.Iterator[None]:
    hold = _Hold(background)
    loggers = [logging.getLogger(name) for name in _HELD_LOGGERS]
    for logger in loggers:
        logger.addFilter(hold)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(hold)
    # Only reached on success: what the helpers said is not in an error.
    for record in hold.records:
        logging.getLogger(record.name).handle(record)


def _unauthorized_hint(exc: BaseException, token_variable: str) -> None:
    """Say how to fix a 401 in its one line (the token itself never shows)."""
    errors = sys.modules.get('imbi_toolkit.api.errors')
    if errors is None or not isinstance(exc, errors.AuthenticationError):
        return
    exc.message = (
        f'{exc.message}: the token was refused; set {token_variable} to a valid '
        'token (%env or .env) and run the magic again, it reconnects by itself'
    )
    exc.args = (exc.message,)


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
def reported(
    connection: session.Session | None = None,
    token_variable: str = session.TOKEN_VARIABLE,
) -> abc.Iterator[None]:
    """Turn failures inside the block into the errors a magic should raise.

    Args:
        connection: The magics' session: the client's warnings logged on its
            loop are shown only when the block succeeds (on failure, the
            error says it in one line), and an error reading a 2xx body
            that is not the API's names that answer.
        token_variable: The variable holding the token, named in the advice
            of a 401.
    """
    if connection is not None:
        connection.last_response = None
    try:
        with _held_logs(connection.loop if connection is not None else None):
            yield
    except Exception as exc:
        _unauthorized_hint(exc, token_variable)
        replacement: BaseException | None = None
        if connection is not None:
            replacement = session.unexpected_body(exc, connection.last_response)
        if replacement is None:
            replacement = _translate(exc)
        if replacement is None:
            raise
        # `from None`: the one-line error is the whole story for the user.
        raise replacement from None
