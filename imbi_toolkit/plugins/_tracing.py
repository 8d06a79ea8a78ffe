"""Trace lines for `IMBI_TOOLKIT_TRACE_PLUGINS=1`, with secrets redacted.

A trace line shows a hook, the plugin, the arguments it took and its result
(or error), masked by `imbi_toolkit.api._redaction.mask_secrets` (the rules
the patch previews use): values under keys that name secrets
(`authorization`, `token`, `password`, ...) and credential-shaped values
anywhere (bearer tokens, URL credentials, `ik_...` API keys, GitHub tokens,
JWTs, every token a client was created with). The whole text then goes
through `imbi_toolkit.api._redaction.redact` as well.
"""

from __future__ import annotations

import sys
import typing
from collections import abc

from imbi_toolkit.api import _redaction as redaction

REDACTED = redaction.REDACTED

# Longest rendering of one value; bodies can be large.
_MAX_VALUE_CHARS = 400


def render(value: object) -> str:
    """Render a value for a trace line, with secrets removed."""
    text = redaction.redact(repr(redaction.mask_secrets(value)))
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
