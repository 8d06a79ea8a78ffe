"""The async Imbi client: an `httpx.AsyncClient` with bookkeeping helpers."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import http
import importlib.metadata
import itertools
import logging
import os
import ssl
import traceback
import typing
from collections import abc

import httpx

from imbi_toolkit.api import _lean as lean
from imbi_toolkit.api import _paths as paths
from imbi_toolkit.api import _redaction as redaction
from imbi_toolkit.api import errors, retries
from imbi_toolkit.types import JSONObject

if typing.TYPE_CHECKING:
    from imbi_toolkit.api._settings import Settings

LOGGER = logging.getLogger(__name__)

_Body = typing.TypeVar('_Body', dict[str, typing.Any], list[typing.Any])

_DISTRIBUTION = 'imbi-toolkit'

# The by-identity query parameter was renamed in API 2.12.0 (Plugin
# Architecture v3). A client starts with the seed's name and switches, once,
# when the server says the other one is missing.
_PLUGIN_SLUG = 'plugin_slug'
_INTEGRATION_SLUG = 'integration_slug'
_OTHER_IDENTITY_PARAM = {
    _PLUGIN_SLUG: _INTEGRATION_SLUG,
    _INTEGRATION_SLUG: _PLUGIN_SLUG,
}


@functools.cache
def _default_user_agent() -> str:
    try:
        version = importlib.metadata.version(_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        from imbi_toolkit.__version__ import __version__ as version
    return f'{_DISTRIBUTION}/{version}'


class _SecretValue(typing.Protocol):
    """A holder such as `pydantic.SecretStr` (`Settings.api_token`)."""

    def get_secret_value(self) -> str: ...


def _hold_token(
    token: str | redaction.Secret | _SecretValue,
) -> tuple[redaction.Secret, str | None]:
    """Wrap the token, with what is wrong with it (None when nothing).

    Nothing here raises: a frame that holds the raw token must not end up
    in a traceback (printed with its locals, it would show the token).
    """
    if isinstance(token, redaction.Secret):
        value: object = token.reveal()
    elif isinstance(token, str):
        value = token
    else:
        reveal = getattr(token, 'get_secret_value', None)
        value = reveal() if callable(reveal) else None
    if not isinstance(value, str):
        return redaction.Secret(''), (
            f'token must be a str, not {type(token).__name__}: pass the Imbi API token'
        )
    # httpx would put an invalid header value, token and all, into the text
    # of the exception it raises; refuse it here without echoing it.
    problem = None
    if not value.strip():
        problem = 'token must not be empty: pass the Imbi API token'
    elif any(not 0x21 <= ord(char) <= 0x7E for char in value):
        problem = (
            'token contains whitespace or characters that are not printable '
            'ASCII; check that the whole token and nothing else was copied'
        )
    return redaction.Secret(value), problem


def _authorization(token: redaction.Secret) -> redaction.SecretBytes:
    # Bytes whose repr is masked: httpx and httpcore keep them as they are
    # in every raw header list, which a traceback may print.
    return redaction.SecretBytes(b'Bearer ' + token.reveal().encode('ascii'))


def _url(url: str | httpx.URL, name: str) -> httpx.URL:
    """Parse a URL argument; its repr (in a traceback) masks the password."""
    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        # A half-built httpx.URL, whose repr fails, is among its frames'
        # locals (and a suppressed context is still walked by `traceback`).
        traceback.clear_frames(exc.__traceback__)
        raise ValueError(
            f'{name} is not a valid URL ({exc}): pass e.g. http://imbi-api:8000'
        ) from None


_USERINFO_REFUSED = (
    'base_url must not contain credentials (user:password@): the client '
    'authenticates with its token (httpx would send the credentials as Basic '
    'authentication instead); remove them from the URL'
)


def _socks_problem(proxy: httpx.URL | None, exc: ImportError) -> str | None:
    if proxy is None or not proxy.scheme.startswith('socks'):
        return None
    return (
        f'proxy {errors.safe_url(proxy)} is a SOCKS proxy, which needs the '
        "socksio package: pip install 'httpx[socks]'"
    )


def _register_url_password(url: httpx.URL) -> None:
    # A proxy URL may carry credentials; keep them out of logs too.
    if url.password:
        redaction.register_secret(url.password)


def _missing_query_parameter(response: httpx.Response, name: str) -> bool:
    """Tell whether a 422 says that query parameter ``name`` is missing."""
    if response.status_code != http.HTTPStatus.UNPROCESSABLE_ENTITY:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    detail = body.get('detail') if isinstance(body, dict) else None
    if not isinstance(detail, list):
        return False
    return any(
        isinstance(error, dict)
        and error.get('type') == 'missing'
        and error.get('loc') == ['query', name]
        for error in detail
    )


HTTP_BACKENDS = ('httpcore', 'aiohttp')


def _aiohttp_transport(
    client_kwargs: dict[str, typing.Any],
) -> httpx.AsyncBaseTransport:
    # Imported here: aiohttp is an optional extra and slow to import.
    from imbi_toolkit.api import transports

    return transports.AiohttpTransport(verify=client_kwargs.get('verify', True))


def _asyncio_transport(
    client_kwargs: dict[str, typing.Any],
) -> httpx.AsyncBaseTransport | None:
    """httpx's transport on plain asyncio sockets, or None for httpx's own.

    None when httpx must build the transport itself: the shortcuts are off
    (`IMBI_TOOLKIT_LEAN=0`, an untested httpx) or the environment sets a
    proxy, which httpx mounts only when it builds the transport.
    """
    if not lean.shortcuts_enabled():
        return None
    # Imported here: it imports httpcore (~60 ms), as httpx does on first use.
    from imbi_toolkit.api import _network as network

    if network.environment_proxies():
        return None
    return network.AsyncioTransport(verify=client_kwargs.get('verify', True))


class Imbi(lean.LeanAsyncClient):
    """Async HTTP client for the Imbi API.

    Wraps `httpx.AsyncClient` with the `Authorization` and `User-Agent`
    headers wired up and adds high-level methods for the bookkeeping
    endpoints that integrating services call.

    Args:
        base_url: Root URL of the Imbi API (e.g. `http://imbi-api:8000`),
            including any path prefix the deployment mounts the API under.
            It must not contain credentials (`user:password@`).
        token: Bearer token sent on every request: a str, or a holder that
            keeps it out of reprs (`imbi_toolkit.api._redaction.Secret`,
            `pydantic.SecretStr`).
        user_agent: Optional `User-Agent` header value. Defaults to
            `imbi-toolkit/{version}` when not supplied.
        timeout: Optional request timeout in seconds. When omitted, httpx's
            default applies.
        transport: Optional httpx transport, e.g. `httpx.MockTransport` in
            tests.
        max_retries: How many times a failed request may be repeated when
            it is safe to (see `imbi_toolkit.api.retries`). Defaults to 0:
            a client built directly sends each request once, as the seed
            describes; `Imbi.from_settings` turns retries on.
        retry_policy: Backoff timing (initial delay, caps, jitter); its
            `max_retries` is replaced by the argument above.
        connect_timeout: Optional connect timeout in seconds; the other
            timeouts come from `timeout` (httpx's 5 s when omitted).
        verify: TLS verification: `False` to disable it, or an
            `ssl.SSLContext` (e.g. from `truststore`).
        ca_bundle: Path of a PEM file of CA certificates to trust instead of
            certifi's (a corporate proxy's CA, say).
        proxy: Proxy URL for every request (`http://proxy:3128`).
        http_backend: What sends the requests when no `transport` is given:
            `'httpcore'` (the default: httpx's own transport, its connection
            pool on plain asyncio sockets unless a proxy is set, see
            `imbi_toolkit.api._network`) or `'aiohttp'`
            (`imbi_toolkit.api.transports.AiohttpTransport`, several times
            faster; needs `pip install 'imbi-toolkit[aiohttp]'`).

    Raises:
        ValueError: When the token is empty or cannot be sent in a header,
            when the base URL carries credentials or is not a URL, when the
            transport options contradict each other, or when a SOCKS proxy
            is given without the `socksio` package.

    Examples:
        >>> async with Imbi(base_url='http://127.0.0.1:8000', token=token) as c:
        ...     response = await c.get('/organizations/')
    """

    def __init__(
        self,
        *,
        base_url: str | httpx.URL,
        token: str | redaction.Secret | _SecretValue,
        user_agent: str | None = None,
        timeout: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 0,
        retry_policy: retries.RetryPolicy | None = None,
        connect_timeout: float | None = None,
        verify: bool | ssl.SSLContext = True,
        ca_bundle: str | os.PathLike[str] | None = None,
        proxy: str | httpx.URL | None = None,
        http_backend: typing.Literal['httpcore', 'aiohttp'] = 'httpcore',
    ) -> None:
        # From here on the token lives only in objects whose repr and pickle
        # mask it: this frame may show up in a traceback with its locals.
        secret, problem = _hold_token(token)
        del token
        if problem is not None:
            raise ValueError(problem)
        base = _url(base_url, 'base_url')
        del base_url  # may hold a password; `base`'s repr masks it
        if base.userinfo:
            raise ValueError(_USERINFO_REFUSED)
        redaction.install()
        redaction.register_secret(secret.reveal())
        headers = {
            'authorization': _authorization(secret),
            'user-agent': user_agent or _default_user_agent(),
        }
        kwargs: dict[str, typing.Any] = {
            'base_url': base,
            'headers': headers,
        }
        if timeout is not None:
            kwargs['timeout'] = timeout
        if connect_timeout is not None:
            kwargs['timeout'] = httpx.Timeout(
                5.0 if timeout is None else timeout, connect=connect_timeout
            )
        if transport is not None:
            kwargs['transport'] = transport
        if ca_bundle is not None:
            if verify is False:
                raise ValueError(
                    'verify=False and ca_bundle contradict each other: '
                    'pass only one of them'
                )
            try:
                kwargs['verify'] = ssl.create_default_context(
                    cafile=os.fspath(ca_bundle)
                )
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(
                    f'ca_bundle {os.fspath(ca_bundle)!r} cannot be used '
                    f'({exc}): pass the path of a PEM file of CA certificates'
                ) from None
        elif verify is not True:
            kwargs['verify'] = verify
        proxy_url = None if proxy is None else _url(proxy, 'proxy')
        del proxy  # may hold a password; `proxy_url`'s repr masks it
        if proxy_url is not None:
            _register_url_password(proxy_url)
            kwargs['proxy'] = proxy_url
        if http_backend not in HTTP_BACKENDS:
            raise ValueError(
                f'unknown http_backend {http_backend!r}: use "httpcore" or "aiohttp"'
            )
        if transport is None and http_backend == 'aiohttp':
            kwargs['transport'] = _aiohttp_transport(kwargs)
        elif transport is None and proxy_url is None:
            default = _asyncio_transport(kwargs)
            if default is not None:
                kwargs['transport'] = default
        try:
            super().__init__(**kwargs)
        except ImportError as exc:
            # httpx imports a SOCKS proxy's package only now; say what to
            # install in one line instead of an ImportError from its depths.
            socks = _socks_problem(proxy_url, exc)
            if socks is None:
                raise
            traceback.clear_frames(exc.__traceback__)
            raise ValueError(socks) from None
        self._identity_param = _PLUGIN_SLUG
        self._api_version: asyncio.Future[tuple[int, ...] | None] | None = None
        self.retry_policy = dataclasses.replace(
            retry_policy or retries.RetryPolicy(), max_retries=max_retries
        )

    @property
    def base_url(self) -> httpx.URL:
        """The API's base URL; relative request paths are joined to it.

        Assigning it checks it as the constructor does: a URL with
        credentials (`user:password@`) is refused with `ValueError`.
        """
        return super().base_url

    @base_url.setter
    def base_url(self, url: httpx.URL | str) -> None:
        base = _url(url, 'base_url')
        del url  # may hold a password; `base`'s repr masks it
        if base.userinfo:
            raise ValueError(_USERINFO_REFUSED)
        httpx.AsyncClient.base_url.fset(self, base)  # type: ignore[attr-defined]
        self._api_version = None  # another server: read its version again

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_policy: retries.RetryPolicy | None = None,
    ) -> Imbi:
        """Build a client with the interactive defaults read from `Settings`.

        Unlike direct construction, this turns retries on (`max_retries`,
        3 by default) and sets a short connect timeout (5 s) and an overall
        timeout (30 s) above the server's 10 s plugin timeout.

        Args:
            settings: The configuration, usually `Settings()`.
            transport: Optional httpx transport (tests, a faster transport).
            retry_policy: Optional backoff timing (tests use short delays).

        Returns:
            A new client; use it with `async with`.

        Examples:
            >>> async with Imbi.from_settings(Settings()) as client:
            ...     release = await client.ensure_release('eng', pid, body)
        """
        return cls(
            base_url=str(settings.api_base_url),
            token=settings.api_token,
            user_agent=settings.user_agent,
            timeout=settings.timeout,
            connect_timeout=settings.connect_timeout,
            max_retries=settings.max_retries,
            retry_policy=retry_policy,
            verify=settings.verify,
            ca_bundle=settings.ca_bundle,
            proxy=settings.proxy,
            transport=transport,
            http_backend=settings.http_backend,
        )

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: typing.Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: typing.Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        """Send a request, repeating it when the retry policy allows.

        Every request of the client goes through here (`get`, `post`, the
        helpers...). `imbi_toolkit.api.retries` decides per request whether
        a failure may be retried; with `max_retries=0` this is plain httpx.
        """
        policy = self.retry_policy
        if policy.max_retries == 0:
            return await super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        # Decided on the first failure: reading a PATCH's body to tell
        # whether it is replay-safe costs nothing on the happy path then.
        mode: retries.Mode | None = None
        attempt = 0
        while True:
            try:
                response = await super().send(
                    request, stream=stream, auth=auth, follow_redirects=follow_redirects
                )
            except httpx.TransportError as exc:
                mode = mode or retries.mode_of(request)
                if (
                    attempt >= policy.max_retries
                    or not retries.retry_on_error(mode, exc)
                    or not retries.replayable(request)
                ):
                    raise
                attempt += 1
                delay = policy.delay(attempt)
                reason = type(exc).__name__
            else:
                if response.status_code not in retries.RETRY_STATUSES:
                    return response
                mode = mode or retries.mode_of(request)
                if (
                    attempt >= policy.max_retries
                    or not retries.retry_on_response(mode, response)
                    or not retries.replayable(request)
                ):
                    return response
                attempt += 1
                delay = policy.delay(attempt, response)
                reason = str(response.status_code)
                await response.aclose()
            LOGGER.info(
                'Retrying %s %s after %s in %.2f s (retry %d of %d)',
                request.method,
                errors.safe_url(request.url),
                reason,
                delay,
                attempt,
                policy.max_retries,
            )
            await asyncio.sleep(delay)

    def __repr__(self) -> str:
        # The default object repr is safe, but a helpful one must not show
        # the token or credentials embedded in the base URL.
        try:
            url = str(self.base_url.copy_with(username=None, password=None))
        except AttributeError:  # not built yet: a traceback of __init__
            return f'<{type(self).__name__} (unfinished)>'
        return f'<{type(self).__name__} base_url={url!r}>'

    async def patch_project(
        self,
        org_slug: str,
        project_id: str,
        patch: abc.Iterable[abc.Mapping[str, object]],
    ) -> httpx.Response:
        """Send a JSON Patch to a project.

        Args:
            org_slug: Organization slug.
            project_id: Project identifier.
            patch: JSON Patch operations.

        Returns:
            The raw `httpx.Response`. Non-2xx responses are logged at
            warning level and returned to the caller.

        Raises:
            ValueError: When a path argument is empty or a dot segment.
        """
        url = paths.build(
            '/organizations/{org_slug}/projects/{project_id}',
            org_slug=org_slug,
            project_id=project_id,
        )
        LOGGER.debug('Patching project %s', url)
        response = await self.patch(url, json=[dict(op) for op in patch])
        if response.is_error:
            try:
                detail: object = response.json()
            except ValueError:
                detail = response.content
            LOGGER.warning('Failed to patch project %r: %r', url, detail)
        return response

    async def find_user_by_identity(self, plugin_slug: str, subject: str) -> str | None:
        """Look up an Imbi user by external identity subject.

        Works against API 2.0-2.11 (`plugin_slug` query parameter) and 2.12
        and later (`integration_slug`): when the server answers that the
        parameter it expects is missing, the lookup is repeated once with the
        other name, and the client remembers which one the server takes.

        Args:
            plugin_slug: Slug of the identity plugin or integration (e.g.
                `github`).
            subject: The plugin-specific subject identifier.

        Returns:
            The user's email (the principal identity used by the Release
            `created_by` field) or `None` when no active identity connection
            matches or the lookup fails. Transport errors and malformed JSON
            responses are also coerced to `None` with a warning log.
        """
        try:
            response = await self._get_user_by_identity(plugin_slug, subject)
            other = _OTHER_IDENTITY_PARAM[self._identity_param]
            if _missing_query_parameter(response, other):
                LOGGER.debug('Server expects %r for identity lookups', other)
                self._identity_param = other
                response = await self._get_user_by_identity(plugin_slug, subject)
        except httpx.RequestError as exc:
            LOGGER.warning(
                'Failed to look up user for plugin=%r subject=%r: %s',
                plugin_slug,
                subject,
                exc,
            )
            return None
        if response.status_code == http.HTTPStatus.NOT_FOUND:
            return None
        if response.is_error:
            LOGGER.warning(
                'Failed to look up user for plugin=%r subject=%r: %s',
                plugin_slug,
                subject,
                response.text,
            )
            return None
        try:
            data = response.json()
        except ValueError:
            LOGGER.warning(
                'Failed to decode user lookup response for plugin=%r subject=%r',
                plugin_slug,
                subject,
            )
            return None
        email = data.get('email') if isinstance(data, dict) else None
        return str(email) if email else None

    async def _get_user_by_identity(
        self, plugin_slug: str, subject: str
    ) -> httpx.Response:
        return await self.get(
            '/users/by-identity',
            params={self._identity_param: plugin_slug, 'subject': subject},
        )

    async def create_release(
        self,
        org_slug: str,
        project_id: str,
        body: abc.Mapping[str, object],
    ) -> httpx.Response:
        """POST a new release to the project's releases collection.

        Args:
            org_slug: Organization slug.
            project_id: Project identifier.
            body: Release payload (`committish`, `title`, optional `tag`,
                `description`, `links`, `created_by`).

        Returns:
            The raw `httpx.Response`. `409 Conflict` is treated as an
            idempotent success and is not logged; other non-2xx responses
            are logged at warning level.

        Raises:
            ValueError: When a path argument is empty or a dot segment.
        """
        url = paths.build(
            '/organizations/{org_slug}/projects/{project_id}/releases/',
            org_slug=org_slug,
            project_id=project_id,
        )
        LOGGER.debug('Creating release %s', url)
        # Safe to repeat: a repeat that meets 409 means the first one worked.
        response = await self.post(
            url, json=dict(body), extensions={retries.EXTENSION: retries.IDEMPOTENT}
        )
        if response.is_error and response.status_code != http.HTTPStatus.CONFLICT:
            LOGGER.warning('Failed to create release %r: %s', url, response.text)
        return response

    async def record_deployment(
        self,
        org_slug: str,
        project_id: str,
        version: str,
        env_slug: str,
        body: abc.Mapping[str, object],
    ) -> httpx.Response:
        """POST a deployment event onto a release's environment edge.

        Args:
            org_slug: Organization slug.
            project_id: Project identifier.
            version: The release's path segment. Since API 2.5 this is the
                release id (a Nano ID), not its tag.
            env_slug: Target environment slug.
            body: Deployment event payload (`status`, optional `note`,
                etc.).

        Returns:
            The raw `httpx.Response`. `404 Not Found` is treated as a
            non-fatal "release missing" condition and is not logged; other
            non-2xx responses are logged at warning level.

        Raises:
            ValueError: When a path argument is empty or a dot segment.
        """
        url = paths.build(
            '/organizations/{org_slug}/projects/{project_id}'
            '/releases/{version}/environments/{env_slug}',
            org_slug=org_slug,
            project_id=project_id,
            version=version,
            env_slug=env_slug,
        )
        LOGGER.debug('Recording deployment %s', url)
        # The server appends an event per POST: repeat only what never left.
        response = await self.post(
            url, json=dict(body), extensions={retries.EXTENSION: retries.UNSENT_ONLY}
        )
        if response.is_error and response.status_code != http.HTTPStatus.NOT_FOUND:
            LOGGER.warning('Failed to record deployment %r: %s', url, response.text)
        return response

    # -- typed reads: parsed JSON, typed errors ----------------------------

    async def api_version(self) -> tuple[int, ...] | None:
        """The server's API version, e.g. `(2, 41, 0)`, learned once per client.

        Read from `info.version` of `/openapi.json` on the first call and
        cached, so concurrent callers share one request. Only the operations
        whose right behaviour depends on the server's generation ask for it
        (docs/imbi-api.md#generations); the seed's helpers never do.

        Returns:
            The version numbers, or `None` when the server does not say
            (then callers assume the oldest behaviour).
        """
        if self._api_version is None:
            self._api_version = asyncio.ensure_future(self._fetch_api_version())
        try:
            return await asyncio.shield(self._api_version)
        except errors.ImbiError:
            self._api_version = None  # a transient failure: ask again next time
            return None

    async def _fetch_api_version(self) -> tuple[int, ...] | None:
        try:
            schema = await self._get_json('/openapi.json', dict)
        except errors.ImbiStatusError:
            return None
        info = schema.get('info')
        return parse_version(info.get('version') if isinstance(info, dict) else None)

    async def _get_json(
        self,
        url: str,
        expected: type[_Body],
        params: abc.Mapping[str, str] | abc.Sequence[tuple[str, str]] | None = None,
    ) -> _Body:
        with errors.translate():
            response = await self.get(url, params=_query(params))
        return errors.json_body(response, expected)

    async def list_organizations(self) -> list[JSONObject]:
        """List the organizations the token can see.

        Raises:
            ImbiStatusError: When the server answers with an error.
            ImbiTransportError: When the server cannot be reached.
        """
        return await self._get_json('/organizations/', list)

    async def get_me(self) -> JSONObject:
        """Return the user the token belongs to (`email`, `display_name`...).

        Raises:
            PermissionDeniedError: For a service account's token: `/users/me`
                is for humans.
            ImbiStatusError: When the server answers with another error.
            ImbiTransportError: When the server cannot be reached.
        """
        return await self._get_json('/users/me', dict)

    async def list_environments(self, org_slug: str) -> list[JSONObject]:
        """List an organization's environments (`slug`, `name`...).

        Raises:
            ImbiStatusError: When the server answers with an error.
            ImbiTransportError: When the server cannot be reached.
        """
        url = paths.build('/organizations/{org_slug}/environments/', org_slug=org_slug)
        return await self._get_json(url, list)

    async def list_projects(
        self,
        org_slug: str,
        params: abc.Mapping[str, str] | abc.Sequence[tuple[str, str]] | None = None,
    ) -> list[JSONObject]:
        """List an organization's projects.

        Args:
            org_slug: Organization slug.
            params: Query parameters as the API takes them (`slim`,
                `project_type`, `include_archived`, repeated `filter`
                values `field:op:value`; see docs/imbi-api.md#projects-list).

        Raises:
            ImbiStatusError: When the server answers with an error (400 for a
                filter it does not understand).
            ImbiTransportError: When the server cannot be reached.
        """
        url = paths.build('/organizations/{org_slug}/projects/', org_slug=org_slug)
        return await self._get_json(url, list, params)

    async def get_project(self, org_slug: str, project_id: str) -> JSONObject:
        """Return one project in the API's GET shape.

        Raises:
            NotFoundError: When the organization has no project with that id.
            ImbiStatusError: When the server answers with another error.
            ImbiTransportError: When the server cannot be reached.
        """
        url = paths.build(
            '/organizations/{org_slug}/projects/{project_id}',
            org_slug=org_slug,
            project_id=project_id,
        )
        return await self._get_json(url, dict)

    async def find_project(self, org_slug: str, ref: str) -> JSONObject:
        """Return a project given its id or its slug.

        An id (a 21-character Nano ID) is fetched directly; anything else,
        or an id no project has, is looked up among the organization's
        projects (archived ones included) by slug.

        Args:
            org_slug: Organization slug.
            ref: The project's id or slug.

        Raises:
            ProjectNotFoundError: When no project has that id or slug, or
                several have that slug.
            ImbiStatusError: When the server answers with another error.
            ImbiTransportError: When the server cannot be reached.
        """
        if _looks_like_id(ref):
            try:
                return await self.get_project(org_slug, ref)
            except errors.NotFoundError:
                pass
        listing = await self.list_projects(
            org_slug, [('slim', 'true'), ('include_archived', 'true')]
        )
        matches = [project for project in listing if project.get('slug') == ref]
        if not matches:
            raise errors.ProjectNotFoundError(
                f'no project {ref!r} in {org_slug}: check the id or slug'
            )
        if len(matches) > 1:
            ids = ', '.join(str(project.get('id')) for project in matches)
            raise errors.ProjectNotFoundError(
                f'several projects have the slug {ref!r} ({ids}): use the id'
            )
        return await self.get_project(org_slug, str(matches[0]['id']))

    async def get_project_schema(
        self, org_slug: str, project_id: str
    ) -> JSONObject | None:
        """Return the project's blueprint schema, or `None` where not published.

        Returns:
            `sections`, each with `properties` (attribute name → JSON Schema)
            and, from API 2.40, `required`; `None` when the server has no
            such endpoint (docs/imbi-api.md#schema).

        Raises:
            ImbiStatusError: When the server answers with another error.
            ImbiTransportError: When the server cannot be reached.
        """
        url = paths.build(
            '/organizations/{org_slug}/projects/{project_id}/schema',
            org_slug=org_slug,
            project_id=project_id,
        )
        try:
            return await self._get_json(url, dict)
        except errors.NotFoundError as error:
            # A missing project says so in its detail; a missing endpoint is
            # Starlette's bare 'Not Found'.
            if error.detail in (None, 'Not Found'):
                return None
            raise

    async def list_releases(
        self,
        org_slug: str,
        project_id: str,
        *,
        tag: str | None = None,
        committish: str | None = None,
    ) -> list[JSONObject]:
        """List a project's releases, newest first, filtered by the server.

        Args:
            org_slug: Organization slug.
            project_id: Project identifier.
            tag: Only releases with this tag.
            committish: Only releases of this commit; a longer or upper-case
                SHA is reduced to the 7 lowercase characters the server
                stores (docs/imbi-api.md#releases).

        Raises:
            ImbiStatusError: When the server answers with an error.
            ImbiTransportError: When the server cannot be reached.
        """
        url = paths.build(
            '/organizations/{org_slug}/projects/{project_id}/releases/',
            org_slug=org_slug,
            project_id=project_id,
        )
        params: dict[str, str] = {}
        if committish:
            params['committish'] = short_committish(committish)
        if tag:
            params['tag'] = tag
        releases = await self._get_json(url, list, params)
        return [r for r in releases if isinstance(r, dict) and r.get('id')]

    async def find_release(
        self,
        org_slug: str,
        project_id: str,
        *,
        tag: str | None = None,
        committish: str | None = None,
    ) -> JSONObject | None:
        """Find a project's newest release with the given tag and/or committish.

        Args:
            org_slug: Organization slug.
            project_id: Project identifier.
            tag: The release tag (e.g. `1.2.3`), matched exactly.
            committish: The commit, matched as `list_releases` does.

        Returns:
            The release (`id`, `tag`, `committish`, `title`...) or `None`
            when no release matches (also for an unknown project: the
            server lists those as empty).

        Raises:
            ValueError: When neither `tag` nor `committish` is given.
            ImbiStatusError: When the server answers with an error.
            ImbiTransportError: When the server cannot be reached.
        """
        if not tag and not committish:
            raise ValueError('pass tag= or committish= to find a release')
        releases = await self.list_releases(
            org_slug, project_id, tag=tag, committish=committish
        )
        return releases[0] if releases else None

    async def get_deployments(
        self, org_slug: str, project_id: str, release_id: str, env_slug: str
    ) -> JSONObject | None:
        """Return a release's environment edge, or `None` when it has none.

        Returns:
            `environment`, `deployments` (the events, oldest first) and
            `current_status`; `None` when no event was ever recorded there.

        Raises:
            ImbiStatusError: When the server answers with an error.
            ImbiTransportError: When the server cannot be reached.
        """
        url = paths.build(
            '/organizations/{org_slug}/projects/{project_id}'
            '/releases/{release_id}/environments/{env_slug}',
            org_slug=org_slug,
            project_id=project_id,
            release_id=release_id,
            env_slug=env_slug,
        )
        try:
            return await self._get_json(url, dict)
        except errors.NotFoundError:
            return None


# Project ids are 21-character Nano IDs (docs/imbi-api.md#ids).
_NANOID_LENGTH = 21
_NANOID_ALPHABET = frozenset(
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'
)


def _looks_like_id(ref: str) -> bool:
    return len(ref) == _NANOID_LENGTH and _NANOID_ALPHABET.issuperset(ref)


def _query(
    params: abc.Mapping[str, str] | abc.Sequence[tuple[str, str]] | None,
) -> httpx.QueryParams | None:
    if params is None:
        return None
    pairs = params.items() if isinstance(params, abc.Mapping) else params
    return httpx.QueryParams([(name, value) for name, value in pairs])


def parse_version(text: object) -> tuple[int, ...] | None:
    """`'2.41.0'` → `(2, 41, 0)`; `None` for anything that is not a version."""
    if not isinstance(text, str):
        return None
    numbers: list[int] = []
    for part in text.strip().lstrip('v').split('.'):
        digits = ''.join(itertools.takewhile(str.isdigit, part))
        if not digits:
            break
        numbers.append(int(digits))
    return tuple(numbers) or None


def short_committish(committish: str) -> str:
    """The committish as the server stores it: 7 lowercase hex characters.

    A longer hex SHA is shortened; anything else is only stripped and
    lower-cased (docs/imbi-api.md#releases).
    """
    text = committish.strip().lower()
    if len(text) > 7 and all(char in '0123456789abcdef' for char in text):
        return text[:7]
    return text
