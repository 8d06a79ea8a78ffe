"""Tab completion for `%imbi` lines.

Completes the commands and their options (read from the magic's own parser),
project slugs and ids, environment slugs (also after `plan --deploy`),
deployment statuses, the tags of the project named on the line, and the
variables filled by `%imbi fetch` or `%imbi plan`.
Listings come from the API through the magics' client and are cached for
`CACHE_SECONDS` (60 s), so pressing Tab twice asks the server once; a
listing that fails (not connected yet, a bad token) completes nothing rather
than raising inside the completer.
"""

from __future__ import annotations

import time
import typing
from collections import abc

from IPython.core.error import TryNext, UsageError

from imbi_toolkit.magics import _arguments as arguments
from imbi_toolkit.types import DEPLOYMENT_STATUSES, JSONObject

if typing.TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from imbi_toolkit.magics._core import ImbiMagics
    from imbi_toolkit.operations import Toolkit

#: How long a listing (projects, environments, tags) is reused, in seconds.
CACHE_SECONDS = 60.0

T = typing.TypeVar('T')

# Where a command takes a project reference, and after which options.
_PROJECT_POSITION = {'fetch': 0, 'release': 0, 'deploy': 0}
_PROJECT_OPTIONS = frozenset({'--project'})
_TAG_OPTIONS = frozenset({'--tag'})
_FILTER_OPTIONS = frozenset({'--filter'})
# Options whose value is an environment slug, and a deployment status.
_ENVIRONMENT_OPTIONS = frozenset({'--deploy'})
_STATUS_OPTIONS = frozenset({'--status'})
# The operators of `filter=field:op[:value]` (docs/imbi-api.md#filters).
_FILTER_OPS = ('eq', 'ne', 'in', 'not_in', 'exists', 'not_exists')
_KEYS = ('%imbi', '%%imbi')


class Completer:
    """The `complete_command` hook of `%imbi` (see `register`)."""

    def __init__(self, magics: ImbiMagics) -> None:
        self.magics = magics
        self._cache: dict[tuple[str, ...], tuple[float, typing.Any]] = {}

    def __call__(self, shell: object, event: typing.Any) -> list[str]:
        try:
            words = arguments.split(event.text_until_cursor)
        except UsageError:  # an open quote: nothing sensible to offer
            raise TryNext from None
        if event.text_until_cursor.endswith((' ', '\t')):
            words.append('')
        words = words[1:]  # the magic's own name
        matches = self.matches(words)
        if not matches:
            raise TryNext
        return matches

    def matches(self, words: list[str]) -> list[str]:
        """What may stand in place of the last of `words` (after `%imbi`)."""
        if len(words) <= 1:
            return _commands()
        command, *rest = words
        current = rest[-1]
        previous = rest[-2] if len(rest) > 1 else ''
        if current.startswith('-'):
            return _options(command)
        if previous in _TAG_OPTIONS:
            return self._tags(command, rest)
        if previous in _PROJECT_OPTIONS:
            return self._projects()
        if previous in _FILTER_OPTIONS:
            return self._filters(current)
        if previous in _ENVIRONMENT_OPTIONS:
            return self._environments()
        if previous in _STATUS_OPTIONS:
            return list(DEPLOYMENT_STATUSES)
        positionals = [w for w in rest[:-1] if not w.startswith('-')]
        # A positional directly after an option taking a value is its value.
        position = len(positionals)
        if command == 'help' and position == 0:
            return _commands()
        if command in ('diff', 'patch') and position == 0:
            return self.magics.snapshots.names()
        if command == 'apply' and position == 0:
            return self._plans()
        if _PROJECT_POSITION.get(command) == position:
            return [*self.magics.snapshots.names(), *self._projects()]
        if command == 'deploy' and position == 1:
            return self._environments()
        return []

    # -- listings ------------------------------------------------------------

    def _cached(self, key: tuple[str, ...], load: abc.Callable[[], T], empty: T) -> T:
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return typing.cast(T, hit[1])
        try:
            values = load()
        except Exception:  # a completer must never raise
            return empty
        self._cache[key] = (now, values)
        return values

    def _org(self) -> str:
        return self.magics._org(None)

    def _projects(self) -> list[str]:
        def load() -> list[str]:
            org = self._org()
            rows = self.magics._call(
                lambda tk: tk.client.list_projects(org, {'slim': 'true'})
            )
            slugs = [str(row['slug']) for row in rows if row.get('slug')]
            return sorted(slugs) + sorted(str(row['id']) for row in rows)

        return self._cached(('projects',), load, [])

    def _environments(self) -> list[str]:
        def load() -> list[str]:
            org = self._org()
            rows = self.magics._call(lambda tk: tk.client.list_environments(org))
            return sorted(str(row['slug']) for row in rows if row.get('slug'))

        return self._cached(('environments',), load, [])

    def _tags(self, command: str, rest: list[str]) -> list[str]:
        positionals = [w for w in rest if not w.startswith('-')]
        if command not in _PROJECT_POSITION or not positionals:
            return []
        ref = positionals[0]

        def load() -> list[str]:
            org, project_id, _ = self.magics._resolve_project(ref, None)
            releases = self.magics._call(
                lambda tk: tk.client.list_releases(org, project_id)
            )
            return [str(r['tag']) for r in releases if r.get('tag')]

        return self._cached(('tags', ref), load, [])

    def _attributes(self) -> dict[str, JSONObject]:
        """Blueprint attributes of the organization's projects, from their schemas.

        One schema per project type (of the first project of that type):
        the attributes a filter can name.
        """

        def load() -> dict[str, JSONObject]:
            org = self._org()

            async def schemas(tk: Toolkit) -> dict[str, JSONObject]:
                rows = await tk.client.list_projects(org, {'slim': 'true'})
                seen: dict[str, str] = {}
                for row in rows:
                    for kind in row.get('project_types') or ():
                        seen.setdefault(str(kind.get('slug')), str(row['id']))
                found: dict[str, JSONObject] = {}
                for project_id in seen.values():
                    schema = await tk.client.get_project_schema(org, project_id)
                    for section in (schema or {}).get('sections') or ():
                        for name, spec in (section.get('properties') or {}).items():
                            _merge(found, name, spec)
                return found

            return self.magics._call(schemas)

        return self._cached(('attributes',), load, {})

    def _filters(self, current: str) -> list[str]:
        # IPython completes the text after the last `:` (a delimiter for
        # it), so operators and values are offered without what precedes.
        field, colon, rest = current.partition(':')
        attributes = self._attributes()
        if not colon:
            return sorted(f'{name}:' for name in attributes)
        _op, colon, _value = rest.partition(':')
        if not colon:
            return list(_FILTER_OPS)
        enum = attributes.get(field, {}).get('enum')
        if isinstance(enum, list):
            return [value for value in enum if isinstance(value, str)]
        return []

    def _plans(self) -> list[str]:
        from imbi_toolkit.bulk import Plan

        namespace = self.magics.shell.user_ns if self.magics.shell else {}
        return sorted(
            name for name, value in namespace.items() if isinstance(value, Plan)
        )


