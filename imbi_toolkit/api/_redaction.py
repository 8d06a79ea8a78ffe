"""Keep tokens out of log records, error text, reprs and tracebacks.

One filter, `RedactingFilter`, is installed (by the client, once per process)
for the loggers that may see a request: ours (`imbi_toolkit` and every logger
below it), httpx's and httpcore's. Because a logger's filters do not apply to
records logged by its children, the filter is also applied through the log
record factory, which sees every record of those loggers whatever handler
or level the application configured.

`Secret` and `SecretBytes` hold a credential so that its repr, str and
pickle show `[REDACTED]`: the client keeps its token in one and sends it in
the other, so a traceback printed with its local variables (Sentry,
`pytest -l`, IPython's verbose mode) cannot show it. `contains_credential`
and `mask_credentials` recognise credential-shaped text whatever its key;
the patch previews and the plugin trace use them.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
import typing
from collections import abc

REDACTED = '[REDACTED]'

# Logger-name prefixes whose records are redacted.
LOGGER_PREFIXES: tuple[str, ...] = ('imbi_toolkit', 'httpx', 'httpcore')

# httpx logs from 'httpx'; httpcore from one logger per module. A filter is
# attached to each of these as well as applied by the record factory.
_KNOWN_LOGGERS: tuple[str, ...] = (
    'imbi_toolkit',
    'httpx',
    'httpcore',
    'httpcore.connection',
    'httpcore.http11',
    'httpcore.http2',
    'httpcore.proxy',
    'httpcore.socks',
)

# Credentials recognisable by their shape: Imbi API keys, GitHub tokens
# (classic `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` and fine-grained
# `github_pat_`), JSON Web Tokens.
_SHAPES = (
    r'\bik_[A-Za-z0-9][A-Za-z0-9_-]{15,}'
    r'|\bgithub_pat_[A-Za-z0-9_]{20,}'
    r'|\bgh[pousr]_[A-Za-z0-9]{20,}'
    r'|\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*'
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # "Authorization: Bearer xyz", "bearer xyz", b'Bearer xyz' in header dumps.
    (
        re.compile(r'(?i)(bearer\s+)(?!\[REDACTED\])[^\s\'",;)\]}]+'),
        rf'\1{REDACTED}',
    ),
    # Credentials in a URL's userinfo: scheme://user:password@host.
    (re.compile(r'(?i)([a-z][a-z0-9+.-]*://)[^/\s@\'"]+@'), rf'\1{REDACTED}@'),
    # Secret-looking query parameters or key=value pairs.
    (
        re.compile(
            r'(?i)\b((?:access_)?token|api[_-]?key|secret|password|client_secret)'
            r'=(?!\[REDACTED\])([^&\s\'"]+?)(?=$|[&\s\'"]|[:,;]\s)'
        ),
        rf'\1={REDACTED}',
    ),
    (re.compile(_SHAPES), REDACTED),
)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
# Short texts known to hold nothing to mask (with the secrets known so far):
# a bulk run's journal redacts the same few details ("patched") thousands of
# times. Only clean texts are kept, so no secret is held here; a new secret
# empties it, as a text clean before may hold that secret.
_clean: set[str] = set()
_CLEAN_MAX = 1024
_CLEAN_TEXT_MAX = 200
_installed = False
_install_lock = threading.Lock()


def register_secret(secret: str) -> None:
    """Redact ``secret`` wherever it appears from now on.

    The client registers its token when it is created, so a token that
    escapes the patterns above (one echoed back by a server in an error body,
    say) is still caught.
    """
    if len(secret) < 4:  # a tiny "secret" would redact ordinary words
        return
    with _secrets_lock:
        if secret not in _secrets:
            _secrets.add(secret)
            _clean.clear()


def redact(text: str) -> str:
    """Return ``text`` with bearer tokens, URL credentials and known secrets masked."""
    if text in _clean:
        return text
    secrets = tuple(_secrets)
    masked = text
    for secret in secrets:
        if secret in masked:
            masked = masked.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        masked = pattern.sub(replacement, masked)
    if masked == text and len(text) <= _CLEAN_TEXT_MAX:
        with _secrets_lock:
            # Checked against the secrets known now: one registered since
            # the check above must not find the text marked clean.
            if len(_secrets) == len(secrets):
                if len(_clean) >= _CLEAN_MAX:
                    _clean.clear()
                _clean.add(text)
    return masked


# Keys whose values are secrets whatever they look like: "api_token",
# "password", "passwd", "client-secret", "apiKey", "Authorization", "Cookie"...
_SECRET_KEY = re.compile(
    r'token|passw|passphrase|secret|api[-_ ]?key|private|credential|'
    r'authori[sz]ation|cookie|session[-_ ]?id|bearer',
    re.IGNORECASE,
)


def is_secret_key(key: object) -> bool:
    """Tell whether a key (a header, a field, a JSON pointer token) names a secret."""
    return isinstance(key, str) and _SECRET_KEY.search(key) is not None


def mask_secrets(
    value: object, mask: str = REDACTED, *, budget: int | None = None
) -> object:
    """A copy of ``value`` for display, with its secrets replaced by ``mask``.

    Values under keys that name secrets (`is_secret_key`) are masked whole;
    credentials in any other text (`mask_credentials`) are masked in place.
    Mappings (`httpx.Headers` too) become dicts, lists and tuples lists.

    Args:
        value: What to show: JSON-like data, headers, hook arguments.
        mask: What replaces a secret.
        budget: How many nodes to copy at most (None: all); the rest
            becomes `'…'`.
    """
    limited = budget is not None
    remaining = [budget or 0]

    def walk(node: object) -> object:
        if limited:
            remaining[0] -= 1
            if remaining[0] < 0:
                return '…'
        if isinstance(node, abc.Mapping):
            return {
                key: mask if is_secret_key(key) else walk(child)
                for key, child in node.items()
            }
        if isinstance(node, list | tuple):
            return [walk(child) for child in node]
        if isinstance(node, str):
            return mask_credentials(node, mask)
        return node

    return walk(value)


def contains_credential(value: object) -> bool:
    """Tell whether ``value`` is text holding something `redact` would mask.

    That is a bearer token, URL credentials (`user:password@`), a
    `token=...`-style pair, a credential-shaped value (`ik_...`, `ghp_...`,
    `github_pat_...`, a JWT) or a token a client was created with.
    """
    return isinstance(value, str) and redact(value) != value


def mask_credentials(text: str, mask: str = REDACTED) -> str:
    """Return ``text`` with its credentials (as `redact` finds them) as ``mask``."""
    masked = redact(text)
    if masked == text or mask == REDACTED:
        return masked
    return masked.replace(REDACTED, mask)


class Secret:
    """A credential whose repr, str and pickle never show it.

    Args:
        value: The credential.

    Example:
        >>> token = Secret('ik_...')
        >>> token
        Secret('[REDACTED]')
        >>> token.reveal()
        'ik_...'
    """

    __slots__ = ('_value',)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the credential itself (keep it out of variables that live on)."""
        return self._value

    def __repr__(self) -> str:
        return f'{type(self).__name__}({REDACTED!r})'

    __str__ = __repr__

    def __reduce__(self) -> tuple[typing.Any, ...]:
        # A pickle (a multiprocessing queue, a cache) carries the mask only.
        return (type(self), (REDACTED,))


