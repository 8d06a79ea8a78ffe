"""Fetched projects: the server's document each magic variable started from.

`%imbi fetch PROJECT VAR` gives the user a document to edit in `VAR` and keeps
a deep copy here. `%imbi diff VAR` compares the two; after `--send`, the
server's new document replaces both.
"""

from __future__ import annotations

import copy
import typing


class Snapshot(typing.NamedTuple):
    """The server's document of one project when it was fetched or last sent.

    Attributes:
        org_slug: The project's organization.
        project_id: The project's id.
        document: The patchable document (a private deep copy).
    """

    org_slug: str
    project_id: str
    document: dict[str, typing.Any]

    @property
    def label(self) -> str:
        """The project's slug (or id) for messages."""
        return str(self.document.get('slug') or self.project_id)


class Snapshots:
    """Snapshots by the name of the variable that holds the edited document."""

    def __init__(self) -> None:
        self._by_variable: dict[str, Snapshot] = {}

    def __contains__(self, variable: object) -> bool:
        return variable in self._by_variable

    def __len__(self) -> int:
        return len(self._by_variable)

    def keep(
        self,
        variable: str,
        org_slug: str,
        project_id: str,
        document: dict[str, typing.Any],
    ) -> dict[str, typing.Any]:
        """Remember `document` for `variable` and return a copy for the user."""
        self._by_variable[variable] = Snapshot(
            org_slug, project_id, copy.deepcopy(document)
        )
        return copy.deepcopy(document)

    def get(self, variable: str) -> Snapshot | None:
        """The snapshot of `variable`, if it was filled by `%imbi fetch`."""
        return self._by_variable.get(variable)

    def names(self) -> list[str]:
        """The variables that hold a fetched document, sorted."""
        return sorted(self._by_variable)

    def clear(self) -> None:
        """Forget every snapshot."""
        self._by_variable.clear()