def _merge(found: dict[str, JSONObject], name: str, spec: JSONObject) -> None:
    # One attribute may be declared by several blueprints (one per project
    # type), with different allowed values: offer them all.
    known = found.setdefault(name, dict(spec))
    enums = [known.get('enum'), spec.get('enum')]
    if all(isinstance(enum, list) for enum in enums):
        known['enum'] = list(dict.fromkeys([*enums[0], *enums[1]]))  # type: ignore[misc]


def _commands() -> list[str]:
    from imbi_toolkit.magics._core import _parser

    return sorted(_subparsers(_parser()))


def _options(command: str) -> list[str]:
    from imbi_toolkit.magics._core import _parser

    parser = _subparsers(_parser()).get(command)
    if parser is None:
        return []
    return sorted(
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith('--')
    )


def _subparsers(parser: typing.Any) -> dict[str, typing.Any]:
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        choices = getattr(action, 'choices', None)
        if choices:
            return dict(choices)
    return {}


def register(shell: InteractiveShell, magics: ImbiMagics) -> Completer:
    """Complete `%imbi` and `%%imbi` lines in `shell`."""
    completer = Completer(magics)
    for key in _KEYS:
        shell.set_hook('complete_command', completer, str_key=key)  # type: ignore[no-untyped-call]
    return completer


def unregister(shell: InteractiveShell, completer: Completer) -> None:
    """Remove what `register` added (for `%unload_ext`)."""
    dispatcher = shell.strdispatchers.get('complete_command')
    if dispatcher is None:
        return
    for key in _KEYS:
        chain = dispatcher.strs.get(key)
        if chain is None:
            continue
        chain.chain = [
            (priority, hook)
            for priority, hook in chain.chain
            if getattr(hook, '__func__', hook) is not completer
            and getattr(hook, '__self__', None) is not completer
        ]
        if not chain.chain:
            del dispatcher.strs[key]
