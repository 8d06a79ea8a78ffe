"""The operations a bulk run can apply: a patch, a release, a deployment.

Each sends its write through the operations layer (`imbi_toolkit.Toolkit`),
so a bulk run invokes exactly the plugin hooks and rules that the same single
call does. What is bulk's own: what to journal before a write is sent, and
how to tell, after an interruption, whether that write already happened (so
that a rerun writes nothing twice).
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import json
import typing
from collections import abc as cabc

from imbi_toolkit.api import _paths as paths
from imbi_toolkit.api import errors
from imbi_toolkit.bulk._results import Result, Status, Target
from imbi_toolkit.operations import PlanChangedError
from imbi_toolkit.patching import validate
from imbi_toolkit.plugins.errors import PluginError, RefusedError
from imbi_toolkit.types import DEPLOYMENT_STATUSES, JSONObject

if typing.TYPE_CHECKING:
    from imbi_toolkit.operations import Toolkit

# Awaited with the data to journal just before the write goes out: the write
# must not be sent before it returns (the journal line is then on disk).
Started = cabc.Callable[[JSONObject], cabc.Awaitable[None]]


class Operation(abc.ABC):
    """One change applied to every target of a bulk run."""

    kind: typing.ClassVar[str]

    @abc.abstractmethod
    def spec(self) -> JSONObject:
        """The operation's parameters (its journal identity)."""

    def fingerprint(self) -> JSONObject:
        """The JSON form of `spec`, with the kind."""
        return typing.cast(
            JSONObject,
            json.loads(json.dumps({'kind': self.kind, **self.spec()}, sort_keys=True)),
        )

    @abc.abstractmethod
    def describe(self) -> str:
        """A short description for the progress bar and the result table."""

    @abc.abstractmethod
    async def apply(self, toolkit: Toolkit, target: Target, started: Started) -> Result:
        """Apply the operation to one project."""

    def journal_ahead(self, target: Target) -> bool:
        """Whether the runner may journal ``target``'s `started` line early.

        True only when `apply` journals `{}` (nothing read from the server)
        and `reconcile` settles a write that was never sent by checking the
        server, not by refusing: after a crash, a line written ahead merely
        costs that check.
        """
        return False

    async def reconcile(
        self, toolkit: Toolkit, target: Target, data: JSONObject
    ) -> Result | None:
        """Check a write that was in flight when an earlier run stopped.

        Returns:
            The result when the write is known to have happened (or must not
            be repeated); `None` when applying it again is safe.
        """
        return None


def _failed(target: Target, error: Exception, *, in_doubt: bool = False) -> Result:
    """The result of a write that raised: refused, conflict or failed."""
    if isinstance(error, RefusedError | PlanChangedError):
        return Result(target, 'refused', str(error))
    status = error.status if isinstance(error, errors.ImbiStatusError) else None
    kind: Status = 'failed'
    if isinstance(error, errors.ConflictError | errors.ReleaseMismatchError) or (
        isinstance(error, errors.UnprocessableEntityError) and error.test_failed
    ):
        kind = 'conflict'
    detail = (
        error.detail_text or str(error)
        if isinstance(error, errors.ImbiStatusError)
        else str(error)
    )
    return Result(target, kind, detail, status, in_doubt=in_doubt)


# What a write through the toolkit may raise that concerns one project only.
_PROJECT_ERRORS = (errors.ImbiError, PluginError, PlanChangedError, ValueError)