class SecretBytes(bytes):
    """Bytes sent as they are, whose repr, str and pickle are masked.

    The client's `Authorization` header value is one: httpx keeps it in the
    headers' raw list unchanged, so every list of raw headers shows
    `b'[REDACTED]'` in a traceback, while the wire gets the real bytes.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(REDACTED.encode())

    __str__ = __repr__

    def __reduce__(self) -> tuple[typing.Any, ...]:
        return (bytes, (REDACTED.encode(),))

    def __copy__(self) -> SecretBytes:
        return self

    def __deepcopy__(self, memo: object) -> SecretBytes:
        return self


def _is_ours(name: str) -> bool:
    return any(
        name == prefix or name.startswith(prefix + '.') for prefix in LOGGER_PREFIXES
    )


class RedactingFilter(logging.Filter):
    """Rewrite a record's message, arguments and traceback without secrets.

    The record is never dropped: the filter only masks text, so a record
    keeps its level and logger and the application still sees it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def redact_record(record: logging.LogRecord) -> None:
    """Mask secrets in ``record`` in place (idempotent).

    A record without secrets is left as it was (its `msg` and `args` too);
    one with a secret gets its formatted, masked message as `msg` and no
    `args`.
    """
    if getattr(record, '_imbi_redacted', False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: mask the raw parts instead
        message = f'{record.msg} {record.args!r}'
    masked = redact(message)
    if masked != message:
        record.msg = masked
        record.args = None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        text = ''.join(traceback.format_exception(*record.exc_info)).rstrip('\n')
        if redact(text) != text:
            # Formatters use exc_text, when set, instead of formatting again.
            record.exc_text = redact(text)
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._imbi_redacted = True


_FILTER = RedactingFilter()


def install() -> None:
    """Install the redacting filter once per process (safe to call often)."""
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        for name in _KNOWN_LOGGERS:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
        previous = logging.getLogRecordFactory()

        def factory(*args: typing.Any, **kwargs: typing.Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _is_ours(record.name):
                redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
