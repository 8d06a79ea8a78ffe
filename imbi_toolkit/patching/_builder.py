"""`PatchBuilder`: write a patch by hand, one operation at a time."""

from __future__ import annotations

import typing
from collections import abc

from imbi_toolkit.patching._patch import Patch
from imbi_toolkit.patching._pointer import Token, as_pointer

Path: typing.TypeAlias = str | abc.Sequence[Token]


class PatchBuilder:
    """Collect operations and build a `Patch`.

    A path is either a JSON Pointer string, used as is (`'/links/grafana'`),
    or a sequence of plain keys and indices, which are escaped for you
    (`('links', 'ci/cd')` becomes `'/links/ci~1cd'`). Each method returns the
    builder, so calls chain.

    Examples:
        >>> patch = (
        ...     PatchBuilder()
        ...     .test('/framework', 'fastapi')
        ...     .replace('/framework', 'litestar')
        ...     .add(('links', 'ci/cd'), 'https://ci.example.com')
        ...     .build()
        ... )
        >>> patch[2]['path']
        '/links/ci~1cd'
    """

    def __init__(self) -> None:
        self._operations: list[dict[str, typing.Any]] = []

    def add(self, path: Path, value: object) -> PatchBuilder:
        """Add a key to an object, or insert into an array (`-` appends)."""
        return self._append('add', path, value=value)

    def replace(self, path: Path, value: object) -> PatchBuilder:
        """Replace the value at an existing path."""
        return self._append('replace', path, value=value)

    def remove(self, path: Path) -> PatchBuilder:
        """Remove the value at an existing path."""
        return self._append('remove', path)

    def move(self, source: Path, path: Path) -> PatchBuilder:
        """Move the value at `source` to `path`."""
        return self._append('move', path, source=source)

    def copy(self, source: Path, path: Path) -> PatchBuilder:
        """Copy the value at `source` to `path`."""
        return self._append('copy', path, source=source)

    def test(self, path: Path, value: object) -> PatchBuilder:
        """Make the whole patch fail unless the value at `path` is `value`."""
        return self._append('test', path, value=value)

    def build(self) -> Patch:
        """Return the operations collected so far as a `Patch`."""
        return Patch(self._operations)

    def __len__(self) -> int:
        return len(self._operations)

    def _append(
        self, name: str, path: Path, *, source: Path | None = None, **value: object
    ) -> PatchBuilder:
        operation: dict[str, typing.Any] = {'op': name, 'path': as_pointer(path)}
        if source is not None:
            operation['from'] = as_pointer(source)
        operation.update(value)
        self._operations.append(operation)
        return self
