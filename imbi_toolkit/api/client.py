"""The async Imbi client: an `httpx.AsyncClient` with bookkeeping helpers."""

from __future__ import annotations

import functools
import http
import importlib.metadata
import logging
import typing
from collections import abc

import httpx

from imbi_toolkit.api import paths

LOGGER = logging.getLogger(__name__)

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


def _check_token(token: str) -> None:
    # httpx would put an invalid header value, token and all, into the text of
    # the exception it raises; refuse it here without echoing it.
    if not token or not token.strip():
        raise ValueError('token must not be empty: pass the Imbi API token')
    if any(not 0x21 <= ord(char) <= 0x7E for char in token):
        raise ValueError(
            'token contains whitespace or characters that are not printable '
            'ASCII; check that the whole token and nothing else was copied'
        )


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


class Imbi(httpx.AsyncClient):
    """Async HTTP client for the Imbi API.

    Wraps `httpx.AsyncClient` with the `Authorization` and `User-Agent`
    headers wired up and adds high-level methods for the bookkeeping
    endpoints that integrating services call.

    Args:
        base_url: Root URL of the Imbi API (e.g. `http://imbi-api:8000`),
            including any path prefix the deployment mounts the API under.
        token: Bearer token sent on every request.
        user_agent: Optional `User-Agent` header value. Defaults to
            `imbi-toolkit/{version}` when not supplied.
        timeout: Optional request timeout in seconds. When omitted, httpx's
            default applies.
        transport: Optional httpx transport, e.g. `httpx.MockTransport` in
            tests.

    Raises:
        ValueError: When the token is empty or cannot be sent in a header.

    Example:
        >>> async with Imbi(base_url='http://127.0.0.1:8000', token=token) as c:
        ...     response = await c.get('/organizations/')
    """

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        user_agent: str | None = None,
        timeout: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        _check_token(token)
        headers = {
            'authorization': f'Bearer {token}',
            'user-agent': user_agent or _default_user_agent(),
        }
        kwargs: dict[str, typing.Any] = {
            'base_url': base_url,
            'headers': headers,
        }
        if timeout is not None:
            kwargs['timeout'] = timeout
        if transport is not None:
            kwargs['transport'] = transport
        super().__init__(**kwargs)
        self._identity_param = _PLUGIN_SLUG

    def __repr__(self) -> str:
        # The default object repr is safe, but a helpful one must not show
        # the token or credentials embedded in the base URL.
        url = self.base_url.copy_with(username=None, password=None)
        return f'<{type(self).__name__} base_url={str(url)!r}>'

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
        response = await self.post(url, json=dict(body))
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
        response = await self.post(url, json=dict(body))
        if response.is_error and response.status_code != http.HTTPStatus.NOT_FOUND:
            LOGGER.warning('Failed to record deployment %r: %s', url, response.text)
        return response
