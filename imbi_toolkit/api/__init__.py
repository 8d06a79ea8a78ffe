"""The Imbi HTTP client and its settings."""

from imbi_toolkit.api.client import Imbi
from imbi_toolkit.api.retries import RetryPolicy
from imbi_toolkit.api.settings import Settings

__all__ = ['Imbi', 'RetryPolicy', 'Settings']
