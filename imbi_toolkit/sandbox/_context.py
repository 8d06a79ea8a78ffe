"""What every route handler reaches through ``request.app.state.sandbox``."""

from __future__ import annotations

import dataclasses
import typing

from starlette import requests

from imbi_toolkit.sandbox import _auth as auth
from imbi_toolkit.sandbox import _config as sandbox_config
from imbi_toolkit.sandbox import _faults as faults
from imbi_toolkit.sandbox import _seed as seed
from imbi_toolkit.sandbox import _store as store


@dataclasses.dataclass
class Sandbox:
    """One running sandbox: its data, settings, authenticator and fault rules."""

    store: store.Store
    config: sandbox_config.SandboxConfig
    auth: auth.Authenticator
    faults: faults.FaultRules

    def reset(self) -> None:
        """Reload the configured seed, forget every fault rule and issued key."""
        self.store.load(
            seed.build(self.config.seed, self.config.api_version, self.config.projects)
        )
        self.faults.clear()
        self.auth.forget_issued()


def of(request: requests.Request) -> Sandbox:
    """The sandbox serving ``request``."""
    return typing.cast(Sandbox, request.app.state.sandbox)
