"""imbi-toolkit plugin for GitHub: identities, release links, deployment states.

The entry point `github` in the `imbi_toolkit` group names `plugin`, an
instance of `GitHubPlugin` configured from `IMBI_TOOLKIT_GITHUB_*`.
"""

import typing

from imbi_toolkit_github.plugin import GitHubPlugin

if typing.TYPE_CHECKING:
    from imbi_toolkit_github._settings import GitHubSettings

__all__ = ['GitHubPlugin', 'GitHubSettings', 'plugin']

#: The instance the entry point registers.
plugin = GitHubPlugin()


def __getattr__(name: str) -> typing.Any:
    # Imported on first use: pydantic-settings takes ~0.15 s to import.
    if name == 'GitHubSettings':
        from imbi_toolkit_github._settings import GitHubSettings

        return GitHubSettings
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
