"""Recognise values that must never be shown: tokens, passwords, keys.

The rules are `imbi_toolkit.api._redaction`'s, shared with the plugin trace:
values under keys that name secrets, and credential-shaped text anywhere
(bearer tokens, URL credentials, Imbi API keys, GitHub tokens, JWTs, the
tokens clients were created with).
"""

from __future__ import annotations

import typing

MASK = '••••••'


def _redaction() -> typing.Any:
    # Imported on use: `imbi_toolkit.api` brings httpx and pydantic.
    from imbi_toolkit.api import _redaction as redaction

    return redaction


def is_secret_key(key: object) -> bool:
    """Tell whether a key (or pointer token) names a secret."""
    return bool(_redaction().is_secret_key(key))


def is_secret_value(value: object) -> bool:
    """Tell whether a value holds a credential whatever its key."""
    return bool(_redaction().contains_credential(value))


def masked(value: object, budget: int = 2000) -> object:
    """A copy of `value` for display, with secrets replaced by `MASK`.

    Values under secret keys are masked whole; credentials inside other
    text (`https://user:••••••@host`, `Bearer ••••••`) in place.

    Args:
        value: A JSON value.
        budget: How many nodes to copy at most; the rest becomes `'…'` (a
            preview shortens long values anyway).
    """
    return _redaction().mask_secrets(value, MASK, budget=budget)


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
