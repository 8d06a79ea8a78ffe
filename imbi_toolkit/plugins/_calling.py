"""Calling hook implementations one by one, awaiting each result.

pluggy calls every implementation before the host sees any result, so an
`async def` implementation hands back an un-awaited coroutine and a chained
hook (each plugin sees the body the previous one returned) cannot work. Here
the host walks the implementations itself: it calls one, awaits its result
when it is awaitable, then calls the next. That also lets every error and
every trace line name the plugin concerned.
"""

from __future__ import annotations

import inspect
import typing
from collections import abc

from imbi_toolkit.plugins import _tracing as tracing
from imbi_toolkit.plugins import errors

if typing.TYPE_CHECKING:
    from imbi_toolkit.plugins._manager import HookImpl, PluginManager


def _fail(
    manager: PluginManager,
    hook: str,
    impl: HookImpl,
    kwargs: abc.Mapping[str, object],
    error: Exception,
) -> typing.NoReturn:
    """Raise what the caller sees when a plugin raised `error`."""
    if manager.trace_calls:
        arguments = {name: kwargs[name] for name in impl.argnames}
        tracing.trace_call(hook, impl.plugin, arguments, error=error)
    if isinstance(error, errors.RefusedError):
        error.plugin = impl.plugin
        error.hook = hook
        raise error
    raise errors.PluginHookError(impl.plugin, hook, error) from error


def _trace(
    hook: str, impl: HookImpl, kwargs: abc.Mapping[str, object], result: object
) -> None:
    arguments = {name: kwargs[name] for name in impl.argnames}
    tracing.trace_call(hook, impl.plugin, arguments, result=result)


T = typing.TypeVar('T')


def _checked(hook: str, impl: HookImpl, result: object, expected: type[T]) -> T:
    if not isinstance(result, expected):
        raise errors.PluginHookError(
            impl.plugin,
            hook,
            TypeError(
                f'returned {type(result).__name__}; return a '
                f'{expected.__name__} or None'
            ),
        )
    return result


async def call_each(
    manager: PluginManager,
    hook: str,
    kwargs: abc.Mapping[str, object],
    expected: type[T] = object,  # type: ignore[assignment]
) -> list[tuple[str, T]]:
    """Call every implementation in order; return `(plugin, result)` pairs.

    Results that are `None` are left out.

    Raises:
        RefusedError: When a plugin refuses (with the plugin's name filled in).
        PluginHookError: When a plugin raises anything else or returns a value
            that is not an `expected`.
    """
    answers = []
    trace = manager.trace_calls
    for impl in manager.implementations(hook):
        # Inlined here and in `call_chain` rather than shared through an
        # async generator: this loop runs around every request, and the
        # generator cost the plugin-layer benchmark its goal (1.021x > 1.02x).
        # Pluggy's own calls are positional too.
        try:
            result = impl.function(*impl.arguments(kwargs))
            if result is not None and inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            _fail(manager, hook, impl, kwargs, exc)
        if trace:
            _trace(hook, impl, kwargs, result)
        if result is not None:
            answers.append((impl.plugin, _checked(hook, impl, result, expected)))
    return answers


async def call_chain(
    manager: PluginManager,
    hook: str,
    kwargs: dict[str, object],
    key: str,
    expected: type[T],
) -> T:
    """Call every implementation in order, passing each one's result on.

    `kwargs[key]` is the value being changed: a plugin returns a replacement
    (of type `expected`) or `None` to keep it, changes made in place included.

    Returns:
        The value after the last plugin.

    Raises:
        RefusedError: When a plugin refuses (with the plugin's name filled in).
        PluginHookError: When a plugin raises anything else or returns a value
            of the wrong type.
    """
    trace = manager.trace_calls
    for impl in manager.implementations(hook):
        try:
            result = impl.function(*impl.arguments(kwargs))
            if result is not None and inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            _fail(manager, hook, impl, kwargs, exc)
        if trace:
            _trace(hook, impl, kwargs, result)
        if result is not None:
            kwargs[key] = _checked(hook, impl, result, expected)
    return typing.cast(T, kwargs[key])
