"""The GitHub plugin's configuration, imported on first use (pydantic-settings
is slow to import)."""

from __future__ import annotations

import pydantic
import pydantic_settings


class GitHubSettings(pydantic_settings.BaseSettings):
    """Configuration, read from `IMBI_TOOLKIT_GITHUB_*` environment variables.

    Attributes:
        api_url: GitHub's REST API (GitHub Enterprise: `https://HOST/api/v3`).
        token: Optional GitHub token; anonymous calls are rate-limited.
        identity_slug: The Imbi integration slug of GitHub identities.
        repository_link: The project link that holds the repository's URL.
        release_link_type: The `type` of the release link this plugin adds.
        timeout: Seconds to wait for GitHub.
    """

    model_config = pydantic_settings.SettingsConfigDict(
        env_prefix='IMBI_TOOLKIT_GITHUB_', extra='ignore'
    )

    api_url: pydantic.HttpUrl = pydantic.HttpUrl('https://api.github.com')
    token: pydantic.SecretStr | None = None
    identity_slug: str = 'github'
    repository_link: str = 'github-repository'
    release_link_type: str = 'github_release'
    timeout: float = 10.0
