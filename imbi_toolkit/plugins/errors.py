"""Errors raised by plugins and by the plugin machinery."""

from __future__ import annotations

from imbi_toolkit.errors import ToolkitError


class PluginError(ToolkitError):
    """Base class of every plugin error.

    Attributes:
        plugin: Name of the plugin concerned, when known.
        hook: Name of the hook that was running, when one was.
    """

    plugin: str | None = None
    hook: str | None = None


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
            return self.reason
        return (
            f'plugin {self.plugin!r} refused the request ({self.hook}): {self.reason}'
        )


class PluginHookError(PluginError):
    """A plugin raised an unexpected exception while a hook ran.

    The original exception is the `__cause__`.
    """

    def __init__(self, plugin: str, hook: str, error: BaseException) -> None:
        super().__init__(
            f'plugin {plugin!r} failed in {hook}: {type(error).__name__}: {error}'
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
            f'plugin {plugin!r} from distribution {distribution!r} failed to '
            f'load: {type(error).__name__}: {error}'
        )
        self.plugin = plugin
        self.distribution = distribution
        self.error = error
