"""imbi-toolkit plugin for GitHub: identities, release links, deployment states.

The entry point `github` in the `imbi_toolkit` group names `plugin`, an
instance of `GitHubPlugin` configured from `IMBI_TOOLKIT_GITHUB_*`.
"""

from imbi_toolkit_github.plugin import GitHubPlugin, GitHubSettings

__all__ = ['GitHubPlugin', 'GitHubSettings', 'plugin']

#: The instance the entry point registers.
plugin = GitHubPlugin()
