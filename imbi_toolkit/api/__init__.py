"""The wire layer: the Imbi HTTP client, its settings, errors and retry policy.

Names load on first use, so that modules that only need the redaction
helpers (the patch previews, the plugin trace) do not import httpx and
pydantic.
"""

from __future__ import annotations

import typing

from imbi_toolkit import _lazy

if typing.TYPE_CHECKING:
    from imbi_toolkit.api._client import Imbi
    from imbi_toolkit.api._settings import Settings
    from imbi_toolkit.api.retries import RetryPolicy

__all__ = ['Imbi', 'RetryPolicy', 'Settings']

_LAZY: dict[str, str] = {
    'Imbi': 'imbi_toolkit.api._client',
    'RetryPolicy': 'imbi_toolkit.api.retries',
    'Settings': 'imbi_toolkit.api._settings',
}

__getattr__, __dir__ = _lazy.exports(__name__, _LAZY, __all__)
