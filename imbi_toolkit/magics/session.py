"""The magics' connection: settings, and one client living on the background loop.

The client is created on first use, inside the background loop (an
`httpx.AsyncClient` belongs to the loop that first uses it), and reused by
every magic until the settings change or the extension is unloaded:
creating one costs 16-28 ms (docs/speed.md#start-up).
"""

from __future__ import annotations

import os
import typing
from collections import abc

from imbi_toolkit.magics import loop as loop_module

if typing.TYPE_CHECKING:
    from imbi_toolkit.api import Imbi, Settings

T = typing.TypeVar('T')

TOKEN_VARIABLE = 'IMBI_CLIENT_API_TOKEN'  # noqa: S105 - a variable's name


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
        ConfigurationError: When the token is missing or a value is invalid;
            the message never contains the token.
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
        return Settings(**values)
    except pydantic.ValidationError as exc:
        raise ConfigurationError(_describe(exc)) from None


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
        """Run `work(client)` on the background loop and return its result."""
        settings = self.settings

        async def job() -> T:
            return await work(self._ensure_client(settings))

        return self._loop.run(job())

    def _ensure_client(self, settings: Settings) -> Imbi:
        # Runs in the loop's thread, so the client is bound to that loop.
        if self._client is None:
            from imbi_toolkit.api import Imbi

            self._client = Imbi.from_settings(settings)
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
