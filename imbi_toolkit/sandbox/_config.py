"""Settings of one sandbox run: emulated API version, tokens and knobs."""

from __future__ import annotations

import dataclasses
import secrets

from imbi_toolkit.sandbox import _seed as seed_data
from imbi_toolkit.sandbox import _versions as versions

# Emulated API line -> the version the real server reports in openapi.json.
API_VERSIONS: dict[str, str] = {
    line: features.server_version for line, features in versions.GENERATIONS.items()
}

ADMIN_EMAIL = 'admin@example.com'
READONLY_EMAIL = 'readonly@example.com'


def new_api_key() -> str:
    """Return a random token in the real server's API key format."""
    return f'ik_{secrets.token_hex(16)}_{secrets.token_urlsafe(32)}'


@dataclasses.dataclass(frozen=True)
class SandboxConfig:
    """What a sandbox emulates and how it behaves.

    Attributes:
        api_version: The emulated API line: `2.11`, `2.16`, `2.30` or
            `2.41` (see :mod:`imbi_toolkit.sandbox._versions`).
        admin_token: Bearer token with every permission.
        readonly_token: Bearer token with read permissions only.
        seed: Name of the data set loaded into an empty database.
        latency_ms: Delay added to the answer of every API request, after
            it was handled: a network's latency.
        response_time_ms: How long after its arrival the answer of every
            API request leaves (handling included, unless it takes
            longer): a server whose response time is this.
        prefix: Path the API is mounted under (e.g. `/api`), or `''`;
            `/openapi.json` stays at the root, as on the real server.
        projects: With the `demo` seed, how many projects the demo
            organisation has (generated beyond the demo's own), or `None`.
    """

    api_version: str = versions.DEFAULT_LINE
    admin_token: str = dataclasses.field(default_factory=new_api_key)
    readonly_token: str = dataclasses.field(default_factory=new_api_key)
    seed: str = 'demo'
    latency_ms: int = 0
    response_time_ms: int = 0
    prefix: str = ''
    projects: int | None = None

    def __post_init__(self) -> None:
        if self.api_version not in API_VERSIONS:
            raise ValueError(
                f'api_version must be one of {", ".join(API_VERSIONS)}, '
                f'not {self.api_version!r}'
            )
        if self.latency_ms < 0:
            raise ValueError('latency_ms must not be negative')
        if self.response_time_ms < 0:
            raise ValueError('response_time_ms must not be negative')
        seed_data.check_projects(self.seed, self.projects)
        if self.prefix and (
            not self.prefix.startswith('/')
            or self.prefix.endswith('/')
            or '//' in self.prefix
            or any(char in self.prefix for char in '?#% ')
        ):
            raise ValueError(
                f'prefix must be empty or a path like /api, not {self.prefix!r}'
            )

    def __repr__(self) -> str:
        # Tokens stay out of reprs and logs.
        return (
            f'SandboxConfig(api_version={self.api_version!r}, seed={self.seed!r}, '
            f'latency_ms={self.latency_ms!r}, '
            f'response_time_ms={self.response_time_ms!r}, prefix={self.prefix!r}, '
            f'projects={self.projects!r})'
        )

    @property
    def features(self) -> versions.Features:
        """What the emulated line does."""
        return versions.GENERATIONS[self.api_version]

    @property
    def server_version(self) -> str:
        """The version reported in `/openapi.json`'s `info.version`."""
        return self.features.server_version

    @property
    def identity_param(self) -> str:
        """The `/users/by-identity` query parameter naming the integration."""
        return self.features.identity_param
