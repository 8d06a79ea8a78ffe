"""Trace lines for `IMBI_TOOLKIT_TRACE_PLUGINS=1`, with secrets redacted.

A trace line shows a hook, the plugin, the arguments it took and its result
(or error). Values under keys that name secrets (`authorization`, `token`,
`password`, ...) are replaced, and the text then goes through
`imbi_toolkit.api.redaction.redact`, which masks bearer tokens, URL
credentials and every token a client was created with.
"""

from __future__ import annotations

import re
import sys
import typing
from collections import abc

import httpx

from imbi_toolkit.api import redaction

REDACTED = redaction.REDACTED

# Longest rendering of one value; bodies can be large.
_MAX_VALUE_CHARS = 400

_SECRET_KEY = re.compile(
    r'authorization|token|secret|passw|api[-_]?key|cookie|credential|private',
    re.IGNORECASE,
)


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


def render(value: object) -> str:
    """Render a value for a trace line, with secrets removed."""
    text = redaction.redact(repr(_scrub(value)))
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
    args = ', '.join(f'{name}={render(value)}' for name, value in arguments.items())
    if error is not None:
        outcome = f'raised {type(error).__name__}: {render(str(error))}'
    else:
        outcome = f'-> {render(result)}'
    print(
        f'imbi-toolkit trace: {hook} [{plugin}]({args}) {outcome}',
        file=stream or sys.stderr,
        flush=True,
    )
