"""imbi-toolkit plugin: semantic-version tags for releases.

The entry point `semver` in the `imbi_toolkit` group names `plugin`, an
instance of `SemverPlugin` configured from `IMBI_TOOLKIT_SEMVER_*`.
"""

from imbi_toolkit_semver.plugin import (
    SEMVER_PATTERN,
    SemverPlugin,
    SemverSettings,
    TagFormat,
)

__all__ = ['SEMVER_PATTERN', 'SemverPlugin', 'SemverSettings', 'TagFormat', 'plugin']

#: The instance the entry point registers.
plugin = SemverPlugin()
