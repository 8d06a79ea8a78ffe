"""The exceptions of the patching package."""

from __future__ import annotations

import dataclasses
from collections import abc

from imbi_toolkit.errors import ToolkitError


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one operation of a patch.

    Attributes:
        index: The position of the operation in the patch (from 0), or
            `None` when the problem is with the patch as a whole.
        message: What is wrong and, where it helps, what to do instead. It
            names paths but never values, so it cannot leak a secret.
    """

    index: int | None
    message: str

    def __str__(self) -> str:
        if self.index is None:
            return self.message
        return f'operation {self.index}: {self.message}'


class PatchValidationError(ToolkitError, ValueError):
    """A patch that must not be sent: each problem names the op and why.

    Attributes:
        problems: Every problem found, in patch order.
    """

    def __init__(self, problems: abc.Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = [str(problem) for problem in self.problems]
        if len(lines) == 1:
            text = f'invalid JSON Patch: {lines[0]}'
        else:
            text = 'invalid JSON Patch:\n' + '\n'.join(f'  {line}' for line in lines)
        super().__init__(text)
