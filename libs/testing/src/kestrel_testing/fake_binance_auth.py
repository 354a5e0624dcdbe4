"""API keys and SIGNED-request checks of the fake Binance, for REST and the WebSocket API.

REST signs `query string + body` exactly as sent (no separator, signature removed); the WebSocket API
signs the request's params other than `signature`, sorted by name, as `k=v&...`. HMAC keys sign with
hex HMAC-SHA256 of the secret; Ed25519 keys with base64 of the signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from kestrel_testing.fake_binance_rest import RejectedRequestError, int_param, mandatory_missing

DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60000
SIGNED_PARAMS = frozenset({"timestamp", "signature", "recvWindow"})


def bad_key_format() -> RejectedRequestError:
    return RejectedRequestError(401, -2014, "API-key format invalid.")


def rejected_key() -> RejectedRequestError:
    return RejectedRequestError(401, -2015, "Invalid API-key, IP, or permissions for action.")


def bad_signature() -> RejectedRequestError:
    return RejectedRequestError(400, -1022, "Signature for this request is not valid.")


def outside_recv_window() -> RejectedRequestError:
    return RejectedRequestError(400, -1021, "Timestamp for this request is outside of the recvWindow.")


@dataclass(frozen=True, slots=True)
class FakeApiKey:
    """A key the fake accepts; build one with `FakeApiKey.hmac` or `FakeApiKey.ed25519`."""

    api_key: str
    secret: bytes | None = None
    public_key: Ed25519PublicKey | None = None

    @classmethod
    def hmac(cls, api_key: str, secret: str | bytes) -> FakeApiKey:
        return cls(api_key, secret=secret.encode() if isinstance(secret, str) else secret)

    @classmethod
    def ed25519(cls, api_key: str, public_key: Ed25519PublicKey | bytes) -> FakeApiKey:
        if isinstance(public_key, bytes):
            loaded = load_pem_public_key(public_key)
            if not isinstance(loaded, Ed25519PublicKey):
                raise ValueError("the PEM does not hold an Ed25519 public key")
            public_key = loaded
        return cls(api_key, public_key=public_key)

    def verifies(self, payload: str, signature: str) -> bool:
        if self.secret is not None:
            expected = hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()
            return hmac.compare_digest(expected, signature)
        assert self.public_key is not None
        try:
            self.public_key.verify(base64.b64decode(signature, validate=True), payload.encode())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


def rest_payload(raw_query: str, raw_body: str) -> str:
    """Binance's totalParams: the query string then the body, each without its `signature` pair."""

    def strip(raw: str) -> str:
        return "&".join(p for p in raw.split("&") if p and not p.startswith("signature="))

    return strip(raw_query) + strip(raw_body)


def ws_payload(params: Mapping[str, object]) -> str:
    return "&".join(f"{k}={_ws_value(v)}" for k, v in sorted(params.items()) if k != "signature")


def _ws_value(value: object) -> str:
    # JSON booleans are signed as the client wrote them: true/false.
    return str(value).lower() if isinstance(value, bool) else str(value)


class SignatureChecker:
    """Checks key, signature and timestamp; `server_time` is the clock the recvWindow is measured on."""

    def __init__(self, keys: Sequence[FakeApiKey], server_time: Callable[[], int]) -> None:
        self._keys = {key.api_key: key for key in keys}
        self._server_time = server_time
        self._reject_timestamps = 0

    def reject_timestamp_next(self, count: int) -> None:
        self._reject_timestamps += count

    def check(self, api_key: str | None, params: Mapping[str, str], payload: str) -> FakeApiKey:
        if not api_key:
            raise bad_key_format()
        key = self._keys.get(api_key)
        if key is None:
            raise rejected_key()
        timestamp = int_param(params, "timestamp")
        if timestamp is None:
            raise mandatory_missing("timestamp")
        signature = params.get("signature")
        if not signature:
            raise mandatory_missing("signature")
        recv_window = int_param(params, "recvWindow")
        if recv_window is None:
            recv_window = DEFAULT_RECV_WINDOW_MS
        if recv_window > MAX_RECV_WINDOW_MS:
            raise RejectedRequestError(400, -1131, "recvWindow must be less than 60000")
        if not key.verifies(payload, signature):
            raise bad_signature()
        if self._reject_timestamps > 0:
            self._reject_timestamps -= 1
            raise outside_recv_window()
        now = self._server_time()
        # Binance accepts timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow.
        if timestamp >= now + 1000 or now - timestamp > recv_window:
            raise outside_recv_window()
        return key
