"""The operations a bulk run can apply: a patch, a release, a deployment.

Each knows how to apply itself to one project, what to journal before its
write is sent, and how to tell, after an interruption, whether that write
already happened (so that a rerun writes nothing twice).
"""

from __future__ import annotations

import abc
import dataclasses
import http
import json
import typing
from collections import abc as cabc

import httpx

from imbi_toolkit.api import errors, paths
from imbi_toolkit.api.client import DEPLOYMENT_STATUSES, Imbi
from imbi_toolkit.bulk.results import Result, Target
from imbi_toolkit.patching import validation

# Called with the data to journal just before the write goes out.
Started = cabc.Callable[[dict[str, typing.Any]], None]


class Operation(abc.ABC):
    """One change applied to every target of a bulk run."""

    kind: typing.ClassVar[str]

    @abc.abstractmethod
    def spec(self) -> dict[str, typing.Any]:
        """The operation's parameters (its journal identity)."""

    def fingerprint(self) -> dict[str, typing.Any]:
        """The JSON form of `spec`, with the kind."""
        return typing.cast(
            dict[str, typing.Any],
            json.loads(json.dumps({'kind': self.kind, **self.spec()}, sort_keys=True)),
        )

    @abc.abstractmethod
    def describe(self) -> str:
        """A short description for the progress bar and the result table."""

    @abc.abstractmethod
    async def apply(self, client: Imbi, target: Target, started: Started) -> Result:
        """Apply the operation to one project."""

    async def reconcile(
        self, client: Imbi, target: Target, data: dict[str, typing.Any]
    ) -> Result | None:
        """Check a write that was in flight when an earlier run stopped.

        Returns:
            The result when the write is known to have happened (or must not
            be repeated); `None` when applying it again is safe.
        """
        return None


def _failed(target: Target, error: Exception, *, in_doubt: bool = False) -> Result:
    status = error.status if isinstance(error, errors.ImbiStatusError) else None
    return Result(target, 'failed', str(error), status, in_doubt=in_doubt)


def _status_result(target: Target, response: httpx.Response, ok_detail: str) -> Result:
    if response.is_success:
        return Result(target, 'ok', ok_detail, response.status_code)
    error = errors.from_response(response)
    conflict = isinstance(error, errors.ConflictError) or (
        isinstance(error, errors.UnprocessableEntityError) and error.test_failed
    )
    status: typing.Literal['conflict', 'failed'] = 'conflict' if conflict else 'failed'
    return Result(target, status, error.detail_text or str(error), error.status)


class Patch(Operation):
    """Apply one JSON Patch to every project.

    Args:
        patch: The operations. Add `test` ops to guard against concurrent
            changes: a project that changed meanwhile is reported as a
            conflict, and the patch may then be retried safely.
    """

    kind = 'patch'

    def __init__(self, patch: cabc.Iterable[cabc.Mapping[str, object]]) -> None:
        self.patch = [dict(op) for op in patch]
        if not self.patch:
            raise ValueError('the patch is empty: pass at least one operation')
        # The same checks as every other way of sending a patch: op names,
        # pointers, values, read-only paths (PatchValidationError names the op).
        validation.validate(self.patch)

    def spec(self) -> dict[str, typing.Any]:
        return {'patch': self.patch}

    def describe(self) -> str:
        return f'patch ({len(self.patch)} op{"s" if len(self.patch) != 1 else ""})'

    @property
    def repeatable(self) -> bool:
        """Whether sending the patch twice cannot write twice.

        Only an append to an array (`/-`) writes again; a patch with a
        `test` op fails cleanly when replayed.
        """
        has_test = any(op['op'] == 'test' for op in self.patch)
        appends = any(str(op['path']).endswith('/-') for op in self.patch)
        return has_test or not appends

    async def apply(self, client: Imbi, target: Target, started: Started) -> Result:
        started({})
        try:
            with errors.translate():
                response = await client.patch_project(
                    target.org_slug, target.project_id, self.patch
                )
        except errors.ImbiTransportError as error:
            return _failed(target, error, in_doubt=error.sent is not False)
        result = _status_result(target, response, 'patched')
        if response.status_code >= 500:  # a proxy may fail after the write
            return dataclasses.replace(result, in_doubt=True)
        if result.status == 'conflict' and response.status_code == 422:
            # A retried patch whose first answer was lost fails its own
            # test op: tell that apart from somebody else's change.
            try:
                if await self._already_applied(client, target):
                    return Result(
                        target, 'ok', 'patched (an earlier attempt applied it)'
                    )
            except errors.ImbiError:
                pass
        return result

    async def reconcile(
        self, client: Imbi, target: Target, data: dict[str, typing.Any]
    ) -> Result | None:
        if await self._already_applied(client, target):
            return Result(target, 'ok', 'patched (found on reconcile)')
        if self.repeatable:
            return None
        return Result(
            target,
            'failed',
            'an earlier run may have applied this patch (it appends to a list); '
            'check the project, then add a test op or use a new journal',
            in_doubt=True,
        )

    async def _already_applied(self, client: Imbi, target: Target) -> bool:
        """Whether the project shows every value the patch sets.

        Only paths that read the same in the project's GET shape can match
        (e.g. `/description`, `/links/...`); any other patch is not
        recognised and is sent again, which `repeatable` made safe.
        """
        import jsonpointer

        setters = [op for op in self.patch if op['op'] in ('add', 'replace')]
        if not setters or any(str(op['path']).endswith('/-') for op in setters):
            return False
        url = paths.build(
            '/organizations/{org_slug}/projects/{project_id}',
            org_slug=target.org_slug,
            project_id=target.project_id,
        )
        with errors.translate():
            response = await client.get(url)
        errors.raise_for_status(response)
        document = response.json()
        for op in setters:
            try:
                value = jsonpointer.resolve_pointer(document, str(op['path']))
            except jsonpointer.JsonPointerException:
                return False
            if value != op.get('value'):
                return False
        return True


