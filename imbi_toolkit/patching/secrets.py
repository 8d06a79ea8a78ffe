"""Recognise values that must never be shown: tokens, passwords, keys."""

from __future__ import annotations

import re
import typing

MASK = '••••••'

# Keys such as "api_token", "password", "client-secret", "apiKey", "Authorization".
_SECRET_KEY = re.compile(
    r'token|passw(?:or)?d|passphrase|secret|api[-_ ]?key|private[-_ ]?key|'
    r'credential|authori[sz]ation|cookie|session[-_ ]?id|bearer',
    re.IGNORECASE,
)
# Values that are secrets whatever their key: Imbi API keys, JWTs, bearer
# headers, GitHub tokens.
_SECRET_VALUE = re.compile(
    r'^(?:ik_[0-9a-f]{32}_|eyJ[\w-]+\.[\w-]+\.|bearer\s+\S|gh[pousr]_[A-Za-z0-9]{20})',
    re.IGNORECASE,
)


def is_secret_key(key: object) -> bool:
    """Tell whether a key (or pointer token) names a secret."""
    return isinstance(key, str) and _SECRET_KEY.search(key) is not None


def is_secret_value(value: object) -> bool:
    """Tell whether a string looks like a credential whatever its key."""
    return isinstance(value, str) and _SECRET_VALUE.match(value) is not None


def masked(value: object, budget: int = 2000) -> object:
    """A copy of `value` for display, with secret values replaced by `MASK`.

    Args:
        value: A JSON value.
        budget: How many nodes to copy at most; the rest becomes `'…'` (a
            preview shortens long values anyway).
    """
    remaining = [budget]

    def walk(node: object) -> object:
        remaining[0] -= 1
        if remaining[0] < 0:
            return '…'
        if isinstance(node, dict):
            return {
                key: MASK if is_secret_key(key) else walk(child)
                for key, child in typing.cast(dict[object, object], node).items()
            }
        if isinstance(node, list):
            return [walk(child) for child in typing.cast(list[object], node)]
        if is_secret_value(node):
            return MASK
        return node

    return walk(value)


def masked_operation(operation: typing.Mapping[str, object]) -> dict[str, object]:
    """A copy of an operation for display: a value at a secret path is masked."""
    shown = dict(operation)
    if 'value' in shown:
        pointers = [shown.get('path'), shown.get('from')]
        secret = any(
            is_secret_key(token)
            for pointer in pointers
            if isinstance(pointer, str)
            for token in pointer.split('/')
        )
        shown['value'] = MASK if secret else masked(shown['value'])
    return shown
