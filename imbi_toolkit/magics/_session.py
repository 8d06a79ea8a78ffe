"""The magics' connection: settings, and one client living on the background loop.

The client is created on first use, inside the background loop (an
`httpx.AsyncClient` belongs to the loop that first uses it), and reused by
every magic until the settings change or the extension is unloaded:
creating one costs 16-28 ms (docs/speed.md#start-up).
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import json
import os
import pathlib
import typing
from collections import abc

from imbi_toolkit.magics import _loop as loop_module

if typing.TYPE_CHECKING:
    import httpx

    from imbi_toolkit.api import Imbi, Settings

T = typing.TypeVar('T')

TOKEN_VARIABLE = 'IMBI_CLIENT_API_TOKEN'  # noqa: S105 - a variable's name
_PREFIX = 'IMBI_CLIENT_'
# Keys the fingerprint's hash, so that it tells nothing about the token.
_FINGERPRINT_KEY = os.urandom(16)

# The last response the magics' client received in the current call.
_last_response: contextvars.ContextVar[httpx.Response | None] = contextvars.ContextVar(
    'imbi_toolkit_magics_last_response', default=None
)
# Errors of code that read a response body of an unexpected shape.
_SHAPE_ERRORS = (KeyError, TypeError, AttributeError, IndexError)
_PACKAGE = str(pathlib.Path(__file__).resolve().parents[1])


def environment_fingerprint(token_env: str = '') -> str:
    """A keyed hash of what `Settings` reads: `IMBI_CLIENT_*`, `.env`, the token.

    It changes when any of them does, so the magics notice `%env` and an
    edited `.env` and reconnect; it is keyed with a random per-process key
    and holds no value itself (the token is never kept).

    Args:
        token_env: Another variable holding the token (`--token-env`).
    """
    digest = hashlib.blake2b(key=_FINGERPRINT_KEY, digest_size=16)
    for name in sorted(os.environ):
        # Settings matches the prefix case-insensitively.
        if name.upper().startswith(_PREFIX) or name == token_env:
            digest.update(f'{name}\0{os.environ[name]}\0'.encode())
    try:
        digest.update(pathlib.Path('.env').read_bytes())
    except OSError:
        digest.update(b'\0no .env')
    return digest.hexdigest()


class ConfigurationError(ValueError):
    """The settings are incomplete or invalid (the message says which and how)."""


class Overrides(typing.NamedTuple):
    """Values that take precedence over `Settings` (traits, magic options).

    Empty or `None` values fall back to `IMBI_CLIENT_*`, `.env` and the
    `Settings` defaults. `token_env` names the environment variable that
    holds the token, so the token itself never passes through a magic line
    or `%config`.
    """

    base_url: str = ''
    timeout: float | None = None
    max_retries: int | None = None
    token_env: str = ''


def load_settings(overrides: Overrides) -> Settings:
    """Build `Settings` from the environment, `.env` and the overrides.

    Raises:
        ConfigurationError: When the token is missing, a value is invalid or
            the base URL carries credentials; the message never contains the
            token or the credentials.
    """
    import pydantic

    from imbi_toolkit.api import Settings

    values: dict[str, typing.Any] = {}
    if overrides.base_url:
        values['api_base_url'] = overrides.base_url
    if overrides.timeout is not None:
        values['timeout'] = overrides.timeout
    if overrides.max_retries is not None:
        values['max_retries'] = overrides.max_retries
    if overrides.token_env:
        token = os.environ.get(overrides.token_env)
        if not token:
            raise ConfigurationError(
                f'environment variable {overrides.token_env} is not set or empty: '
                'set it to the Imbi API token'
            )
        values['api_token'] = token
    try:
        settings = Settings(**values)
    except pydantic.ValidationError as exc:
        raise ConfigurationError(_describe(exc)) from None
    url = settings.api_base_url
    if url.username or url.password:
        # httpx would send them as Basic authentication instead of the
        # token, and `%config` would show them: refuse before either.
        raise ConfigurationError(
            'the base URL must not contain credentials (user:password@): the '
            f'magics authenticate with the token in {TOKEN_VARIABLE} (or the '
            'variable --token-env names); remove them from the URL'
        )
    return settings


def _describe(exc: typing.Any) -> str:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        field = '.'.join(str(part) for part in error['loc'])
        if field == 'api_token' and error['type'] == 'missing':
            problems.append(
                f'no Imbi API token: set {TOKEN_VARIABLE} (in the environment or '
                'a .env file) or name another variable with --token-env'
            )
        elif field == 'api_base_url':
            problems.append(f'invalid base URL: {error["msg"]}')
        else:
            problems.append(f'{field}: {error["msg"]}')
    return '; '.join(problems) or 'invalid Imbi settings'


class Session:
    """Owns the background loop and the magics' client.

    Args:
        overrides: Returns the current overrides; called whenever the
            settings are (re)loaded, so configuration changes apply to the
            next call.

    Examples:
        >>> session = Session(lambda: Overrides(base_url='http://127.0.0.1:8000'))
        >>> me = session.call(lambda client: client.get('/users/me'))
        >>> session.close()
    """

    def __init__(self, overrides: abc.Callable[[], Overrides] = Overrides) -> None:
        self._overrides = overrides
        self._loop = loop_module.BackgroundLoop()
        self._client: Imbi | None = None
        self._settings: Settings | None = None
        self.last_response: httpx.Response | None = None

    def __repr__(self) -> str:
        return f'<{type(self).__name__} client={self._client!r}>'

    @property
    def loop(self) -> loop_module.BackgroundLoop:
        """The background loop every call runs on."""
        return self._loop

    @property
    def connected(self) -> bool:
        """Whether a client exists (it is created on first use)."""
        return self._client is not None

    @property
    def settings(self) -> Settings:
        """The settings in use, loaded on first access.

        Raises:
            ConfigurationError: When the settings are incomplete or invalid.
        """
        if self._settings is None:
            self._settings = load_settings(self._overrides())
        return self._settings

    def reset(self) -> None:
        """Forget the settings and close the client: the next call reloads them."""
        self.disconnect()
        self._settings = None

    def call(self, work: abc.Callable[[Imbi], abc.Awaitable[T]]) -> T:
        """Run `work(client)` on the background loop and return its result.

        The last response it received is kept in `last_response`, so that
        an error reading it can name its status and content type.
        """
        settings = self.settings

        async def job() -> T:
            # A task of its own: the last response is this call's.
            _last_response.set(None)
            try:
                return await work(self._ensure_client(settings))
            finally:
                self.last_response = _last_response.get() or self.last_response

        return self._loop.run(job())

    def _ensure_client(self, settings: Settings) -> Imbi:
        # Runs in the loop's thread, so the client is bound to that loop.
        if self._client is None:
            self._client = _recording_client().from_settings(settings)
        return self._client

    def disconnect(self) -> None:
        """Close the client (if any); the next call creates a new one."""
        client, self._client = self._client, None
        if client is not None:
            self._loop.run(client.aclose())

    def close(self) -> None:
        """Close the client and stop the background loop for good."""
        client, self._client = self._client, None

        async def finalize() -> None:
            if client is not None:
                await client.aclose()

        self._loop.close(finalize)


@functools.cache
def _recording_client() -> type[Imbi]:
    """`Imbi`, remembering the last response of each call (for its errors)."""
    from imbi_toolkit.api import Imbi

    class RecordingImbi(Imbi):
        async def send(
            self, request: httpx.Request, **kwargs: typing.Any
        ) -> httpx.Response:
            response = await super().send(request, **kwargs)
            _last_response.set(response)
            return response

    RecordingImbi.__name__ = RecordingImbi.__qualname__ = 'Imbi'
    return RecordingImbi


def unexpected_body(
    exc: Exception, response: httpx.Response | None
) -> Exception | None:
    """The one-line error for reading a 2xx body the Imbi API would not send.

    The client's typed readers already raise `UnexpectedResponseError` for a
    body of the wrong kind; this catches what they cannot see: a decoding
    error, or a field or item missing where the toolkit's own code looks it
    up, right after a 2xx answer (a proxy's login page, a wrong base URL).

    Returns:
        The error to raise instead of ``exc``, or `None` to keep ``exc``.
    """
    if response is None or not response.is_success:
        return None
    from imbi_toolkit.api import errors

    if isinstance(exc, errors.ImbiError):
        return None  # typed, and one line already
    try:
        response.json()
    except ValueError:
        what = 'not JSON'
    else:
        what = f'JSON of another shape ({type(exc).__name__}: {exc})'
    decoding = isinstance(exc, json.JSONDecodeError) and what == 'not JSON'
    if not decoding and not (
        isinstance(exc, _SHAPE_ERRORS) and _raised_by_toolkit(exc)
    ):
        return None
    request = response.request
    content_type = response.headers.get('content-type', '')
    url = errors.safe_url(request.url)
    return errors.UnexpectedResponseError(
        f'{request.method} {url} answered {response.status_code} with '
        f'{content_type or "no content type"}, {what}: is the base URL the Imbi '
        'API (not a proxy or login page)?',
        method=request.method,
        url=url,
        status=response.status_code,
        content_type=content_type,
    )


def _raised_by_toolkit(exc: BaseException) -> bool:
    # The innermost frame: the toolkit's own code reading the body, not a
    # plugin's or the user's (whose bugs keep their traceback).
    traceback = exc.__traceback__
    if traceback is None:
        return False
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback.tb_frame.f_code.co_filename.startswith(_PACKAGE)