class Release(Operation):
    """Create the same release in every project (an existing one is kept).

    Args:
        body: The release (`committish`, `title`, optional `tag`,
            `description`, `links`, `created_by`).
    """

    kind = 'release'

    def __init__(self, body: cabc.Mapping[str, object]) -> None:
        self.body = dict(body)
        if not self.body.get('committish') or not self.body.get('title'):
            raise ValueError('a release needs a committish and a title')

    def spec(self) -> dict[str, typing.Any]:
        return {'body': self.body}

    def describe(self) -> str:
        name = self.body.get('tag') or self.body.get('committish')
        return f'release {name}'

    async def apply(self, client: Imbi, target: Target, started: Started) -> Result:
        started({})
        try:
            release = await client.ensure_release(
                target.org_slug, target.project_id, self.body
            )
        except errors.ConflictError as error:
            return Result(target, 'conflict', error.detail_text, error.status)
        except errors.ImbiError as error:
            return _failed(target, error)
        return Result(target, 'ok', f'release {release.get("id")}')


class Deployment(Operation):
    """Record a deployment event of each project's release in one environment.

    The release is found by tag and/or committish. Recording is not
    idempotent on the server (each POST appends an event), so before sending
    the event the number of events already on the edge is journaled; after an
    interruption, a rerun counts again and does not send an event that
    arrived.

    Args:
        env_slug: The environment (e.g. `production`).
        status: `pending`, `in_progress`, `success`, `failed` or
            `rolled_back`.
        tag: The release's tag.
        committish: The release's commit.
        note: Optional note stored with each event.
    """

    kind = 'deployment'

    def __init__(
        self,
        env_slug: str,
        *,
        status: str,
        tag: str | None = None,
        committish: str | None = None,
        note: str | None = None,
    ) -> None:
        if status not in DEPLOYMENT_STATUSES:
            raise ValueError(
                f'unknown deployment status {status!r}: use one of '
                + ', '.join(DEPLOYMENT_STATUSES)
            )
        if not tag and not committish:
            raise ValueError('pass tag= or committish= to name the release')
        paths.segment('env_slug', env_slug)
        self.env_slug = env_slug
        self.status = status
        self.tag = tag
        self.committish = committish
        self.note = note

    def spec(self) -> dict[str, typing.Any]:
        return {
            'env_slug': self.env_slug,
            'status': self.status,
            'tag': self.tag,
            'committish': self.committish,
            'note': self.note,
        }

    def describe(self) -> str:
        return (
            f'deploy {self.tag or self.committish} to {self.env_slug} ({self.status})'
        )

    async def _events(self, client: Imbi, target: Target, release_id: str) -> int:
        url = paths.build(
            '/organizations/{org_slug}/projects/{project_id}'
            '/releases/{release_id}/environments/{env_slug}',
            org_slug=target.org_slug,
            project_id=target.project_id,
            release_id=release_id,
            env_slug=self.env_slug,
        )
        with errors.translate():
            response = await client.get(url)
        if response.status_code == http.HTTPStatus.NOT_FOUND:
            return 0  # no event on this edge yet
        errors.raise_for_status(response)
        deployments = response.json().get('deployments')
        return len(deployments) if isinstance(deployments, list) else 0

    async def apply(self, client: Imbi, target: Target, started: Started) -> Result:
        try:
            release_id = await client.resolve_release_id(
                target.org_slug,
                target.project_id,
                tag=self.tag,
                committish=self.committish,
            )
            before = await self._events(client, target, release_id)
        except errors.ImbiError as error:
            return _failed(target, error)
        data = {'release_id': release_id, 'events_before': before}
        started(data)
        body: dict[str, object] = {'status': self.status}
        if self.note is not None:
            body['note'] = self.note
        try:
            with errors.translate():
                response = await client.record_deployment(
                    target.org_slug, target.project_id, release_id, self.env_slug, body
                )
        except errors.ImbiTransportError as error:
            if error.sent is False:
                return _failed(target, error)
            # It may have been recorded: count again before calling it failed.
            return await self._settle(client, target, data, error)
        if response.is_success or response.status_code < 500:
            return _status_result(target, response, f'event recorded on {release_id}')
        return await self._settle(client, target, data, errors.from_response(response))

    async def _settle(
        self,
        client: Imbi,
        target: Target,
        data: dict[str, typing.Any],
        error: errors.ImbiError,
    ) -> Result:
        # The answer was lost: count the events again. Finding no new event
        # proves nothing yet (the server may still be working on a slow
        # request), so the result stays in doubt and a rerun checks again.
        try:
            done = await self.reconcile(client, target, data)
        except errors.ImbiError:
            done = None
        return done or _failed_with(
            target,
            error,
            f'{error}; the event may still arrive: rerun with the same journal, '
            'which checks before sending it again',
            in_doubt=True,
        )

    async def reconcile(
        self, client: Imbi, target: Target, data: dict[str, typing.Any]
    ) -> Result | None:
        release_id = str(data.get('release_id') or '')
        if not release_id or 'events_before' not in data:
            return None
        events = await self._events(client, target, release_id)
        if events > int(data['events_before']):
            return Result(
                target, 'ok', f'event recorded on {release_id} (found on reconcile)'
            )
        return None


def _failed_with(
    target: Target, error: errors.ImbiError, detail: str, *, in_doubt: bool = False
) -> Result:
    status = error.status if isinstance(error, errors.ImbiStatusError) else None
    return Result(target, 'failed', detail, status, in_doubt=in_doubt)
