"""The plugin manager: loading plugins from entry points and listing them.

Nothing is loaded at `import imbi_toolkit`: `get_plugin_manager()` builds the
shared manager and loads the installed plugins on its first call. Each entry
point is loaded on its own, so one broken plugin is reported (with its
distribution and its error) and the others still load.

Environment variables, read when the plugins are loaded:

- `IMBI_TOOLKIT_LOAD_PLUGINS`: a comma-separated allow-list of entry-point or
  distribution names; the empty string loads none.
- `IMBI_TOOLKIT_STRICT_PLUGINS=1`: a plugin that fails to load raises
  `PluginLoadError` instead of a warning (for CI and plugin development).
- `IMBI_TOOLKIT_TRACE_PLUGINS=1`: every hook call, its arguments and its
  result are written to stderr, with secrets redacted.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.metadata
import operator
import os
import re
import threading
import typing
import warnings
import weakref
from collections import abc

import pluggy

from imbi_toolkit import hookspecs
from imbi_toolkit.plugins import errors

if typing.TYPE_CHECKING:
    from imbi_toolkit.api import Imbi

ENTRY_POINT_GROUP = 'imbi_toolkit'
LOAD_PLUGINS_ENV = 'IMBI_TOOLKIT_LOAD_PLUGINS'
STRICT_PLUGINS_ENV = 'IMBI_TOOLKIT_STRICT_PLUGINS'
TRACE_PLUGINS_ENV = 'IMBI_TOOLKIT_TRACE_PLUGINS'

_TRUE = frozenset({'1', 'true', 'yes', 'on'})


class PluginLoadWarning(UserWarning):
    """An installed plugin failed to load and was skipped."""


@dataclasses.dataclass(frozen=True)
class PluginInfo:
    """A registered plugin, as `imbi-toolkit plugins` shows it.

    Attributes:
        name: The name the plugin is registered under (the entry point's).
        distribution: The distribution that installed it, `None` for a
            plugin registered by hand.
        version: That distribution's version.
        hooks: The hooks the plugin implements, sorted.
    """

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class PluginFailure:
    """An entry point that failed to load.

    Attributes:
        name: The entry point's name.
        distribution: The distribution that declared it.
        version: That distribution's version.
        error: The exception, as `Type: message`.
    """

    name: str
    distribution: str
    version: str | None
    error: str


@dataclasses.dataclass(frozen=True, slots=True)
class HookImpl:
    """One plugin's implementation of a hook, ready to call.

    Attributes:
        plugin: The plugin's registered name.
        function: The implementation.
        argnames: The hook arguments it takes, in its own order.
        arguments: Picks those arguments, positionally, out of the hook's
            keyword arguments (built once: this runs around every request).
    """

    plugin: str
    function: abc.Callable[..., object]
    argnames: tuple[str, ...]
    arguments: abc.Callable[[abc.Mapping[str, object]], tuple[object, ...]]


def _picker(
    argnames: tuple[str, ...],
) -> abc.Callable[[abc.Mapping[str, object]], tuple[object, ...]]:
    if len(argnames) >= 2:
        return typing.cast(
            abc.Callable[[abc.Mapping[str, object]], tuple[object, ...]],
            operator.itemgetter(*argnames),
        )
    if argnames:
        name = argnames[0]
        return lambda kwargs: (kwargs[name],)
    return lambda kwargs: ()


def _env_flag(name: str) -> bool:
    return os.environ.get(name, '').strip().lower() in _TRUE


def _normalise(name: str) -> str:
    # PEP 503 normalisation, so `imbi_toolkit_github` matches `imbi-toolkit-github`.
    return re.sub(r'[-_.]+', '-', name.strip()).lower()


def _allow_list_from_env() -> frozenset[str] | None:
    value = os.environ.get(LOAD_PLUGINS_ENV)
    if value is None:
        return None
    return frozenset(_normalise(item) for item in value.split(',') if item.strip())


def _describe(error: BaseException) -> str:
    return f'{type(error).__name__}: {error}'


class PluginManager(pluggy.PluginManager):
    """A pluggy manager for the `imbi_toolkit` hooks.

    Registering a plugin validates it completely: a hook name that matches no
    specification (unless marked `optionalhook`) and `wrapper` hooks (the host
    calls plugins one by one so that it can await each result) raise
    `PluginValidationError` and leave the manager unchanged.

    Args:
        trace: Trace hook calls to stderr. Defaults to
            `IMBI_TOOLKIT_TRACE_PLUGINS`.
    """

    def __init__(self, *, trace: bool | None = None) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.trace_calls = _env_flag(TRACE_PLUGINS_ENV) if trace is None else trace
        self.failures: list[PluginFailure] = []
        self._distributions: dict[str, tuple[str, str | None]] = {}
        # Hook name -> implementations in call order. Built on first use and
        # dropped whenever a plugin comes or goes, so a call costs a lookup.
        self._implementations: dict[str, tuple[HookImpl, ...]] = {}
        # Clients that `imbi_client_created` has already been called for.
        self.prepared_clients: weakref.WeakSet[Imbi] = weakref.WeakSet()

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register a plugin and return its name (`None` when it is blocked).

        Raises:
            PluginValidationError: When the plugin implements a hook that has
                no specification, uses arguments the hook does not have, or
                declares a wrapper. The manager is left unchanged.
            ValueError: When the plugin or its name is already registered.
        """
        label = name or self.get_canonical_name(plugin)
        try:
            registered = super().register(plugin, name)
        except pluggy.PluginValidationError as exc:
            # pluggy's text spans lines and repeats the name; keep one line.
            text = re.sub(r"^Plugin '[^']*' ", '', str(exc)).replace('\n', '; ')
            raise errors.PluginValidationError(label, text) from None
        if registered is None:
            return None
        try:
            self._validate(plugin, registered)
        except errors.PluginValidationError:
            super().unregister(plugin, registered)
            raise
        self._implementations.clear()
        return registered

    def unregister(
        self, plugin: object | None = None, name: str | None = None
    ) -> typing.Any | None:
        """Unregister a plugin by object or name; return it (or `None`)."""
        name = name or (self.get_name(plugin) if plugin is not None else None)
        removed = super().unregister(plugin, name)
        if name is not None:
            self._distributions.pop(name, None)
        self._implementations.clear()
        return removed

    def _validate(self, plugin: object, name: str) -> None:
        for caller in self.get_hookcallers(plugin) or ():
            impls = [impl for impl in caller.get_hookimpls() if impl.plugin is plugin]
            if not caller.has_spec() and not all(impl.optionalhook for impl in impls):
                close = difflib.get_close_matches(caller.name, hookspecs.HOOK_NAMES, 1)
                hint = f'; did you mean {close[0]!r}?' if close else ''
                raise errors.PluginValidationError(
                    name,
                    f'implements unknown hook {caller.name!r}{hint} '
                    f'(known hooks: {", ".join(hookspecs.HOOK_NAMES)})',
                )
            if any(impl.wrapper or impl.hookwrapper for impl in impls):
                raise errors.PluginValidationError(
                    name,
                    f'{caller.name!r} is declared as a wrapper; imbi-toolkit '
                    'hooks do not support wrappers: use the imbi_before_* and '
                    'imbi_after_* hooks instead',
                )

    def implementations(self, hook_name: str) -> tuple[HookImpl, ...]:
        """The implementations of a hook, in the order they are called.

        The order is pluggy's: `tryfirst` first, then the most recently
        registered plugin first, `trylast` last.
        """
        try:
            return self._implementations[hook_name]
        except KeyError:
            pass
        caller: pluggy.HookCaller = getattr(self.hook, hook_name)
        found = tuple(
            HookImpl(
                self.get_name(impl.plugin) or impl.plugin_name,
                impl.function,
                tuple(impl.argnames),
                _picker(tuple(impl.argnames)),
            )
            for impl in reversed(caller.get_hookimpls())
        )
        self._implementations[hook_name] = found
        return found

    def load_entry_points(
        self,
        group: str = ENTRY_POINT_GROUP,
        *,
        allow: abc.Collection[str] | None = None,
        strict: bool | None = None,
    ) -> int:
        """Load and register every plugin declared in an entry-point group.

        Each entry point is loaded on its own. A failure is recorded in
        `failures` with the distribution and the error and warned about with
        `PluginLoadWarning`; the remaining plugins still load.

        Args:
            group: The entry-point group.
            allow: Entry-point or distribution names to load; empty loads
                none. Defaults to `IMBI_TOOLKIT_LOAD_PLUGINS` (all when unset).
            strict: Raise `PluginLoadError` on the first failure. Defaults to
                `IMBI_TOOLKIT_STRICT_PLUGINS`.

        Returns:
            The number of plugins registered.

        Raises:
            PluginLoadError: In strict mode, when a plugin fails to load.
        """
        allowed = (
            _allow_list_from_env()
            if allow is None
            else frozenset(_normalise(item) for item in allow)
        )
        strict = _env_flag(STRICT_PLUGINS_ENV) if strict is None else strict
        seen: set[str] = set()
        count = 0
        for entry_point in importlib.metadata.entry_points(group=group):
            dist = entry_point.dist
            dist_name = dist.metadata['Name'] if dist is not None else '<unknown>'
            version = dist.version if dist is not None else None
            keys = {_normalise(entry_point.name), _normalise(dist_name)}
            if allowed is not None:
                if not keys & allowed:
                    continue
                seen.update(keys & allowed)
            if self.has_plugin(entry_point.name) or self.is_blocked(entry_point.name):
                continue
            try:
                plugin = entry_point.load()
                self.register(plugin, name=entry_point.name)
            except Exception as exc:
                if strict:
                    raise errors.PluginLoadError(
                        entry_point.name, dist_name, exc
                    ) from exc
                failure = PluginFailure(
                    entry_point.name, dist_name, version, _describe(exc)
                )
                self.failures.append(failure)
                warnings.warn(
                    f'imbi-toolkit plugin {entry_point.name!r} from '
                    f'{dist_name} {version} failed to load and was skipped: '
                    f'{failure.error} (set {STRICT_PLUGINS_ENV}=1 to raise)',
                    PluginLoadWarning,
                    stacklevel=2,
                )
                continue
            self._distributions[entry_point.name] = (dist_name, version)
            count += 1
        for missing in sorted((allowed or frozenset()) - seen):
            warnings.warn(
                f'{LOAD_PLUGINS_ENV} names {missing!r}, but no installed '
                f'distribution declares an {group!r} entry point by that name',
                PluginLoadWarning,
                stacklevel=2,
            )
        return count

    def list_plugins(self) -> list[PluginInfo]:
        """Every registered plugin with its distribution, version and hooks."""
        plugins = []
        for name, plugin in self.list_name_plugin():
            if plugin is None:  # blocked
                continue
            hooks = sorted(caller.name for caller in self.get_hookcallers(plugin) or ())
            dist, version = self._distributions.get(name, (None, None))
            plugins.append(PluginInfo(name, dist, version, tuple(hooks)))
        return sorted(plugins, key=lambda info: info.name)


_manager: PluginManager | None = None
_lock = threading.Lock()


def get_plugin_manager() -> PluginManager:
    """The shared plugin manager, with installed plugins loaded on first use.

    Raises:
        PluginLoadError: In strict mode, when a plugin fails to load (the
            next call tries again).
    """
    global _manager  # one manager per process, built lazily
    manager = _manager
    if manager is not None:
        return manager
    with _lock:
        if _manager is None:
            manager = PluginManager()
            manager.load_entry_points()
            _manager = manager
        return _manager
