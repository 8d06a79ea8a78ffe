"""The hooks that imbi-toolkit plugins implement.

Plugins mark their functions with `imbi_toolkit.hookimpl` and declare an entry
point in the `imbi_toolkit` group. Every hook may be a plain function or an
`async def` (or return an awaitable): the host awaits each result before it
calls the next plugin, in order. No hook stops at the first answer, so an
async plugin never "wins" by returning an un-awaited coroutine.

Hooks run only in `imbi_toolkit.plugins.Toolkit`, the layer around the shared
`imbi_toolkit.api.Imbi` client; the client's own helpers never call them.
An implementation may accept any subset of a hook's arguments, and must not
give them default values (pluggy does not pass arguments that have one).
Every hook is documented, with examples, in `docs/hooks.md`.
"""

from __future__ import annotations

import typing
from collections import abc

import pluggy

from imbi_toolkit.types import JSONObject

if typing.TYPE_CHECKING:
    from imbi_toolkit.api import Imbi

PROJECT_NAME = 'imbi_toolkit'

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

T = typing.TypeVar('T')

#: A hook's return value: the value itself, or an awaitable that gives it.
MaybeAwaitable: typing.TypeAlias = T | abc.Awaitable[T]


@hookspec
def imbi_client_created(client: Imbi) -> MaybeAwaitable[None]:
    """A `Toolkit` is about to use `client` for the first time.

    Called once per client, before its first request through the plugin
    layer. Add event hooks or default headers here; do not send requests.

    Args:
        client: The shared `imbi_toolkit.api.Imbi` client.
    """


@hookspec
def imbi_identity_subject(plugin_slug: str, subject: str) -> MaybeAwaitable[str | None]:
    """Turn a handle into the subject that Imbi stores for an identity.

    For example a GitHub login becomes the numeric GitHub user id. The host
    looks up every subject plugins return with `GET /users/by-identity`, or
    the caller's own subject when no plugin returns one.

    Args:
        plugin_slug: The identity integration's slug (e.g. `github`).
        subject: The handle the caller has (e.g. a login or an id).

    Returns:
        The subject Imbi stores, or `None` when this plugin does not handle
        `plugin_slug` or does not know the handle.
    """


@hookspec
def imbi_resolve_identity(
    client: Imbi, plugin_slug: str, subject: str
) -> MaybeAwaitable[str | None]:
    """Answer an identity lookup directly with an Imbi user's email.

    Every plugin's answer is collected, together with the lookups of the
    subjects from `imbi_identity_subject`. When they name two different
    emails the answer is ambiguous: the host returns `None` and warns, naming
    the plugins that disagreed.

    Args:
        client: The shared `imbi_toolkit.api.Imbi` client.
        plugin_slug: The identity integration's slug (e.g. `github`).
        subject: The handle or subject the caller has.

    Returns:
        The user's email, or `None` when this plugin has no answer.
    """


@hookspec
def imbi_before_release_create(
    client: Imbi, org_slug: str, project_id: str, body: JSONObject
) -> MaybeAwaitable[JSONObject | None]:
    """Change, validate or refuse a release body before it is sent.

    Plugins run in order; each sees the body as the previous one left it.
    Raise `imbi_toolkit.plugins.RefusedError` to refuse the release: nothing
    is sent and the caller gets the error, naming this plugin.

    Args:
        client: The shared `imbi_toolkit.api.Imbi` client.
        org_slug: Organisation slug.
        project_id: Project id.
        body: The release body (`committish`, `title`, `tag`, ...). A plugin
            may change it in place.

    Returns:
        A replacement body, or `None` to keep `body` (with any in-place
        changes).
    """


@hookspec
def imbi_after_release_create(
    client: Imbi,
    org_slug: str,
    project_id: str,
    release: JSONObject,
    created: bool,
) -> MaybeAwaitable[None]:
    """A release was created, or already existed (the API said 409).

    Args:
        client: The shared `imbi_toolkit.api.Imbi` client.
        org_slug: Organisation slug.
        project_id: Project id.
        release: The release as the API returned it, with its `id`.
        created: `True` for a new release, `False` when it already existed.
    """


@hookspec
def imbi_before_deployment_event(
    client: Imbi,
    org_slug: str,
    project_id: str,
    release_id: str,
    env_slug: str,
    body: JSONObject,
) -> MaybeAwaitable[JSONObject | None]:
    """Change, validate or refuse a deployment event before it is sent.

    For example, map a CI system's status to one of Imbi's `pending`,
    `in_progress`, `success`, `failed` or `rolled_back`. Plugins run in
    order; raise `imbi_toolkit.plugins.RefusedError` to refuse the event.

    Args:
        client: The shared `imbi_toolkit.api.Imbi` client.
        org_slug: Organisation slug.
        project_id: Project id.
        release_id: The release's id (already resolved from a tag or
            committish when the caller gave one).
        env_slug: Environment slug.
        body: The event body (`status`, `note`, `external_run_id`).

    Returns:
        A replacement body, or `None` to keep `body`.
    """


@hookspec
def imbi_after_deployment_event(
    client: Imbi,
    org_slug: str,
    project_id: str,
    release_id: str,
    env_slug: str,
    body: JSONObject,
    result: JSONObject,
) -> MaybeAwaitable[None]:
    """A deployment event was recorded.

    Args:
        client: The shared `imbi_toolkit.api.Imbi` client.
        org_slug: Organisation slug.
        project_id: Project id.
        release_id: The release's id.
        env_slug: Environment slug.
        body: The event body as sent.
        result: The API's answer (`environment`, `deployments`,
            `current_status`).
    """


@hookspec
def imbi_before_project_patch(
    client: Imbi, org_slug: str, project_id: str, patch: list[JSONObject]
) -> MaybeAwaitable[list[JSONObject] | None]:
    """Validate, change or refuse a JSON Patch before it is sent.

    Plugins run in order; raise `imbi_toolkit.plugins.RefusedError` to
    refuse the patch.

    Args:
        client: The shared `imbi_toolkit.api.Imbi` client.
        org_slug: Organisation slug.
        project_id: Project id.
        patch: The JSON Patch operations.

    Returns:
        Replacement operations, or `None` to keep `patch`.
    """


@hookspec
def imbi_after_project_patch(
    client: Imbi,
    org_slug: str,
    project_id: str,
    patch: list[JSONObject],
    project: JSONObject,
) -> MaybeAwaitable[None]:
    """The server applied a JSON Patch to a project.

    Args:
        client: The shared `imbi_toolkit.api.Imbi` client.
        org_slug: Organisation slug.
        project_id: Project id.
        patch: The operations as sent.
        project: The project as the API returned it after the patch.
    """


#: Names of every hook, in the order they are documented.
HOOK_NAMES: tuple[str, ...] = (
    'imbi_client_created',
    'imbi_identity_subject',
    'imbi_resolve_identity',
    'imbi_before_release_create',
    'imbi_after_release_create',
    'imbi_before_deployment_event',
    'imbi_after_deployment_event',
    'imbi_before_project_patch',
    'imbi_after_project_patch',
)
