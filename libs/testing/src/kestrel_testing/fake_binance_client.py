"""A minimal client side of Binance's SIGNED rules, for tests of the fake (and of code that talks to it).

It builds requests the way Binance documents them, independently of the server's checking code:
parameters url-encoded in the order given, `timestamp` (and `recvWindow`) appended, the signature
computed over `query string + body` as sent and appended last (percent-encoded for Ed25519's base64).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from yarl import URL

Signer = Callable[[str], str]


def hmac_signer(secret: str) -> Signer:
    return lambda payload: hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def ed25519_signer(private_key: Ed25519PrivateKey) -> Signer:
    return lambda payload: base64.b64encode(private_key.sign(payload.encode())).decode()


def ws_signature_payload(params: Mapping[str, object]) -> str:
    """The WebSocket API's signed payload: params but `signature`, sorted by name, as k=v&..."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "signature")


class SignedClient:
    """Sends SIGNED requests to `base_url` with one key; every call returns (status, headers, json)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: str | None,
        sign: Signer,
        *,
        clock_ms: Callable[[], int] | None = None,
    ) -> None:
        self.session = session
        self.base_url = base_url
        self.api_key = api_key
        self.sign = sign
        self.clock_ms = clock_ms or (lambda: int(time.time() * 1000))

    async def call(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        body: Mapping[str, str] | None = None,
        timestamp: int | None = None,
        recv_window: int | None = None,
        signature: str | None = None,
        timeout_s: float | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """`params` go in the query string, `body` in a form body; `timestamp` and `recvWindow` join
        the body when there is one (the query otherwise); `signature` overrides the computed one."""
        query, form = dict(params or {}), dict(body) if body is not None else None
        tail = {"timestamp": str(timestamp if timestamp is not None else self.clock_ms())}
        if recv_window is not None:
            tail["recvWindow"] = str(recv_window)
        (form if form is not None else query).update(tail)
        raw_query, raw_body = urlencode(query), urlencode(form) if form is not None else ""
        sig = quote(signature if signature is not None else self.sign(raw_query + raw_body), safe="")
        if form is not None:
            raw_body += f"&signature={sig}"
        else:
            raw_query += ("&" if raw_query else "") + f"signature={sig}"
        headers = {"X-MBX-APIKEY": self.api_key} if self.api_key is not None else {}
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        url = URL(f"{self.base_url}{path}?{raw_query}", encoded=True)
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with self.session.request(
            method,
            url,
            data=raw_body.encode() if form is not None else None,
            headers=headers,
            timeout=timeout,
        ) as response:
            return response.status, dict(response.headers), await response.json(content_type=None)
