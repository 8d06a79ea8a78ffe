"""`Toolkit`: the operations layer, where hooks and rules run.

The wire client (`imbi_toolkit.api.Imbi`) sends requests; its seed helpers
stay plain calls that return raw responses. Every front end (your code, the
`%imbi` magics, the bulk runner, the CLI) goes through `Toolkit`, the one
place that runs the plugin hooks, resolves a tag or committish to a release,
decides whether a release was created or already there, validates patches
and chooses how a write may be retried.
"""

from __future__ import annotations

import dataclasses
import http
import logging
import typing
import weakref
from collections import abc

import httpx

from imbi_toolkit.api import errors, retries
from imbi_toolkit.api._client import short_committish
from imbi_toolkit.errors import ToolkitError
from imbi_toolkit.operations import _schema
from imbi_toolkit.operations._history import History, NotUndoableError
from imbi_toolkit.patching import validate
from imbi_toolkit.patching._document import CORE_KEYS
from imbi_toolkit.plugins import _calling as calling
from imbi_toolkit.plugins import _manager as manager_module
from imbi_toolkit.types import DEPLOYMENT_STATUSES, JSONObject

if typing.TYPE_CHECKING:
    from imbi_toolkit.api import Imbi

LOGGER = logging.getLogger(__name__)

# Clients whose server publishes no project schemas: said once, then skipped.
_WITHOUT_SCHEMAS: weakref.WeakSet[Imbi] = weakref.WeakSet()

# Who answered an identity lookup of the caller's own subject.
_HOST = 'imbi-toolkit (GET /users/by-identity)'

# From this version the server stores `external_run_id` and de-duplicates
# deployment events on it, so a repeated POST changes nothing
# (docs/imbi-api.md#deployment-events).
_DEDUPLICATES_RUN_IDS = (2, 18)
# From this version a release's key is its tag alone: before, the same tag
# with another commit is a new release (docs/imbi-api.md#releases-create).
_TAG_IS_RELEASE_KEY = (2, 26)


class PlanChangedError(ToolkitError):
    """The plugins changed a write that had to be sent exactly as planned."""


class PatchChangedError(PlanChangedError):
    """The plugins changed a patch that had to be sent exactly as planned."""


