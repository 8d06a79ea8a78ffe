"""The operations layer: every way in runs the same hooks with the same rules.

`Toolkit` wraps the wire client (`imbi_toolkit.api.Imbi`); the magics, the
bulk runner and your code call it. See `imbi_toolkit.operations.Toolkit`.

    >>> from imbi_toolkit import Toolkit
    >>> toolkit = Toolkit(client)
    >>> release = await toolkit.create_release('engineering', project_id, body)
"""

from imbi_toolkit.operations._history import History, HistoryEntry, NotUndoableError
from imbi_toolkit.operations._toolkit import (
    Identity,
    PatchChangedError,
    PlanChangedError,
    ReleaseOutcome,
    Toolkit,
)

__all__ = [
    'History',
    'HistoryEntry',
    'Identity',
    'NotUndoableError',
    'PatchChangedError',
    'PlanChangedError',
    'ReleaseOutcome',
    'Toolkit',
]
