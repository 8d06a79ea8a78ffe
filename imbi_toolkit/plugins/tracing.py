"""Trace lines for `IMBI_TOOLKIT_TRACE_PLUGINS=1`, with secrets redacted.

A trace line shows a hook, the plugin, the arguments it took and its result
(or error). Values under keys that name secrets (`authorization`, `token`,
`password`, ...) are replaced, and so is any bearer token the arguments'
client sends, wherever it appears in the text.
"""

from __future__ import annotations

import re
import sys
import typing
from collections import abc

import httpx

REDACTED = '[REDACTED]'

# Longest rendering of one value; bodies can be large.
_MAX_VALUE_CHARS = 400

_SECRET_KEY = re.compile(
    r'authorization|token|secret|passw|api[-_]?key|cookie|credential|private',
    re.IGNORECASE,
)
_BEARER = re.compile(r'(?i)\b(bearer|basic|token)\s+[^\s\'"]+')


def _client_secrets(arguments: abc.Mapping[str, object]) -> list[str]:
    secrets = []
    for value in arguments.values():
        if isinstance(value, httpx.AsyncClient | httpx.Client):
            header = value.headers.get('authorization', '')
            scheme, _, credential = header.partition(' ')
            for secret in (header, credential or scheme):
                if secret:
                    secrets.append(secret)
    return secrets


def _scrub(value: object) -> object:
    if isinstance(value, abc.Mapping | httpx.Headers):
        return {
            key: REDACTED
            if isinstance(key, str) and _SECRET_KEY.search(key)
            else _scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def render(value: object, secrets: abc.Iterable[str] = ()) -> str:
    """Render a value for a trace line, with secrets removed."""
    text = repr(_scrub(value))
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    text = _BEARER.sub(lambda match: f'{match.group(1)} {REDACTED}', text)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[:_MAX_VALUE_CHARS] + '…'
    return text


def trace_call(
    hook: str,
    plugin: str,
    arguments: abc.Mapping[str, object],
    *,
    result: object = None,
    error: BaseException | None = None,
    stream: typing.TextIO | None = None,
) -> None:
    """Write one trace line for a hook call to stderr."""
    secrets = _client_secrets(arguments)
    args = ', '.join(f'{name}={render(v, secrets)}' for name, v in arguments.items())
    if error is not None:
        outcome = f'raised {type(error).__name__}: {render(str(error), secrets)}'
    else:
        outcome = f'-> {render(result, secrets)}'
    print(
        f'imbi-toolkit trace: {hook} [{plugin}]({args}) {outcome}',
        file=stream or sys.stderr,
        flush=True,
    )