class ApplyPatch(Operation):
    """Apply one JSON Patch to every project.

    Args:
        patch: The operations. Add `test` ops to guard against concurrent
            changes: a project that changed meanwhile is reported as a
            conflict, and the patch may then be retried safely.
        exactly: Send the operations exactly as given: a project whose
            patch the plugins would change is refused instead (see
            `Toolkit.patch_project`).
    """

    kind = 'patch'

    def __init__(
        self,
        patch: cabc.Iterable[cabc.Mapping[str, object]],
        *,
        exactly: bool = False,
    ) -> None:
        self.exactly = exactly
        self.patch = [dict(op) for op in patch]
        if not self.patch:
            raise ValueError('the patch is empty: pass at least one operation')
        # The same checks as every other way of sending a patch: op names,
        # pointers, values, read-only paths (PatchValidationError names the op).
        validate(self.patch)

    @classmethod
    def _planned(cls, patch: list[JSONObject]) -> ApplyPatch:
        """A plan's patch, sent exactly, without checking it here again.

        It was validated when planned (or is one of a plan file that matches
        its fingerprint), and `Toolkit.patch_project` validates what it sends:
        a third check per project was ~10% of the client's CPU time at
        10,000 projects.
        """
        if not patch:
            raise ValueError('the patch is empty: pass at least one operation')
        operation = cls.__new__(cls)
        operation.exactly = True
        operation.patch = patch
        return operation

    def spec(self) -> JSONObject:
        return {'patch': self.patch}

    def describe(self) -> str:
        return f'patch ({len(self.patch)} op{"s" if len(self.patch) != 1 else ""})'

    def journal_ahead(self, target: Target) -> bool:
        return self.repeatable

    @functools.cached_property
    def repeatable(self) -> bool:
        """Whether sending the patch twice cannot change the result.

        See `imbi_toolkit.patching.replay_safe`: every insert, removal, move
        or copy must be guarded by a `test` of what it changes.
        """
        from imbi_toolkit.patching import replay_safe

        return replay_safe(self.patch)

    async def apply(self, toolkit: Toolkit, target: Target, started: Started) -> Result:
        await started({})
        try:
            await toolkit.patch_project(
                target.org_slug,
                target.project_id,
                self.patch,
                exactly=self.exactly,
                label=target.label,
                # Checked once for every project (`__init__`, or the plan);
                # the toolkit checks again what the plugins change.
                validated=True,
            )
        except errors.ImbiTransportError as error:
            return _failed(target, error, in_doubt=error.sent is not False)
        except errors.ServerError as error:  # a proxy may fail after the write
            return _failed(target, error, in_doubt=True)
        except errors.UnprocessableEntityError as error:
            if error.test_failed and await self._applied(toolkit, target):
                # A retried patch whose first answer was lost fails its own
                # test op: tell that apart from somebody else's change.
                return Result(target, 'ok', 'patched (an earlier attempt applied it)')
            return _failed(target, error)
        except _PROJECT_ERRORS as error:
            return _failed(target, error)
        return Result(target, 'ok', 'patched', 200)

    async def _applied(self, toolkit: Toolkit, target: Target) -> bool:
        try:
            return await toolkit.patch_applied(
                target.org_slug, target.project_id, self.patch
            )
        except errors.ImbiError:
            return False

    async def reconcile(
        self, toolkit: Toolkit, target: Target, data: JSONObject
    ) -> Result | None:
        if await toolkit.patch_applied(target.org_slug, target.project_id, self.patch):
            return Result(target, 'ok', 'patched (found on reconcile)')
        if self.repeatable:
            return None
        return Result(
            target,
            'failed',
            'an earlier run may have applied this patch, and sending it again '
            'could apply it twice: check the project; to send it anyway, plan it '
            'again (bulk.plan guards every change with test ops)',
            in_doubt=True,
        )


class CreateRelease(Operation):
    """Create the same release in every project (an existing one is kept).

    Args:
        body: The release (`committish` and/or `tag`, optional `title`,
            `description`, `links`, `created_by`), as for
            `Toolkit.ensure_release`.
    """

    kind = 'release'

    def __init__(self, body: cabc.Mapping[str, object]) -> None:
        self.body = dict(body)
        self.exactly = False
        if not self.body.get('committish') and not self.body.get('tag'):
            raise ValueError('a release needs a committish or a tag (or both)')

    @classmethod
    def _planned(cls, body: JSONObject) -> CreateRelease:
        """A plan's release, sent exactly (see `Toolkit.ensure_release`)."""
        operation = cls(body)
        operation.exactly = True
        return operation

    def spec(self) -> JSONObject:
        return {'body': self.body}

    def describe(self) -> str:
        name = self.body.get('tag') or self.body.get('committish')
        return f'release {name}'

    async def apply(self, toolkit: Toolkit, target: Target, started: Started) -> Result:
        await started({})
        try:
            outcome = await toolkit.ensure_release(
                target.org_slug, target.project_id, self.body, exactly=self.exactly
            )
        except _PROJECT_ERRORS as error:
            return _failed(target, error)
        release_id = outcome.release.get('id')
        if outcome.created:
            return Result(target, 'ok', f'release {release_id} created', 201)
        return Result(target, 'ok', f'release {release_id} was already there')


