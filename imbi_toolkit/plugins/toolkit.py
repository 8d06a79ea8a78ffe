"""`Toolkit`: the one layer where plugin hooks run around the shared client.

The `imbi_toolkit.api.Imbi` helpers stay plain calls that return raw
responses. `Toolkit` wraps a client, runs the hooks around the same four
operations, raises the typed errors of `imbi_toolkit.api.errors` on HTTP
failures and returns the parsed JSON.
"""

from __future__ import annotations

import http
import logging
import typing
from collections import abc

import httpx

from imbi_toolkit.api import errors
from imbi_toolkit.patching import validation
from imbi_toolkit.plugins import calling
from imbi_toolkit.plugins import manager as manager_module

if typing.TYPE_CHECKING:
    from imbi_toolkit.api import Imbi

LOGGER = logging.getLogger(__name__)

JSONObject = dict[str, typing.Any]

# Who answered an identity lookup of the caller's own subject.
_HOST = 'imbi-toolkit (GET /users/by-identity)'


class Toolkit:
    """Run plugin hooks around the shared `Imbi` client.

    The installed plugins are loaded on first use (see
    `imbi_toolkit.plugins.get_plugin_manager`), and `imbi_client_created` runs
    once per client before its first request through this layer. Every
    method raises on HTTP failures and returns the parsed JSON.

    Args:
        client: The shared client; the `Toolkit` does not close it.
        plugin_manager: The plugins to run. Defaults to the shared manager
            with the installed plugins.

    Example:
        >>> async with Imbi(base_url=url, token=token) as client:
        ...     toolkit = Toolkit(client)
        ...     release = await toolkit.create_release(
        ...         'engineering', project_id,
        ...         {'committish': 'A1B2C3D4E5', 'tag': 'v1.4.0'},
        ...     )
        ...     await toolkit.record_deployment(
        ...         'engineering', project_id, 'production',
        ...         {'status': 'success'}, tag='v1.4.0',
        ...     )
    """

    def __init__(
        self,
        client: Imbi,
        *,
        plugin_manager: manager_module.PluginManager | None = None,
    ) -> None:
        self.client = client
        self._manager = plugin_manager
        # Set once `imbi_client_created` has run: the fast path of every call.
        self._ready: manager_module.PluginManager | None = None

    def __repr__(self) -> str:
        return f'<{type(self).__name__} client={self.client!r}>'

    @property
    def plugin_manager(self) -> manager_module.PluginManager:
        """The plugin manager whose hooks this toolkit runs."""
        if self._manager is None:
            self._manager = manager_module.get_plugin_manager()
        return self._manager

    async def _prepare(self) -> manager_module.PluginManager:
        manager = self.plugin_manager
        if self.client not in manager.prepared_clients:
            # Claimed before the await, so concurrent first calls run the
            # hook once; released on failure, so the next call tries again.
            manager.prepared_clients.add(self.client)
            try:
                await calling.call_each(
                    manager, 'imbi_client_created', {'client': self.client}
                )
            except BaseException:
                manager.prepared_clients.discard(self.client)
                raise
        self._ready = manager
        return manager

    async def create_release(
        self,
        org_slug: str,
        project_id: str,
        body: abc.Mapping[str, object],
    ) -> JSONObject:
        """Create a release, or return the existing one with the same key.

        Runs `imbi_before_release_create` (which may change or refuse the
        body), sends it, and runs `imbi_after_release_create`. When the API
        says the release already exists (409), the existing release is looked
        up and returned, and the after hook gets `created=False`.

        Args:
            org_slug: Organisation slug.
            project_id: Project id.
            body: The release (`committish`, `title`, `tag`, ...). It is
                copied; the caller's mapping is not changed.

        Returns:
            The release as the API describes it, with its `id`.

        Raises:
            RefusedError: When a plugin refused the release (nothing sent).
            PluginHookError: When a plugin failed.
            ImbiStatusError: When the API refused the release.
            ImbiTransportError: When the API could not be reached.
        """
        manager = self._ready or await self._prepare()
        client = self.client
        kwargs: dict[str, object] = {
            'client': client,
            'org_slug': org_slug,
            'project_id': project_id,
            'body': dict(body),
        }
        # Skipping a hook nobody implements saves a coroutine per request.
        if manager.implementations('imbi_before_release_create'):
            await calling.call_chain(
                manager, 'imbi_before_release_create', kwargs, 'body', dict
            )
        sent = typing.cast(JSONObject, kwargs['body'])
        # errors.translate(), inlined: its generator costs ~1 µs per request.
        try:
            response = await client.create_release(org_slug, project_id, sent)
        except httpx.TransportError as exc:
            raise errors.from_transport_error(exc) from exc
        if response.status_code == http.HTTPStatus.CONFLICT:
            existing = await client.release_with_key(org_slug, project_id, sent)
            if existing is None:
                raise errors.from_response(response)
            release, created = existing, False
        else:
            release = errors.json_body(response, dict)
            created = True
        del kwargs['body']
        kwargs['release'] = release
        kwargs['created'] = created
        if manager.implementations('imbi_after_release_create'):
            await calling.call_each(manager, 'imbi_after_release_create', kwargs)
        return release

    async def record_deployment(
        self,
        org_slug: str,
        project_id: str,
        env_slug: str,
        body: abc.Mapping[str, object],
        *,
        release_id: str | None = None,
        tag: str | None = None,
        committish: str | None = None,
    ) -> JSONObject:
        """Record a deployment event of a release in an environment.

        The release is given by its id, or by its tag and/or committish, which
        are resolved to the newest matching release's id first (the
        deployment path takes the id since API 2.5). Then
        `imbi_before_deployment_event` runs (it may change or refuse the
        body), the event is sent, and `imbi_after_deployment_event` runs.

        Args:
            org_slug: Organisation slug.
            project_id: Project id.
            env_slug: Environment slug.
            body: The event (`status`, optional `note`, `external_run_id`).
            release_id: The release's id.
            tag: The release's tag (instead of `release_id`).
            committish: The release's committish (instead of `release_id`).

        Returns:
            The API's answer: `environment`, `deployments`, `current_status`.

        Raises:
            ValueError: When the release is not given by exactly one of
                `release_id` or `tag`/`committish`.
            ReleaseNotFoundError: When no release has that tag/committish.
            RefusedError: When a plugin refused the event (nothing sent).
            PluginHookError: When a plugin failed.
            ImbiStatusError: When the API refused the event (`NotFoundError`
                when the release is missing).
            ImbiTransportError: When the API could not be reached.
        """
        if (release_id is None) == (tag is None and committish is None):
            raise ValueError(
                'give the release either as release_id= or as tag= and/or '
                'committish=, not both and not neither'
            )
        manager = self._ready or await self._prepare()
        if release_id is None:
            release_id = await self.client.resolve_release_id(
                org_slug, project_id, tag=tag, committish=committish
            )
        kwargs: dict[str, object] = {
            'client': self.client,
            'org_slug': org_slug,
            'project_id': project_id,
            'release_id': release_id,
            'env_slug': env_slug,
            'body': dict(body),
        }
        # Skipping a hook nobody implements saves a coroutine per request.
        if manager.implementations('imbi_before_deployment_event'):
            await calling.call_chain(
                manager, 'imbi_before_deployment_event', kwargs, 'body', dict
            )
        sent = typing.cast(JSONObject, kwargs['body'])
        try:  # errors.translate(), inlined, see create_release
            response = await self.client.record_deployment(
                org_slug, project_id, release_id, env_slug, sent
            )
        except httpx.TransportError as exc:
            raise errors.from_transport_error(exc) from exc
        kwargs['result'] = result = errors.json_body(response, dict)
        if manager.implementations('imbi_after_deployment_event'):
            await calling.call_each(manager, 'imbi_after_deployment_event', kwargs)
        return result

    async def patch_project(
        self,
        org_slug: str,
        project_id: str,
        patch: abc.Iterable[abc.Mapping[str, object]],
    ) -> JSONObject:
        """Send a JSON Patch to a project through the plugins.

        Runs `imbi_before_project_patch` (which may change or refuse the
        operations), sends them, and runs `imbi_after_project_patch`.

        Returns:
            The project as the API returned it after the patch.

        Raises:
            PatchValidationError: When an operation is malformed or targets
                a read-only path (nothing sent).
            RefusedError: When a plugin refused the patch (nothing sent).
            PluginHookError: When a plugin failed.
            ImbiStatusError: When the API refused the patch.
            ImbiTransportError: When the API could not be reached.
        """
        manager = self._ready or await self._prepare()
        kwargs: dict[str, object] = {
            'client': self.client,
            'org_slug': org_slug,
            'project_id': project_id,
            'patch': [dict(op) for op in patch],
        }
        # Skipping a hook nobody implements saves a coroutine per request.
        if manager.implementations('imbi_before_project_patch'):
            await calling.call_chain(
                manager, 'imbi_before_project_patch', kwargs, 'patch', list
            )
        sent = typing.cast(list[JSONObject], kwargs['patch'])
        # Checked after the plugins had their say, so what they add is checked
        # too; a malformed pointer would otherwise be a 500 from the server.
        validation.validate(sent)
        try:  # errors.translate(), inlined, see create_release
            response = await self.client.patch_project(org_slug, project_id, sent)
        except httpx.TransportError as exc:
            raise errors.from_transport_error(exc) from exc
        kwargs['project'] = project = errors.json_body(response, dict)
        if manager.implementations('imbi_after_project_patch'):
            await calling.call_each(manager, 'imbi_after_project_patch', kwargs)
        return project

    async def find_user_by_identity(self, plugin_slug: str, subject: str) -> str | None:
        """Resolve an external identity to an Imbi user's email.

        Every plugin is consulted, in order, each result awaited:
        `imbi_identity_subject` may turn the handle into the subject Imbi
        stores (e.g. a GitHub login into the numeric user id) and
        `imbi_resolve_identity` may answer directly. Each subject returned
        (or the caller's own, when no plugin returned one) is looked up with
        `GET /users/by-identity`. When the answers name two different emails,
        the identity is ambiguous: the result is `None` and a warning names
        the plugins that disagreed.

        Args:
            plugin_slug: The identity integration's slug (e.g. `github`).
            subject: The handle or subject to resolve.

        Returns:
            The user's email, or `None` when nobody or more than one user
            matches.
        """
        manager = self._ready or await self._prepare()
        kwargs: dict[str, object] = {
            'client': self.client,
            'plugin_slug': plugin_slug,
            'subject': subject,
        }
        subjects = await calling.call_each(
            manager, 'imbi_identity_subject', kwargs, str
        )
        answers = await calling.call_each(manager, 'imbi_resolve_identity', kwargs, str)
        lookups: dict[str, list[str]] = {}
        for plugin, stored in subjects or [(_HOST, subject)]:
            lookups.setdefault(stored, []).append(plugin)
        for stored, plugins in lookups.items():
            found = await self.client.find_user_by_identity(plugin_slug, stored)
            if found:
                answers.extend((plugin, found) for plugin in plugins)
        emails: dict[str, list[str]] = {}
        for plugin, email in answers:
            emails.setdefault(email.casefold(), []).append(plugin)
        if len(emails) > 1:
            LOGGER.warning(
                'Identity %s %r is ambiguous, so it is left unattributed: %s',
                plugin_slug,
                subject,
                '; '.join(
                    f'{", ".join(plugins)} said {email}'
                    for email, plugins in emails.items()
                ),
            )
            return None
        if not answers:
            return None
        return answers[0][1]
