"""Timestamps in the two forms Imbi emits.

Raw graph dicts (organisations, environments, edge properties) carry the
stored ``isoformat()`` string (``+00:00``); pydantic response models
(projects, teams, releases, users, deployment events) use ``Z``.
"""

from __future__ import annotations

import datetime
import functools


def now() -> str:
    """The current UTC time as stored: ISO 8601 with ``+00:00``."""
    return datetime.datetime.now(datetime.UTC).isoformat()


# A response shows the same few stored timestamps (organisation, team, types)
# over and over.
@functools.lru_cache(maxsize=1024)
def zulu(stored: str | None) -> str | None:
    """Render a stored timestamp the way a pydantic response model does."""
    if stored is None:
        return None
    parsed = datetime.datetime.fromisoformat(stored).astimezone(datetime.UTC)
    return parsed.isoformat().replace('+00:00', 'Z')
