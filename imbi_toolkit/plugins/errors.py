"""Errors raised by plugins and by the plugin machinery.

Their text goes through `imbi_toolkit.api._redaction.redact` (a plugin's
exception may quote a header or a URL with credentials), and they pickle:
a pickle keeps the redacted text and the names, not the original exception
(which may not pickle, and may hold secrets).
"""

from __future__ import annotations

import typing

from imbi_toolkit.errors import ToolkitError


def _redact(text: str) -> str:
    # Imported on use: `imbi_toolkit.api` brings httpx and pydantic.
    from imbi_toolkit.api import _redaction as redaction

    return redaction.redact(text)


def _restore(cls: type[PluginError], args: tuple[object, ...]) -> PluginError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    return error


class PluginError(ToolkitError):
    """Base class of every plugin error.

    Attributes:
        plugin: Name of the plugin concerned, when known.
        hook: Name of the hook that was running, when one was.
    """

    plugin: str | None = None
    hook: str | None = None

    def __reduce__(self) -> tuple[typing.Any, ...]:
        # The default calls `cls(*args)` on load, which the constructors
        # below refuse (TypeError), and pickles `error`, the plugin's own
        # exception, which may not pickle and may quote a secret.
        args = tuple(_redact(a) if isinstance(a, str) else a for a in self.args)
        state = {
            name: None
            if isinstance(value, BaseException)
            else _redact(value)
            if isinstance(value, str)
            else value
            for name, value in vars(self).items()
        }
        return (_restore, (type(self), args), state)


class RefusedError(PluginError):
    """A plugin refused a request body; nothing was sent.

    Plugins raise it from a `imbi_before_*` hook with a message that says what
    is wrong and what to do. The host fills in the plugin's name and the hook
    before the error reaches the caller.

    Examples:
        >>> raise RefusedError('tag "v1" is not semver; use e.g. v1.2.3')

    Args:
        reason: What is wrong with the body and how to fix it.
    """

    def __init__(
        self, reason: str, *, plugin: str | None = None, hook: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.plugin = plugin
        self.hook = hook

    def _render_traceback_(self) -> list[str]:
        # IPython shows this line instead of a traceback: the refusal is the
        # message, the host's frames would only hide it.
        return [f'{type(self).__name__}: {self}']

    def __str__(self) -> str:
        if self.plugin is None:
            return _redact(self.reason)
        return _redact(
            f'plugin {self.plugin!r} refused the request ({self.hook}): {self.reason}'
        )


class PluginHookError(PluginError):
    """A plugin raised an unexpected exception while a hook ran.

    The original exception is the `__cause__` and `error` (`None` after a
    pickle round trip); the message is redacted.
    """

    def __init__(self, plugin: str, hook: str, error: BaseException) -> None:
        super().__init__(
            _redact(
                f'plugin {plugin!r} failed in {hook}: {type(error).__name__}: {error}'
            )
        )
        self.plugin = plugin
        self.hook = hook
        self.error = error


class PluginValidationError(PluginError):
    """A plugin does not fit the hook specifications (e.g. an unknown hook)."""

    def __init__(self, plugin: str, message: str) -> None:
        super().__init__(f'plugin {plugin!r}: {message}')
        self.plugin = plugin


class PluginLoadError(PluginError):
    """An entry-point plugin failed to load (raised in strict mode only).

    Attributes:
        distribution: The distribution that declared the entry point.
        error: The exception the plugin raised while loading.
    """

    def __init__(self, plugin: str, distribution: str, error: BaseException) -> None:
        super().__init__(
            _redact(
                f'plugin {plugin!r} from distribution {distribution!r} failed to '
                f'load: {type(error).__name__}: {error}'
            )
        )
        self.plugin = plugin
        self.distribution = distribution
        self.error = error
