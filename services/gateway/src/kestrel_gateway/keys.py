"""API keys and roles: the key format, its hash, and which role may do what. Pure: no I/O.

A key reads `kst_<key_id>_<secret>`: `key_id` is 12 random hex digits, public, and finds the stored row
by primary key; `secret` is 32 random bytes (256 bits) in URL-safe base64. Only sha256(secret) is
stored. A fast unsalted hash is enough here because the secret is uniformly random and 256 bits long:
no dictionary or precomputed table covers that space and brute force is out of reach at any hash
speed, while salts and slow KDFs (bcrypt, argon2) exist to protect low-entropy human passwords. Being
fast also keeps checking a key on every request cheap. Hashes are compared in constant time.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

__all__ = [
    "KEY_PREFIX",
    "IssuedKey",
    "KeyFormatError",
    "ParsedKey",
    "Role",
    "generate_key",
    "hash_secret",
    "parse_key",
    "permits",
    "secret_matches",
]

KEY_PREFIX = "kst"
KEY_ID_HEX_DIGITS = 12
SECRET_BYTES = 32
_KEY = re.compile(
    rf"^{KEY_PREFIX}_(?P<key_id>[0-9a-f]{{{KEY_ID_HEX_DIGITS}}})_(?P<secret>[A-Za-z0-9_-]{{43}})$"
)


class Role(enum.StrEnum):
    """Ordered: each role may do everything the ones before it may."""

    VIEWER = "viewer"  # GET endpoints and the /ws live feed
    TRADER = "trader"  # + POST /api/orders
    ADMIN = "admin"  # + the kill switch

    @property
    def rank(self) -> int:
        return list(Role).index(self)


def permits(granted: Role, required: Role) -> bool:
    """Whether a key of role `granted` may call what needs `required`."""
    return granted.rank >= required.rank


class KeyFormatError(ValueError):
    """The presented string is not a Kestrel API key."""


@dataclass(frozen=True, slots=True)
class ParsedKey:
    key_id: str
    secret: str


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: `key` is shown once to whoever created it; only `key_hash` is stored."""

    key_id: str
    key: str
    key_hash: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_key() -> IssuedKey:
    key_id = secrets.token_hex(KEY_ID_HEX_DIGITS // 2)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return IssuedKey(key_id=key_id, key=f"{KEY_PREFIX}_{key_id}_{secret}", key_hash=hash_secret(secret))


def parse_key(text: str) -> ParsedKey:
    match = _KEY.fullmatch(text.strip())
    if match is None:
        raise KeyFormatError(f"not a Kestrel API key (expected {KEY_PREFIX}_<12 hex>_<43 base64url chars>)")
    return ParsedKey(key_id=match["key_id"], secret=match["secret"])


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time: the time taken says nothing about how much of the hash matched."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)
