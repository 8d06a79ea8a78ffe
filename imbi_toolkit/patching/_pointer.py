"""JSON Pointer (RFC 6901) escaping, joining and splitting."""

from __future__ import annotations

import typing
from collections import abc

Token: typing.TypeAlias = str | int


def escape(token: Token) -> str:
    """Escape one reference token: `~` becomes `~0` and `/` becomes `~1`.

    Examples:
        >>> escape('a/b~c')
        'a~1b~0c'
    """
    text = str(token)
    # `~` first, or the `~` of a fresh `~1` would be escaped again.
    return text.replace('~', '~0').replace('/', '~1')


def unescape(token: str) -> str:
    """Undo `escape`: `~1` becomes `/` and `~0` becomes `~`."""
    return token.replace('~1', '/').replace('~0', '~')


def join(*tokens: Token) -> str:
    """Build a pointer from unescaped tokens.

    Examples:
        >>> join('links', 'github/repo')
        '/links/github~1repo'
        >>> join()
        ''
    """
    return ''.join('/' + escape(token) for token in tokens)


def split(pointer: str) -> list[str]:
    """Split a pointer into its unescaped tokens.

    Raises:
        ValueError: When the pointer is not empty and does not start with
            `/`, or contains a `~` that is not followed by `0` or `1`.
    """
    if pointer == '':
        return []
    if not pointer.startswith('/'):
        raise ValueError(f'pointer {pointer!r} must start with "/"')
    tokens = pointer[1:].split('/')
    if '~' not in pointer:
        return tokens  # nothing escaped (the usual pointer)
    for token in tokens:
        if '~' in token and not _valid_tildes(token):
            raise ValueError(
                f'pointer {pointer!r} has a "~" not followed by 0 or 1; '
                'write "~" as "~0" and "/" as "~1" inside a key'
            )
    return [unescape(token) for token in tokens]


def as_pointer(path: str | abc.Sequence[Token]) -> str:
    """Accept a pointer string or a sequence of unescaped tokens."""
    if isinstance(path, str):
        return path
    return join(*path)


def _valid_tildes(token: str) -> bool:
    index = token.find('~')
    while index != -1:
        if token[index + 1 : index + 2] not in ('0', '1'):
            return False
        index = token.find('~', index + 2)
    return True
