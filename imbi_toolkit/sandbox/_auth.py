"""Bearer authentication and permissions, with the real server's answers.

The sandbox knows two tokens: the admin token (an admin user: every
permission) and the read-only token (the ``readonly`` role). Any other token
is refused the way Imbi refuses an unknown API key or JWT.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections import abc

from starlette import requests

from imbi_toolkit.sandbox import _config as sandbox_config
from imbi_toolkit.sandbox import _errors as errors
from imbi_toolkit.sandbox import _store as sandbox_store

# What an admin holds (admins pass every check anyway; /users/me lists these).
ALL_PERMISSIONS: tuple[str, ...] = (
    'environment:read',
    'environment:write',
    'organization:read',
    'organization:write',
    'project:create',
    'project:delete',
    'project:read',
    'project:write',
    'team:read',
    'team:write',
    'user:read',
    'user:write',
)

READONLY_PERMISSIONS: tuple[str, ...] = (
    'environment:read',
    'organization:read',
    'project:read',
    'team:read',
    'user:read',
)

# What each seeded role grants in its organisation (docs/imbi-api.md#auth).
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    'admin': ALL_PERMISSIONS,
    'developer': (
        'environment:read',
        'organization:read',
        'project:create',
        'project:read',
        'project:write',
        'team:read',
        'user:read',
    ),
    'readonly': READONLY_PERMISSIONS,
}

_MISSING_CREDENTIALS = errors.ApiError(
    401, 'Missing authentication credentials', {'WWW-Authenticate': 'Bearer'}
)


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who a request acts as."""

    email: str
    is_admin: bool
    permissions: tuple[str, ...]

    def allows(self, permission: str) -> bool:
        return self.is_admin or permission in self.permissions


@dataclasses.dataclass(frozen=True)
class IssuedKey:
    """An API key issued with ``POST /_sandbox/api-keys`` to a seeded user."""

    secret: bytes
    email: str
    scopes: tuple[str, ...]


class Authenticator:
    """Resolve bearer tokens to principals for one sandbox configuration.

    Args:
        config: The sandbox's settings (its admin and read-only tokens).
        store: Where the users behind issued API keys are read from.
    """

    def __init__(
        self,
        config: sandbox_config.SandboxConfig,
        store: sandbox_store.Store | None = None,
    ) -> None:
        self._store = store
        self._issued: dict[str, IssuedKey] = {}
        self._admin = (
            config.admin_token.encode(),
            Principal(sandbox_config.ADMIN_EMAIL, True, ALL_PERMISSIONS),
        )
        self._readonly = (
            config.readonly_token.encode(),
            Principal(sandbox_config.READONLY_EMAIL, False, READONLY_PERMISSIONS),
        )

    def authenticate(self, request: requests.Request) -> Principal:
        """Return the request's principal.

        Raises:
            ApiError: 401, with `WWW-Authenticate: Bearer` only when no
                bearer credentials were sent.
        """
        header = request.headers.get('authorization', '')
        scheme, _, credentials = header.partition(' ')
        credentials = credentials.strip()
        if scheme.lower() != 'bearer' or not credentials:
            raise _MISSING_CREDENTIALS
        presented = credentials.encode()
        for token, principal in (self._admin, self._readonly):
            if hmac.compare_digest(presented, token):
                return principal
        issued = self._issued_principal(credentials)
        if issued is not None:
            return issued
        raise errors.ApiError(401, _unknown_token_detail(credentials))

    def issue(self, email: str, scopes: abc.Sequence[str]) -> str:
        """Issue an API key for a user, narrowed to ``scopes`` when given."""
        token = sandbox_config.new_api_key()
        _, key_id, secret = token.split('_', 2)
        self._issued[key_id] = IssuedKey(secret.encode(), email, tuple(scopes))
        return token

    def forget_issued(self) -> None:
        """Revoke every issued API key."""
        self._issued.clear()

    def _issued_principal(self, token: str) -> Principal | None:
        parts = token.split('_', 2)
        key = self._issued.get(parts[1]) if len(parts) == 3 else None
        if (
            key is None
            or parts[0] != 'ik'
            or not hmac.compare_digest(parts[2].encode(), key.secret)
            or self._store is None
        ):
            return None
        user = self._store.user(key.email)
        if user is None:
            raise errors.ApiError(401, 'API key owner not found')
        if not user['is_active']:
            raise errors.ApiError(401, 'User account is inactive')
        # The union of what the user's roles grant, narrowed by the key's
        # scopes; an admin passes every check whatever the scopes say.
        granted = {
            permission
            for membership in self._store.memberships(key.email)
            for permission in ROLE_PERMISSIONS.get(membership['role'], ())
        }
        if key.scopes:
            granted &= set(key.scopes)
        return Principal(key.email, bool(user['is_admin']), tuple(sorted(granted)))

    def require(self, request: requests.Request, permission: str) -> Principal:
        """Authenticate and check one permission.

        Raises:
            ApiError: 401 as in `authenticate`; 403
                `Permission denied: <permission> required`.
        """
        principal = self.authenticate(request)
        if not principal.allows(permission):
            raise errors.ApiError(403, f'Permission denied: {permission} required')
        return principal


def _unknown_token_detail(token: str) -> str:
    # Imbi treats `ik_...` as an API key and anything else as a JWT. A key
    # is looked up by the part between the first two underscores: only one
    # without three parts is malformed; any other unknown key is "revoked".
    if not token.startswith('ik_'):
        return 'Invalid token'
    if len(token.split('_', 2)) != 3:
        return 'Invalid API key format'
    return 'Invalid or revoked API key'
