"""When a request may be sent again, and how long to wait first.

This module is the one place that knows which Imbi operations are safe to
repeat (docs/imbi-api.md#retries):

- reads (GET, HEAD, OPTIONS) and creating a release are *idempotent*: they
  are retried on connection errors and timeouts and on 429, 502, 503 and 504.
  A repeated create that meets 409 means the first one worked; the client's
  `ensure_release` then looks the release up.
- a PATCH that is replay-safe (`imbi_toolkit.patching.replay_safe`: every
  insert, removal, move or copy guarded by a `test` of what it changes, as
  `diff(tests=True)` makes them) is idempotent too: replayed after it was
  applied, a guard fails cleanly with 422, or it changes nothing again.
- every other write, recording a deployment above all (the server appends
  one event per POST), is retried only when the request certainly never left
  the client: connection refused, connect timeout, pool timeout.

A 409 is a conflict, never retried. The delay grows exponentially with
jitter, is capped, and honours `Retry-After` (capped too).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import json
import random
import typing
from collections import abc

import httpx

from imbi_toolkit.api import errors

# Request extension a helper sets to choose the mode explicitly.
EXTENSION = 'imbi_retry'

Mode = typing.Literal['idempotent', 'unsent-only', 'never']

IDEMPOTENT: typing.Final = 'idempotent'
UNSENT_ONLY: typing.Final = 'unsent-only'
NEVER: typing.Final = 'never'

RETRY_STATUSES = frozenset({429, 502, 503, 504})
_READ_METHODS = frozenset({'GET', 'HEAD', 'OPTIONS'})


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """Bounds and timing of retries.

    Attributes:
        max_retries: Retries after the first attempt (0 disables retrying).
        backoff: Delay before the first retry, in seconds; doubled each time.
        max_backoff: Cap of the exponential delay, in seconds.
        max_retry_after: Cap of a server's `Retry-After`, in seconds. A longer
            wait is cut to this, so an interactive call never hangs for long.
        jitter: Fraction of the delay drawn at random (0.25: 75-100 %).
    """

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError('max_retries must be 0 or more')
        if min(self.backoff, self.max_backoff, self.max_retry_after) < 0:
            raise ValueError('backoff delays must not be negative')
        if not 0 <= self.jitter <= 1:
            raise ValueError('jitter must be between 0 and 1')

    def delay(self, attempt: int, response: httpx.Response | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first)."""
        if response is not None:
            retry_after = errors.parse_retry_after(response.headers.get('retry-after'))
            if retry_after is not None:
                return min(retry_after, self.max_retry_after)
        exponential = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return exponential * (1 - self.jitter * random.random())  # noqa: S311


def _replay_safe_patch(request: httpx.Request) -> bool:
    try:
        body = json.loads(request.content)
    except (ValueError, httpx.RequestNotRead):
        return False
    if not isinstance(body, list):
        return False
    from imbi_toolkit.patching import replay_safe

    return replay_safe(body)


# The mode the operations layer chose for the writes sent inside `chosen()`.
_CHOSEN: contextvars.ContextVar[Mode | None] = contextvars.ContextVar(
    'imbi_retry_mode', default=None
)


@contextlib.contextmanager
def chosen(mode: Mode) -> abc.Iterator[None]:
    """Retry the requests sent inside the block under ``mode``.

    The operations layer knows more than a request shows: that the server
    de-duplicates a deployment event by its `external_run_id`, say. It wraps
    the seed helper's call in this instead of changing the helper.
    """
    token = _CHOSEN.set(mode)
    try:
        yield
    finally:
        _CHOSEN.reset(token)


def mode_of(request: httpx.Request) -> Mode:
    """Decide how ``request`` may be retried."""
    chosen_mode = _CHOSEN.get()
    if chosen_mode is not None:
        return chosen_mode
    explicit = request.extensions.get(EXTENSION)
    if explicit in (IDEMPOTENT, UNSENT_ONLY, NEVER):
        return typing.cast(Mode, explicit)
    if request.method in _READ_METHODS:
        return IDEMPOTENT
    if request.method == 'PATCH' and _replay_safe_patch(request):
        return IDEMPOTENT
    return UNSENT_ONLY


def replayable(request: httpx.Request) -> bool:
    """Whether the request body can be sent again (not a one-shot stream)."""
    return isinstance(request.stream, httpx.ByteStream)


def retry_on_error(mode: Mode, exc: Exception) -> bool:
    """Whether a transport error may be retried under ``mode``."""
    if mode == NEVER or not isinstance(exc, httpx.TransportError):
        return False
    if errors.never_sent(exc):
        return True
    return mode == IDEMPOTENT and isinstance(
        exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError
    )


def retry_on_response(mode: Mode, response: httpx.Response) -> bool:
    """Whether a response's status may be retried under ``mode``."""
    return mode == IDEMPOTENT and response.status_code in RETRY_STATUSES