@dataclasses.dataclass(frozen=True)
class ReleaseOutcome:
    """What `Toolkit.ensure_release` did.

    Attributes:
        release: The release as the API describes it, with its `id`.
        created: `True` when this call created it; `False` when it was
            already there (the server answered 200 or 409).
    """

    release: JSONObject
    created: bool


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who a client acts as.

    Attributes:
        base_url: The API's root URL, without credentials.
        email: The user's email; `None` for a service account.
        display_name: The user's name, when the API gives one.
    """

    base_url: str
    email: str | None
    display_name: str | None = None

    @property
    def service_account(self) -> bool:
        """Whether the token belongs to a service account, not a person."""
        return self.email is None


class Toolkit:
    """The operations layer: hooks and rules around the shared `Imbi` client.

    The installed plugins are loaded on first use (see
    `imbi_toolkit.plugins.get_plugin_manager`), and `imbi_client_created`
    runs once per client before its first request through this layer. Every
    method raises the typed errors of `imbi_toolkit.api.errors` on HTTP
    failures (all of them `imbi_toolkit.errors.ToolkitError`) and returns
    the parsed JSON.

    Args:
        client: The shared client; the `Toolkit` does not close it.
        plugin_manager: The plugins to run. Defaults to the shared manager
            with the installed plugins.
        history: Where to keep every write made through this toolkit (see
            `undo`); `None` keeps nothing. Keeping a patch costs a read of
            the project before it, unless the caller passes `before=`.
        check_schema: Check blueprint attributes against the project's
            schema before a patch that changes them is sent (one read of
            the schema per such patch; skipped, with one warning per client,
            where the server does not publish schemas).

    Examples:
        >>> async with Imbi.from_settings(Settings()) as client:
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
        history: History | None = None,
        check_schema: bool = True,
    ) -> None:
        self.client = client
        self.history = history
        self.check_schema = check_schema
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

    # -- releases ----------------------------------------------------------

    async def create_release(
        self,
        org_slug: str,
        project_id: str,
        body: abc.Mapping[str, object],
    ) -> JSONObject:
        """Create a release, or return the existing one with the same key.

        The same as `ensure_release`, returning only the release.

        Returns:
            The release as the API describes it, with its `id`.
        """
        outcome = await self.ensure_release(org_slug, project_id, body)
        return outcome.release

    async def prepare_release(
        self,
        org_slug: str,
        project_id: str,
        body: abc.Mapping[str, object],
    ) -> JSONObject:
        """What `ensure_release` would send, without sending it.

        Runs `imbi_before_release_create` (which may change or refuse the
        body) and completes the body as `ensure_release` does (a title from
        the tag or committish, no empty tag): a planned release shows
        exactly this.

        Raises:
            RefusedError: When a plugin refused the release.
            PluginHookError: When a plugin failed.
        """
        prepared = await self._before(
            'imbi_before_release_create',
            body,
            org_slug=org_slug,
            project_id=project_id,
        )
        return _release_body(prepared)

    async def _before(
        self, hook: str, body: abc.Mapping[str, object], **context: object
    ) -> JSONObject:
        """Run a `before` hook that may change or refuse ``body``; the result."""
        manager = self._ready or await self._prepare()
        kwargs: dict[str, object] = {'client': self.client, **context}
        kwargs['body'] = dict(body)
        if manager.implementations(hook):
            await calling.call_chain(manager, hook, kwargs, 'body', dict)
        return typing.cast(JSONObject, kwargs['body'])

    async def existing_release(
        self,
        org_slug: str,
        project_id: str,
        body: abc.Mapping[str, object],
    ) -> JSONObject | None:
        """The release that creating ``body`` would meet, if any.

        Looked up by tag (an untagged release: by its commit among untagged
        releases), as `ensure_release` does after a 409.

        Args:
            org_slug: Organisation slug.
            project_id: Project id.
            body: The release as it would be sent (see `prepare_release`).

        Returns:
            The existing release, or `None` when there is none.

        Raises:
            ReleaseMismatchError: When the release with that tag is of
                another commit than the body's `committish`.
            ImbiStatusError: When the server answers with an error.
            ImbiTransportError: When the server cannot be reached.
        """
        sent = dict(body)
        release = await self._release_for_conflict(org_slug, project_id, sent)
        if release is not None:
            _check_same_commit(release, sent, project_id)
        return release

    async def ensure_release(
        self,
        org_slug: str,
        project_id: str,
        body: abc.Mapping[str, object],
        *,
        exactly: bool = False,
    ) -> ReleaseOutcome:
        """Create a release, or find the existing one, on any API generation.

        Runs `imbi_before_release_create` (which may change or refuse the
        body), sends it, and runs `imbi_after_release_create` with
        `created` taken from the answer itself: 201 is new; 200 (API 2.32.3
        and later) is the existing release; 409 (older servers) is resolved
        by listing the releases with the tag, or the committish of an
        untagged release (docs/imbi-api.md#releases-create). Retrying a
        create whose answer was lost is therefore safe.

        A body without `title` gets the tag (or the committish) as its title
        after the plugins had their say; `tag: ""` is not sent (it means no
        tag).

        Args:
            org_slug: Organisation slug.
            project_id: Project id.
            body: The release (`committish`, `tag`, `title`, ...). It is
                copied; the caller's mapping is not changed.
            exactly: Send the body exactly as given (a reviewed plan's,
                see `prepare_release`): when the plugins would change it,
                raise `PlanChangedError` instead. A release with the same
                tag of another commit is then refused on every API
                generation: before 2.26, where the server would create a
                second release with that tag, it is looked up first.

        Returns:
            The release and whether this call created it.

        Raises:
            ReleaseMismatchError: When the server's release with that tag is
                of another commit than `committish` (never returned as if
                it were the one asked for).
            PlanChangedError: With `exactly=True`, when the plugins changed
                the body (nothing sent).
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
        # `prepare_release`, inlined (keep the two alike): calling it added
        # ~0.8 us of CPU a release with 10 plugins in two bench_plugins runs
        # (10.3/13.4 -> 11.3/14.1 us), close to that benchmark's 2 % goal.
        # Skipping a hook nobody implements saves a coroutine per request.
        if manager.implementations('imbi_before_release_create'):
            await calling.call_chain(
                manager, 'imbi_before_release_create', kwargs, 'body', dict
            )
        sent = _release_body(typing.cast(JSONObject, kwargs.pop('body')))
        if exactly:
            await self._check_planned_release(org_slug, project_id, body, sent)
        # errors.translate(), inlined: its generator costs ~1 µs per request.
        try:
            response = await client.create_release(org_slug, project_id, sent)
        except httpx.TransportError as exc:
            raise errors.from_transport_error(exc) from exc
        status = response.status_code
        if status == http.HTTPStatus.CONFLICT:
            release = await self._release_for_conflict(org_slug, project_id, sent)
            if release is None:
                raise errors.from_response(response)
            created = False
        else:
            release = errors.json_body(response, dict)
            created = status != http.HTTPStatus.OK
        if not created:
            _check_same_commit(release, sent, project_id)
        kwargs['release'] = release
        kwargs['created'] = created
        if manager.implementations('imbi_after_release_create'):
            await calling.call_each(manager, 'imbi_after_release_create', kwargs)
        if self.history is not None and created:
            self.history.record(
                kind='release',
                org_slug=org_slug,
                project_id=project_id,
                sent=sent,
                answer=release,
            )
        return ReleaseOutcome(release, created)

    async def _check_planned_release(
        self,
        org_slug: str,
        project_id: str,
        planned: abc.Mapping[str, object],
        sent: JSONObject,
    ) -> None:
        if sent != dict(planned):
            raise PlanChangedError(
                f'the plugins changed the planned release of project {project_id!r} '
                'since it was planned: plan it again and review the new release'
            )
        version = await self.client.api_version()
        if version is None or version < _TAG_IS_RELEASE_KEY:
            await self.existing_release(org_slug, project_id, sent)

    async def _release_for_conflict(
        self, org_slug: str, project_id: str, body: JSONObject
    ) -> JSONObject | None:
        # The 409 carries no id. Up to 2.25 the key is (committish, tag);
        # from 2.26 it is the tag alone, or the committish among untagged
        # releases: looking up by tag first finds it on both.
        tag = body.get('tag') or None
        committish = str(body.get('committish') or '')
        if tag:
            found = await self.client.list_releases(org_slug, project_id, tag=str(tag))
            wanted = short_committish(committish) if committish else None
            same_commit = [r for r in found if r.get('committish') == wanted]
            candidates = same_commit or found
            return candidates[0] if candidates else None
        if not committish:
            return None
        found = await self.client.list_releases(
            org_slug, project_id, committish=committish
        )
        untagged = [r for r in found if r.get('tag') in (None, '')]
        return untagged[0] if untagged else None

    async def resolve_release_id(
        self,
        org_slug: str,
        project_id: str,
        *,
        tag: str | None = None,
        committish: str | None = None,
    ) -> str:
        """Return the id of the newest release with the given tag/committish.

        Since API 2.5 the deployment path takes the release id, not a
        version (docs/imbi-api.md#deployment-events).

        Raises:
            ReleaseNotFoundError: When no release matches.
            ValueError: When neither `tag` nor `committish` is given.
            ImbiStatusError: When the server answers with an error.
            ImbiTransportError: When the server cannot be reached.
        """
        release = await self.client.find_release(
            org_slug, project_id, tag=tag, committish=committish
        )
        if release is None:
            wanted = ' and '.join(
                f'{name} {value!r}'
                for name, value in (('tag', tag), ('committish', committish))
                if value
            )
            raise errors.ReleaseNotFoundError(
                f'project {project_id!r} in {org_slug!r} has no release with '
                f'{wanted}: create the release first, or check the value'
            )
        return str(release['id'])

    # -- deployments -------------------------------------------------------

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
        exactly: bool = False,
    ) -> JSONObject:
        """Record a deployment event of a release in an environment.

        The release is given by its id, or by its tag and/or committish,
        which are resolved to the newest matching release's id first. Then
        `imbi_before_deployment_event` runs (it may change or refuse the
        body), the event is sent, and `imbi_after_deployment_event` runs.

        An event is retried after a lost answer only where that cannot
        record it twice: when the request never left, or when it carries an
        `external_run_id` and the server de-duplicates on it (API 2.18 and
        later, learned once per client).

        From API 2.26 the server keeps one event per project and run id: a
        run id already recorded for another environment or release *moves*
        that event here (the other environment loses it). Give each
        environment its own run id (e.g. `f'{run_id}-{env_slug}'`) to keep
        both. Such a move is answered with an empty edge (seen on 2.41.0);
        the edge is then read back, so the result shows the event.

        Args:
            org_slug: Organisation slug.
            project_id: Project id.
            env_slug: Environment slug.
            body: The event: `status` (one of
                `imbi_toolkit.types.DEPLOYMENT_STATUSES`), optional `note`,
                `external_run_id`, `external_run_url`.
            release_id: The release's id.
            tag: The release's tag (instead of `release_id`).
            committish: The release's committish (instead of `release_id`).
            exactly: Send the event exactly as given (a reviewed plan's,
                see `prepare_deployment`): when the plugins would change it,
                raise `PlanChangedError` instead.

        Returns:
            The API's answer: `environment`, `deployments`, `current_status`.

        Raises:
            ValueError: When the release is not given by exactly one of
                `release_id` or `tag`/`committish`, or the status (after the
                plugins) is not one the API takes.
            ReleaseNotFoundError: When no release has that tag/committish.
            PlanChangedError: With `exactly=True`, when the plugins changed
                the event (nothing sent).
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
            release_id = await self.resolve_release_id(
                org_slug, project_id, tag=tag, committish=committish
            )
        # Skipping a hook nobody implements saves a coroutine per request.
        if manager.implementations('imbi_before_deployment_event'):
            sent = await self.prepare_deployment(
                org_slug, project_id, env_slug, body, release_id=release_id
            )
        else:
            sent = _checked_event(dict(body))
        if exactly and sent != dict(body):
            raise PlanChangedError(
                f'the plugins changed the planned deployment event of project '
                f'{project_id!r} since it was planned: plan it again and review '
                'the new event'
            )
        kwargs: dict[str, object] = {
            'client': self.client,
            'org_slug': org_slug,
            'project_id': project_id,
            'release_id': release_id,
            'env_slug': env_slug,
            'body': sent,
        }
        mode: retries.Mode = retries.UNSENT_ONLY
        if sent.get('external_run_id') and await self._deduplicates_run_ids():
            mode = retries.IDEMPOTENT
        try:
            with retries.chosen(mode):
                response = await self.client.record_deployment(
                    org_slug, project_id, release_id, env_slug, sent
                )
        except httpx.TransportError as exc:
            raise errors.from_transport_error(exc) from exc
        result = errors.json_body(response, dict)
        if result.get('deployments') == []:
            # 2.41 answers a moved event with no events at all, although a
            # 200 means it is there now: show what the server holds.
            edge = await self.client.get_deployments(
                org_slug, project_id, release_id, env_slug
            )
            result = edge if edge is not None else result
        kwargs['result'] = result
        if manager.implementations('imbi_after_deployment_event'):
            await calling.call_each(manager, 'imbi_after_deployment_event', kwargs)
        if self.history is not None:
            self.history.record(
                kind='deployment',
                org_slug=org_slug,
                project_id=project_id,
                sent=sent,
                answer=result,
            )
        return result

    async def prepare_deployment(
        self,
        org_slug: str,
        project_id: str,
        env_slug: str,
        body: abc.Mapping[str, object],
        *,
        release_id: str,
    ) -> JSONObject:
        """What `record_deployment` would send, without sending it.

        Runs `imbi_before_deployment_event` (which may change or refuse the
        event) and checks the status it leaves: a planned deployment shows
        exactly this.

        Raises:
            ValueError: When the status (after the plugins) is not one the
                API takes.
            RefusedError: When a plugin refused the event.
            PluginHookError: When a plugin failed.
        """
        prepared = await self._before(
            'imbi_before_deployment_event',
            body,
            org_slug=org_slug,
            project_id=project_id,
            release_id=release_id,
            env_slug=env_slug,
        )
        return _checked_event(prepared)

    async def _deduplicates_run_ids(self) -> bool:
        version = await self.client.api_version()
        return version is not None and version >= _DEDUPLICATES_RUN_IDS

    async def deployment_events(
        self, org_slug: str, project_id: str, release_id: str, env_slug: str
    ) -> list[JSONObject]:
        """The deployment events of a release in an environment, oldest first."""
        edge = await self.client.get_deployments(
            org_slug, project_id, release_id, env_slug
        )
        events = edge.get('deployments') if edge is not None else None
        return list(events) if isinstance(events, list) else []

    async def deployment_count(
        self, org_slug: str, project_id: str, release_id: str, env_slug: str
    ) -> int:
        """How many deployment events a release has in an environment."""
        return len(
            await self.deployment_events(org_slug, project_id, release_id, env_slug)
        )

    async def recorded_event(
        self, events: abc.Iterable[JSONObject], body: abc.Mapping[str, object]
    ) -> JSONObject | None:
        """The event among ``events`` that sending ``body`` would only repeat.

        That is one with the body's `external_run_id`, `status` and `note`
        (a repeat overwrites those), on a server that keeps one event per
        run id (API 2.18 and later); on older servers, and for a body
        without a run id, every POST is a new event, so nothing is a repeat.

        Args:
            events: The edge's events (see `deployment_events`).
            body: The event as it would be sent (see `prepare_deployment`).
        """
        run_id = body.get('external_run_id')
        if not run_id or not await self._deduplicates_run_ids():
            return None
        for event in events:
            if (
                event.get('external_run_id') == run_id
                and event.get('status') == body.get('status')
                and (event.get('note') or None) == (body.get('note') or None)
            ):
                return event
        return None

    # -- projects ----------------------------------------------------------

    async def prepare_patch(
        self,
        org_slug: str,
        project_id: str,
        patch: abc.Iterable[abc.Mapping[str, object]],
        *,
        validated: bool = False,
    ) -> list[JSONObject]:
        """What `patch_project` would send, without sending it.

        Runs `imbi_before_project_patch` (which may change or refuse the
        operations) and validates what is left: the plan of a bulk change
        shows exactly this.

        Args:
            org_slug: Organization slug.
            project_id: The project's id.
            patch: The operations.
            validated: The operations were validated already (`diff`'s
                are): they are checked again only when a plugin had a
                chance to change them.

        Raises:
            PatchValidationError: When an operation is malformed or targets
                a read-only path.
            RefusedError: When a plugin refused the patch.
            PluginHookError: When a plugin failed.
        """
        manager = self._ready or await self._prepare()
        kwargs: dict[str, object] = {
            'client': self.client,
            'org_slug': org_slug,
            'project_id': project_id,
            'patch': [dict(op) for op in patch],
        }
        # Skipping a hook nobody implements saves a coroutine per request.
        hooked = bool(manager.implementations('imbi_before_project_patch'))
        if hooked:
            await calling.call_chain(
                manager, 'imbi_before_project_patch', kwargs, 'patch', list
            )
        prepared = typing.cast(list[JSONObject], kwargs['patch'])
        # Checked after the plugins had their say, so what they add is checked
        # too; a malformed pointer would otherwise be a 500 from the server.
        # (~20 us a project of a 10,000-project plan when nothing changed it.)
        if hooked or not validated:
            validate(prepared)
        if self.check_schema and _schema.touches_attributes(prepared, CORE_KEYS):
            await self._check_schema(org_slug, project_id, prepared)
        return prepared

    async def _check_schema(
        self, org_slug: str, project_id: str, patch: list[JSONObject]
    ) -> None:
        if self.client in _WITHOUT_SCHEMAS:
            return
        published = await self.client.get_project_schema(org_slug, project_id)
        if published is None:
            _WITHOUT_SCHEMAS.add(self.client)
            LOGGER.warning(
                'The Imbi API at %s publishes no project schemas (before 2.16.1): '
                'blueprint attributes are not checked before sending',
                errors.safe_url(self.client.base_url),
            )
            return
        _schema.check(patch, _schema.Schema.from_api(published), CORE_KEYS)

    async def patch_project(
        self,
        org_slug: str,
        project_id: str,
        patch: abc.Iterable[abc.Mapping[str, object]],
        *,
        before: abc.Mapping[str, typing.Any] | None = None,
        exactly: bool = False,
        label: str | None = None,
        validated: bool = False,
    ) -> JSONObject:
        """Send a JSON Patch to a project through the plugins.

        Runs `imbi_before_project_patch` (which may change or refuse the
        operations), validates what is left, sends it, and runs
        `imbi_after_project_patch`.

        Args:
            org_slug: Organisation slug.
            project_id: Project id.
            patch: The operations.
            before: The project as the caller saw it (GET or patchable
                shape), kept in the history for `undo`; without it, a
                toolkit that keeps a history reads the project first.
            exactly: Send the operations exactly as given: when a plugin
                would change them, raise `PatchChangedError` instead (a
                reviewed plan is applied as reviewed).
            label: How the history shows the project (its slug).
            validated: The caller validated these operations already (as
                `validate` does); they are checked again only if a plugin
                changed them.

        Returns:
            The project as the API returned it after the patch.

        Raises:
            PatchValidationError: When an operation is malformed or targets
                a read-only path (nothing sent).
            PatchChangedError: With `exactly=True`, when the plugins changed
                the operations (nothing sent).
            RefusedError: When a plugin refused the patch (nothing sent).
            PluginHookError: When a plugin failed.
            ImbiStatusError: When the API refused the patch.
            ImbiTransportError: When the API could not be reached.
        """
        return await self._patch(
            org_slug,
            project_id,
            patch,
            before=before,
            exactly=exactly,
            label=label,
            validated=validated,
        )

    async def _patch(
        self,
        org_slug: str,
        project_id: str,
        patch: abc.Iterable[abc.Mapping[str, object]],
        *,
        before: abc.Mapping[str, typing.Any] | None,
        exactly: bool,
        label: str | None,
        undoes: int | None = None,
        validated: bool = False,
    ) -> JSONObject:
        operations = [dict(op) for op in patch]
        sent = await self.prepare_patch(
            org_slug, project_id, operations, validated=validated
        )
        if exactly and sent != operations:
            raise PatchChangedError(
                f'the plugins changed the planned patch of project {project_id!r} '
                'since it was planned: plan it again and review the new patch'
            )
        if self.history is not None and before is None:
            before = await self.client.get_project(org_slug, project_id)
        try:  # errors.translate(), inlined, see ensure_release
            response = await self.client.patch_project(org_slug, project_id, sent)
        except httpx.TransportError as exc:
            raise errors.from_transport_error(exc) from exc
        project = errors.json_body(response, dict)
        manager = self.plugin_manager
        if manager.implementations('imbi_after_project_patch'):
            await calling.call_each(
                manager,
                'imbi_after_project_patch',
                {
                    'client': self.client,
                    'org_slug': org_slug,
                    'project_id': project_id,
                    'patch': sent,
                    'project': project,
                },
            )
        if self.history is not None and before is not None:
            from imbi_toolkit.patching import patchable

            self.history.record(
                kind='patch',
                org_slug=org_slug,
                project_id=project_id,
                sent=sent,
                answer=project,
                before=patchable(before),
                after=patchable(project),
                label=label,
                undoes=undoes,
            )
        return project

    async def undo(self, number: int | None = None) -> JSONObject:
        """Take back patch `number` of the history (the newest write when `None`).

        Sends the inverse patch, guarded: if the project changed since the
        write, the server refuses it and nothing is overwritten.

        Returns:
            The project as the API returned it after the undo.

        Raises:
            NotUndoableError: When this toolkit keeps no history, or see
                `History.inverse`.
            UnprocessableEntityError: With `test_failed`, when the project
                changed since the write.
        """
        if self.history is None:
            raise NotUndoableError(
                'this toolkit keeps no history: create it with history=History()'
            )
        entry, inverse = self.history.inverse(number)
        return await self._patch(
            entry.org_slug,
            entry.project_id,
            inverse,
            before=entry.after,
            exactly=False,
            label=entry.label,
            undoes=entry.number,
        )

    async def patch_applied(
        self,
        org_slug: str,
        project_id: str,
        patch: abc.Sequence[abc.Mapping[str, object]],
    ) -> bool:
        """Whether the project already shows every value the patch sets.

        Used after a lost answer to tell "my earlier attempt applied it"
        from "somebody changed the project". Only patches that set values
        (`add`/`replace`, no append) at paths that read the same in the
        project's GET shape can match (e.g. `/description`, `/links/...`).
        """
        import jsonpointer

        setters = [op for op in patch if op['op'] in ('add', 'replace')]
        if not setters or any(str(op['path']).endswith('/-') for op in setters):
            return False
        document = await self.client.get_project(org_slug, project_id)
        for op in setters:
            try:
                value = jsonpointer.resolve_pointer(document, str(op['path']))
            except jsonpointer.JsonPointerException:
                return False
            if value != op.get('value'):
                return False
        return True

    async def select_projects(
        self,
        org_slug: str,
        *,
        project_type: str | None = None,
        team: str | None = None,
        search: str | None = None,
        filters: abc.Iterable[str] = (),
        archived: bool = False,
    ) -> list[JSONObject]:
        """An organization's projects (slim) that match a selection.

        `project_type`, `filters` (`field:op[:value]`) and `archived` are
        the server's; `team` and `search` (in the name or slug) are applied
        here, since the project list has no such parameters.

        Raises:
            ProjectNotFoundError: When nothing matched because the project
                type or team names none of the organization's (the message
                lists the known ones), rather than an empty list.
            ImbiStatusError: When the server answers with an error (400 for
                a filter it does not understand).
            ImbiTransportError: When the server cannot be reached.
        """
        params: list[tuple[str, str]] = [('slim', 'true')]
        if project_type:
            params.append(('project_type', project_type))
        if archived:
            params.append(('include_archived', 'true'))
        params.extend(('filter', value) for value in filters)
        rows = await self.client.list_projects(org_slug, params)
        if project_type and not rows:
            await self._check_known(org_slug, 'project type', project_type, _type_slugs)
        if team:
            rows = [row for row in rows if team in _team_slugs(row)]
            if not rows:
                await self._check_known(org_slug, 'team', team, _team_slugs)
        if search:
            text = search.casefold()
            rows = [
                row
                for row in rows
                if text in str(row.get('name', '')).casefold()
                or text in str(row.get('slug', '')).casefold()
            ]
        return rows

    async def project_slugs(self, org_slug: str) -> dict[str, str]:
        """Project id → slug for an organization, archived projects included."""
        listing = await self.client.list_projects(
            org_slug, [('slim', 'true'), ('include_archived', 'true')]
        )
        return {str(row['id']): str(row['slug']) for row in listing if row.get('slug')}

    async def _check_known(
        self,
        org_slug: str,
        what: str,
        slug: str,
        slugs_of: abc.Callable[[JSONObject], list[str]],
    ) -> None:
        rows = await self.client.list_projects(
            org_slug, [('slim', 'true'), ('include_archived', 'true')]
        )
        known = sorted({name for row in rows for name in slugs_of(row)})
        if slug not in known:
            raise errors.ProjectNotFoundError(
                f'no {what} {slug!r} in {org_slug}: use one of {", ".join(known)}'
            )

    # -- people ------------------------------------------------------------

    async def whoami(self) -> Identity:
        """Who the client acts as: a user, or a service account.

        A service account's token may not read `/users/me` (403,
        docs/imbi-api.md#auth); the token is then checked with a read it
        may do instead.
        """
        base_url = errors.safe_url(self.client.base_url)
        try:
            me = await self.client.get_me()
        except errors.PermissionDeniedError:
            await self.client.list_organizations()
            return Identity(base_url, None)
        name = me.get('display_name')
        email = me.get('email')
        return Identity(
            base_url, str(email) if email else None, str(name) if name else None
        )

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


def _type_slugs(row: JSONObject) -> list[str]:
    return [str(t.get('slug')) for t in row.get('project_types') or [] if t]


def _team_slugs(row: JSONObject) -> list[str]:
    team = row.get('team')
    return [str(team['slug'])] if isinstance(team, dict) and team.get('slug') else []


def _release_body(body: JSONObject) -> JSONObject:
    """The body as sent: no empty tag, and a title when none was given."""
    if body.get('tag') == '':
        del body['tag']  # '' means "no tag"; 2.32.3+ turns it into null anyway
    if not body.get('title'):
        name = body.get('tag') or body.get('committish')
        if name:
            body['title'] = str(name)
    return body


def _checked_event(body: JSONObject) -> JSONObject:
    """The event body, once its status is known to be one the API takes."""
    status = body.get('status')
    if status not in DEPLOYMENT_STATUSES:
        raise ValueError(
            f'unknown deployment status {status!r}: use one of '
            + ', '.join(DEPLOYMENT_STATUSES)
        )
    return body


def _check_same_commit(release: JSONObject, sent: JSONObject, project_id: str) -> None:
    """Refuse an existing release of another commit than the one asked for."""
    asked = sent.get('committish')
    have = release.get('committish')
    if not asked or not have or short_committish(str(asked)) == str(have):
        return
    raise errors.ReleaseMismatchError(
        f'project {project_id!r} already has release {release.get("tag")!r} '
        f'(id {release.get("id")}) of commit {have!r}, not of {asked!r}: '
        'tag the new commit with a new tag, or check the committish',
        release=release,
    )