class RecordDeployment(Operation):
    """Record a deployment event of each project's release in one environment.

    The release is found by tag and/or committish. Without an
    `external_run_id` the server appends an event per POST, so before
    sending the event the number of events already on the edge is
    journaled; after an interruption, a rerun counts again and does not send
    an event that arrived.

    Args:
        env_slug: The environment (e.g. `production`).
        status: One of `imbi_toolkit.types.DEPLOYMENT_STATUSES`.
        tag: The release's tag.
        committish: The release's commit.
        note: Optional note stored with each event.
        external_run_id: Optional CI run id; servers from API 2.18 keep one
            event per run id, so a repeat changes nothing there.
        external_run_url: Optional link to the CI run.
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
        external_run_id: str | None = None,
        external_run_url: str | None = None,
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
        self.external_run_id = external_run_id
        self.external_run_url = external_run_url
        # Set for a plan's deployment (`_planned`): what was planned.
        self._event: JSONObject | None = None
        self._release_id: str | None = None
        self._events: int | None = None

    @classmethod
    def _planned(
        cls,
        env_slug: str,
        event: JSONObject,
        *,
        release_id: str,
        events: int,
        tag: str | None = None,
        committish: str | None = None,
    ) -> RecordDeployment:
        """A plan's deployment: ``event`` sent exactly to ``release_id``.

        It is sent only while the edge still has the ``events`` events it
        had when planned; otherwise the project is reported as a conflict.
        """
        operation = cls(
            env_slug,
            status=str(event.get('status')),
            # They name the release; the planned id is where the event goes.
            tag=tag,
            committish=committish,
        )
        operation._event = event
        operation._release_id = release_id
        operation._events = events
        return operation

    def spec(self) -> JSONObject:
        spec: JSONObject = {
            'env_slug': self.env_slug,
            'status': self.status,
            'tag': self.tag,
            'committish': self.committish,
            'note': self.note,
        }
        # Left out when unset, so journals of earlier runs still match.
        if self.external_run_id is not None:
            spec['external_run_id'] = self.external_run_id
        if self.external_run_url is not None:
            spec['external_run_url'] = self.external_run_url
        return spec

    def describe(self) -> str:
        return (
            f'deploy {self.tag or self.committish} to {self.env_slug} ({self.status})'
        )

    def _body(self) -> JSONObject:
        if self._event is not None:
            return dict(self._event)
        body: JSONObject = {'status': self.status}
        for name in ('note', 'external_run_id', 'external_run_url'):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body

    async def apply(self, toolkit: Toolkit, target: Target, started: Started) -> Result:
        org_slug, project_id = target.org_slug, target.project_id
        try:
            release_id = self._release_id or await toolkit.resolve_release_id(
                org_slug, project_id, tag=self.tag, committish=self.committish
            )
            before = await toolkit.deployment_count(
                org_slug, project_id, release_id, self.env_slug
            )
        except _PROJECT_ERRORS as error:
            return _failed(target, error)
        if self._events is not None and before != self._events:
            # A planned event's guard: somebody deployed (or deleted events)
            # since planning; sending it now would record what nobody reviewed.
            return Result(
                target,
                'conflict',
                f'deployed since it was planned: release {release_id} has '
                f'{before} event(s) in {self.env_slug}, the plan expected '
                f'{self._events}; nothing was sent (plan it again)',
            )
        data = {'release_id': release_id, 'events_before': before}
        await started(data)
        try:
            await toolkit.record_deployment(
                org_slug,
                project_id,
                self.env_slug,
                self._body(),
                release_id=release_id,
                exactly=self._event is not None,
            )
        except errors.ImbiTransportError as error:
            if error.sent is False:
                return _failed(target, error)
            # It may have been recorded: count again before calling it failed.
            return await self._settle(toolkit, target, data, error)
        except errors.ServerError as error:
            return await self._settle(toolkit, target, data, error)
        except _PROJECT_ERRORS as error:
            return _failed(target, error)
        return Result(target, 'ok', f'event recorded on {release_id}', 200)

    async def _settle(
        self,
        toolkit: Toolkit,
        target: Target,
        data: JSONObject,
        error: errors.ImbiError,
    ) -> Result:
        # The answer was lost: count the events again. Finding no new event
        # proves nothing yet (the server may still be working on a slow
        # request), so the result stays in doubt and a rerun checks again.
        try:
            done = await self.reconcile(toolkit, target, data)
        except errors.ImbiError:
            done = None
        if done is not None:
            return done
        failed = _failed(target, error, in_doubt=True)
        return dataclasses.replace(
            failed,
            detail=f'{error}; the event may still arrive: rerun with the same '
            'journal, which checks before sending it again',
        )

    async def reconcile(
        self, toolkit: Toolkit, target: Target, data: JSONObject
    ) -> Result | None:
        release_id = str(data.get('release_id') or '')
        if not release_id or 'events_before' not in data:
            return None
        events = await toolkit.deployment_count(
            target.org_slug, target.project_id, release_id, self.env_slug
        )
        if events > int(data['events_before']):
            return Result(
                target, 'ok', f'event recorded on {release_id} (found on reconcile)'
            )
        return None
