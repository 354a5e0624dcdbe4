"""Binance spot REST: signed requests, server-time sync, rate-limit headers, and what a failure means.

Every failure is sorted by what it says about the request's effect, because that decides whether an
order may be sent again:
- refused without effect (HTTP 4xx with a code, 429/418 rate limits, no connection): the request
  did nothing; 429/418 also block further requests until their `Retry-After` has passed;
- unknown (timeout, dropped connection, 5xx, -1007 "execution status unknown"): it may have been
  executed; the caller must ask the venue before repeating it (`OutcomeUnknownError`).
A -1021 (timestamp outside recvWindow) re-syncs the clock with `/api/v3/time` and is retried once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp

from kestrel_execution.binance.signing import Credentials
from kestrel_execution.venue import OutcomeUnknownError, VenueUnavailableError
from kestrel_platform.logging import get_logger

_log = get_logger("kestrel.execution.binance.rest")
TIMESTAMP_OUTSIDE_RECV_WINDOW = -1021
STATUS_UNKNOWN = -1007
_LIMIT_HEADERS = {
    "x-mbx-used-weight-1m": "used_weight_1m",
    "x-mbx-order-count-10s": "order_count_10s",
    "x-mbx-order-count-1d": "order_count_1d",
}


class BinanceApiError(Exception):
    """The venue refused the request, with its error code; nothing was executed."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(f"HTTP {status} {code}: {msg}")
        self.status, self.code, self.msg = status, code, msg


@dataclass(slots=True)
class RateLimitState:
    """The latest usage the venue reported in its headers, and any block it imposed."""

    used_weight_1m: int = 0
    order_count_10s: int = 0
    order_count_1d: int = 0
    blocked_until: float = 0.0  # time.monotonic() before which nothing is sent (429/418)


class BinanceRest:
    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None,
        *,
        recv_window_ms: int = 5000,
        timeout_s: float = 5.0,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._credentials = credentials
        self._recv_window_ms = recv_window_ms
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self.offset_ms = 0  # server time - local time, from the last sync
        self.limits = RateLimitState()

    def __repr__(self) -> str:  # never the credentials
        return f"BinanceRest({self._base!r})"

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def now_ms(self) -> int:
        """The venue's clock as last measured."""
        return int(time.time() * 1000) + self.offset_ms

    async def sync_time(self) -> int:
        """Measure the offset to the venue's clock (half the round trip counted); the offset."""
        sent = time.time() * 1000
        data = await self.public("GET", "/api/v3/time")
        received = time.time() * 1000
        self.offset_ms = int(int(data["serverTime"]) - (sent + received) / 2)
        return self.offset_ms

    async def public(self, method: str, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self._send(method, path, urlencode(_clean(params or {})), signed=False)

    async def signed(self, method: str, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """A SIGNED request; a -1021 re-syncs the clock and is tried once more (it did nothing)."""
        for attempt in (1, 2):
            query = urlencode(
                {**_clean(params or {}), "recvWindow": self._recv_window_ms, "timestamp": self.now_ms()}
            )
            assert self._credentials is not None, "signed requests need credentials"
            query += "&" + urlencode({"signature": self._credentials.signer.sign(query)})
            try:
                return await self._send(method, path, query, signed=True)
            except BinanceApiError as exc:
                if exc.code != TIMESTAMP_OUTSIDE_RECV_WINDOW or attempt == 2:
                    raise
                offset = await self.sync_time()
                _log.warning("binance.clock_resynced", offset_ms=offset)
        raise AssertionError("unreachable")

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def _send(self, method: str, path: str, query: str, *, signed: bool) -> Any:
        wait = self.limits.blocked_until - time.monotonic()
        if wait > 0:
            raise VenueUnavailableError(f"rate limited for {wait:.1f}s more", retry_after_s=wait)
        url = f"{self._base}{path}" + (f"?{query}" if query else "")
        headers = {}
        if signed and self._credentials is not None:
            headers["X-MBX-APIKEY"] = self._credentials.api_key.get_secret_value()
        try:
            async with self._client().request(method, url, headers=headers) as response:
                body = await response.text()
                status, response_headers = response.status, response.headers
        except aiohttp.ClientConnectorError as exc:  # never connected: the request did nothing
            raise VenueUnavailableError(f"{method} {path}: cannot connect: {exc}") from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise OutcomeUnknownError(f"{method} {path}: {type(exc).__name__} {exc}") from exc
        self._read_limits(response_headers)
        return self._result(method, path, status, response_headers, body)

    def _result(self, method: str, path: str, status: int, headers: Mapping[str, str], body: str) -> Any:
        data = _json(body)
        code = data.get("code") if isinstance(data, dict) else None
        if status in (418, 429):
            retry_after = float(headers.get("Retry-After", "1") or 1)
            self.limits.blocked_until = time.monotonic() + retry_after
            raise VenueUnavailableError(f"{method} {path}: HTTP {status} {code}", retry_after_s=retry_after)
        if status >= 500 or code == STATUS_UNKNOWN or (status < 300 and data is None):
            raise OutcomeUnknownError(f"{method} {path}: HTTP {status}: {body[:200]}")
        if status >= 400:
            msg = data.get("msg", body[:200]) if isinstance(data, dict) else body[:200]
            raise BinanceApiError(status, int(code) if isinstance(code, int) else 0, str(msg))
        return data

    def _read_limits(self, headers: Mapping[str, str]) -> None:
        for header, attribute in _LIMIT_HEADERS.items():
            value = headers.get(header)
            if value is not None and value.isdigit():
                setattr(self.limits, attribute, int(value))


def _clean(params: Mapping[str, Any]) -> dict[str, str]:
    """Parameters as Binance reads them: no None, decimals in plain notation (never 1E-8)."""
    out: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        out[name] = format(value, "f") if isinstance(value, Decimal) else str(value)
    return out


def _json(body: str) -> Any:
    try:
        return json.loads(body, parse_float=Decimal) if body else None
    except ValueError:
        return None
