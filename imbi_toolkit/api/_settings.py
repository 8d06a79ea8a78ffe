"""Configuration for :class:`imbi_toolkit.api._client.Imbi` from the environment."""

from __future__ import annotations

import typing
import urllib.parse

import pydantic
import pydantic_settings

# What replaces a URL's `user:password` in reprs and dumps.
_MASKED_USERINFO = '***'


def mask_userinfo(url: str) -> str:
    """Return ``url`` with its credentials (`user:password@`) as `***@`."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url
    if '@' not in parts.netloc:
        return url
    host = parts.netloc.rpartition('@')[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f'{_MASKED_USERINFO}@{host}'))


class Settings(pydantic_settings.BaseSettings):
    """Configuration for `imbi_toolkit.api._client.Imbi`.

    Values are loaded from environment variables prefixed with
    `IMBI_CLIENT_`:

    - `IMBI_CLIENT_API_BASE_URL`: root URL of the Imbi API. Defaults to
      `http://imbi-api:8000`.
    - `IMBI_CLIENT_API_TOKEN`: bearer token sent on every request.
      Required; instantiation raises `ValidationError` when unset.
    - `IMBI_CLIENT_USER_AGENT`: optional User-Agent override. When unset,
      the client falls back to `imbi-toolkit/{version}`.

    Transport and reliability settings, used by `Imbi.from_settings` (a
    client built directly keeps the seed's behaviour: one attempt, httpx's
    default timeout):

    - `IMBI_CLIENT_MAX_RETRIES`: retries of a failed request when it is safe
      (see `imbi_toolkit.api.retries`). Defaults to 3; 0 disables them.
    - `IMBI_CLIENT_TIMEOUT`: read, write and pool timeout in seconds.
      Defaults to 30, above the server's 10 s plugin timeout.
    - `IMBI_CLIENT_CONNECT_TIMEOUT`: connect timeout in seconds. Defaults to
      5, so an unreachable server fails fast.
    - `IMBI_CLIENT_VERIFY`: verify TLS certificates. Defaults to true.
    - `IMBI_CLIENT_CA_BUNDLE`: path of a PEM file of CA certificates to
      trust (e.g. a corporate proxy's CA).
    - `IMBI_CLIENT_PROXY`: proxy URL for every request.
    - `IMBI_CLIENT_HTTP_BACKEND`: `httpcore` (httpx's own transport, the
      default) or `aiohttp` (faster; needs `imbi-toolkit[aiohttp]`).

    Credentials in a URL (`http://user:password@host`) never show: `repr`,
    `str` and `model_dump` (both modes; the URLs are then strings) give
    `http://***@host`. The attributes keep the real values, for the client
    (which refuses credentials in the base URL: it authenticates with the
    token). The token itself is a `pydantic.SecretStr`.
    """

    model_config = pydantic_settings.SettingsConfigDict(
        env_prefix='IMBI_CLIENT_',
        env_file='.env',
        env_file_encoding='utf-8',
        extra='ignore',
    )

    api_base_url: pydantic.HttpUrl = pydantic.HttpUrl('http://imbi-api:8000')
    api_token: pydantic.SecretStr
    user_agent: str | None = None
    max_retries: int = pydantic.Field(default=3, ge=0, le=10)
    timeout: float = pydantic.Field(default=30.0, gt=0)
    connect_timeout: float = pydantic.Field(default=5.0, gt=0)
    verify: bool = True
    ca_bundle: pydantic.FilePath | None = None
    # A proxy URL may carry credentials: keep it out of the repr.
    proxy: str | None = pydantic.Field(default=None, repr=False)
    http_backend: typing.Literal['httpcore', 'aiohttp'] = 'httpcore'

    @pydantic.field_serializer('api_base_url', 'proxy')
    def _serialize_url(self, url: pydantic.HttpUrl | str | None) -> str | None:
        # A dump goes to logs, files and notebooks: no credentials in it.
        return None if url is None else mask_userinfo(str(url))

    def __repr_args__(self) -> typing.Any:
        for name, value in super().__repr_args__():
            if name in ('api_base_url', 'proxy') and value is not None:
                value = mask_userinfo(str(value))
            yield name, value

    @pydantic.model_validator(mode='after')
    def _check_tls(self) -> Settings:
        if self.ca_bundle is not None and not self.verify:
            raise ValueError(
                'IMBI_CLIENT_VERIFY=false and IMBI_CLIENT_CA_BUNDLE contradict '
                'each other: set only one of them'
            )
        return self
