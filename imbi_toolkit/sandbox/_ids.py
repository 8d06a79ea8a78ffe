"""Nano IDs, the 21-character identifiers Imbi gives projects and releases."""

from __future__ import annotations

import random
import secrets

ALPHABET = '_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
SIZE = 21


def nanoid(rng: random.Random | None = None) -> str:
    """Return a new Nano ID; with ``rng``, a reproducible one (for seed data)."""
    if rng is None:
        return ''.join(secrets.choice(ALPHABET) for _ in range(SIZE))
    return ''.join(rng.choice(ALPHABET) for _ in range(SIZE))
