"""API keys and request signatures (HMAC-SHA256 or Ed25519), as Binance's SIGNED endpoints want them.

Keys come only from the environment or a secrets file, are held as `SecretStr` / key objects, and are
never logged: `repr` of everything here hides them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import SecretStr


class CredentialsError(ValueError):
    """No usable key: the message says what is missing (never what a key is)."""


class Signer(Protocol):
    def sign(self, payload: str) -> str:
        """The `signature` parameter for `payload` (the request's parameters as sent)."""
        ...


@dataclass(frozen=True, slots=True)
class HmacSigner:
    secret: SecretStr = field(repr=False)

    def sign(self, payload: str) -> str:
        key = self.secret.get_secret_value().encode()
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Ed25519Signer:
    private_key: Ed25519PrivateKey = field(repr=False)

    def sign(self, payload: str) -> str:
        return base64.b64encode(self.private_key.sign(payload.encode())).decode()

    @classmethod
    def from_pem(cls, pem: bytes) -> Ed25519Signer:
        key = load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise CredentialsError("the private key file does not hold an Ed25519 key")
        return cls(key)


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: SecretStr = field(repr=False)
    signer: Signer = field(repr=False)


def load_credentials(
    *,
    api_key: SecretStr | None,
    api_secret: SecretStr | None,
    private_key_file: str | None,
    secrets_file: str | None,
) -> Credentials:
    """The key from the settings, or from `secrets_file` (JSON: `api_key` and either `api_secret` or
    `private_key_pem`); an Ed25519 private key file wins over an HMAC secret."""
    if secrets_file:
        try:
            data = json.loads(Path(secrets_file).read_text())
        except (OSError, ValueError) as exc:
            raise CredentialsError(f"cannot read the Binance secrets file {secrets_file}: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("api_key"), str):
            raise CredentialsError(f"the Binance secrets file {secrets_file} has no api_key")
        api_key = SecretStr(data["api_key"])
        if isinstance(data.get("api_secret"), str):
            api_secret = SecretStr(data["api_secret"])
        if isinstance(data.get("private_key_pem"), str):
            return Credentials(api_key, Ed25519Signer.from_pem(data["private_key_pem"].encode()))
    if api_key is None or not api_key.get_secret_value():
        raise CredentialsError(
            "KESTREL_BINANCE_API_KEY (or a secrets file) is required for the Binance venue"
        )
    if private_key_file:
        try:
            pem = Path(private_key_file).read_bytes()
        except OSError as exc:
            raise CredentialsError(f"cannot read the Ed25519 key file {private_key_file}: {exc}") from None
        return Credentials(api_key, Ed25519Signer.from_pem(pem))
    if api_secret is None or not api_secret.get_secret_value():
        raise CredentialsError("KESTREL_BINANCE_API_SECRET or KESTREL_BINANCE_PRIVATE_KEY_FILE is required")
    return Credentials(api_key, HmacSigner(api_secret))
