"""Type aliases and constants shared by every layer (one definition each)."""

from __future__ import annotations

import typing

#: A JSON object as the API sends and takes it (a project, a release...).
JSONObject: typing.TypeAlias = dict[str, typing.Any]

#: A JSON Patch as sent: a list of operations.
JSONPatch: typing.TypeAlias = list[JSONObject]

#: The statuses a deployment event may have.
DeploymentStatus: typing.TypeAlias = typing.Literal[
    'pending', 'in_progress', 'success', 'failed', 'rolled_back'
]
DEPLOYMENT_STATUSES: tuple[DeploymentStatus, ...] = typing.get_args(DeploymentStatus)
