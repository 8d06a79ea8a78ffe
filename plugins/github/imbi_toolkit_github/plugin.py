"""The GitHub plugin's hooks."""

from __future__ import annotations

import functools
import logging
import re
import ssl
import typing
import urllib.parse

import httpx

from imbi_toolkit import hookimpl
from imbi_toolkit.api import _paths as paths
from imbi_toolkit.api import _redaction as redaction

if typing.TYPE_CHECKING:
    from imbi_toolkit.api import Imbi
    from imbi_toolkit_github._settings import GitHubSettings

LOGGER = logging.getLogger(__name__)

# GitHub logins: alphanumerics and single inner hyphens, at most 39 characters.
_LOGIN = re.compile(r'[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}')

# GitHub deployment states -> Imbi deployment statuses, as imbi-gateway maps
# them. GitHub's `pending`, `in_progress` and `success` are Imbi's too.
DEPLOYMENT_STATES: dict[str, str] = {
    'queued': 'pending',
    'failure': 'failed',
    'error': 'failed',
    'inactive': 'rolled_back',
}


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Building one costs ~16 ms; a client per lookup shares this one.
    return httpx.create_ssl_context()


class GitHubPlugin:
    """Resolve GitHub logins to Imbi users; link releases to GitHub.

    - `imbi_identity_subject`: for the `github` slug, turns a login into the
      numeric user id Imbi stores (through `GET /users/{login}` on GitHub's
      API); a numeric id is passed through unchanged.
    - `imbi_before_release_create`: when the release has a tag and the
      project has a `github-repository` link, adds a `github_release` link to
      `{repository}/releases/tag/{tag}`.
    - `imbi_before_deployment_event`: maps GitHub deployment states
      (`queued`, `failure`, `error`, `inactive`) to Imbi's statuses.

    Args:
        settings: The configuration; when not given, it is read from the
            environment each time a hook runs.
    """

    def __init__(self, settings: GitHubSettings | None = None) -> None:
        self._settings = settings

    def __repr__(self) -> str:
        return f'<{type(self).__name__}>'

    @property
    def settings(self) -> GitHubSettings:
        """The configuration in use: the one given, or the environment's now."""
        # Read on each use, so a notebook or a test can change the variables.
        # Imported here: pydantic-settings takes ~0.15 s to import, which
        # loading the plugins (on first use of the plugin layer) then spared.
        from imbi_toolkit_github._settings import GitHubSettings

        return self._settings or GitHubSettings()

    def _github(self, settings: GitHubSettings) -> httpx.AsyncClient:
        headers = {
            'accept': 'application/vnd.github+json',
            'x-github-api-version': '2022-11-28',
        }
        if settings.token is not None:
            token = settings.token.get_secret_value()
            redaction.register_secret(token)
            headers['authorization'] = f'Bearer {token}'
        base_url = str(settings.api_url).rstrip('/')
        return httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=settings.timeout,
            verify=_ssl_context() if base_url.startswith('https:') else True,
        )

    @hookimpl
    async def imbi_identity_subject(self, plugin_slug: str, subject: str) -> str | None:
        """Turn a GitHub login (or numeric id) into the numeric id Imbi stores."""
        settings = self.settings
        if plugin_slug != settings.identity_slug:
            return None
        handle = subject.strip().removeprefix('@')
        if handle.isdecimal():
            return handle
        if not _LOGIN.fullmatch(handle):
            LOGGER.debug('%r is not a GitHub login', subject)
            return None
        async with self._github(settings) as github:
            try:
                response = await github.get(paths.build('/users/{login}', login=handle))
            except httpx.HTTPError as exc:
                LOGGER.warning('GitHub user lookup for %r failed: %s', handle, exc)
                return None
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        if response.is_error:
            LOGGER.warning(
                'GitHub user lookup for %r failed: %s %s',
                handle,
                response.status_code,
                response.text[:200],
            )
            return None
        try:
            user_id = response.json()['id']
        except (ValueError, KeyError, TypeError):
            LOGGER.warning('GitHub answered for %r without a user id', handle)
            return None
        return str(user_id)

    @hookimpl
    async def imbi_before_release_create(
        self,
        client: Imbi,
        org_slug: str,
        project_id: str,
        body: dict[str, typing.Any],
    ) -> dict[str, typing.Any] | None:
        """Add the GitHub release link when the project has a repository link."""
        tag = body.get('tag')
        settings = self.settings
        link_type = settings.release_link_type
        links = list(body.get('links') or [])
        if not tag or any(
            isinstance(link, dict) and link.get('type') == link_type for link in links
        ):
            return None
        repository = await self._repository_url(
            client, org_slug, project_id, settings.repository_link
        )
        if repository is None:
            return None
        url = f'{repository}/releases/tag/{urllib.parse.quote(str(tag), safe="/")}'
        return {**body, 'links': [*links, {'type': link_type, 'url': url}]}

    async def _repository_url(
        self, client: Imbi, org_slug: str, project_id: str, link: str
    ) -> str | None:
        url = paths.build(
            '/organizations/{org_slug}/projects/{project_id}',
            org_slug=org_slug,
            project_id=project_id,
        )
        try:
            response = await client.get(url)
        except httpx.HTTPError as exc:
            LOGGER.warning('No GitHub release link: reading %s failed: %s', url, exc)
            return None
        if response.is_error:
            # The release is still worth recording without its link; the
            # create itself reports a real problem (401, 404...).
            LOGGER.warning(
                'No GitHub release link: reading %s answered %s',
                url,
                response.status_code,
            )
            return None
        project = response.json()
        links = project.get('links') if isinstance(project, dict) else None
        repository = links.get(link) if isinstance(links, dict) else None
        if not isinstance(repository, str) or not repository.startswith('http'):
            return None
        return repository.rstrip('/').removesuffix('.git')

    @hookimpl
    def imbi_before_deployment_event(
        self, body: dict[str, typing.Any]
    ) -> dict[str, typing.Any] | None:
        """Map a GitHub deployment state to Imbi's deployment status."""
        status = body.get('status')
        if isinstance(status, str) and status.lower() in DEPLOYMENT_STATES:
            return {**body, 'status': DEPLOYMENT_STATES[status.lower()]}
        return None


def __getattr__(name: str) -> typing.Any:
    # `GitHubSettings` was defined here; it is imported on first use.
    if name == 'GitHubSettings':
        from imbi_toolkit_github._settings import GitHubSettings

        return GitHubSettings
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
