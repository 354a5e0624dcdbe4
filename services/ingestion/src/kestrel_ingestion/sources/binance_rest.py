"""Binance spot REST client for market data: the documented limits honoured on every request.

- `X-MBX-USED-WEIGHT-1M` is read from every answer; past `weight_soft_fraction` of the minute's limit
  (from exchangeInfo) the next request waits for the next minute, so the limit is never hit.
- 429 (rate limited) and 418 (banned): wait exactly `Retry-After` seconds, then retry; a bounded number
  of times, then BinanceRateLimitError. A ban longer than `max_retry_after_s` is reported at once.
- 5xx and network errors: exponential backoff, bounded, then BinanceUnavailableError. Safe here: every
  request is a read.
- Any other error body `{"code", "msg"}` raises BinanceApiError with Binance's words.
Numbers are parsed with `parse_float=Decimal`, so no price ever passes through a binary float.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp

from kestrel_ingestion.sources.binance_config import (
    BinanceApiError,
    BinanceConfig,
    BinanceRateLimitError,
    BinanceUnavailableError,
)
from kestrel_platform.logging import get_logger

WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
_WEIGHT_WINDOW_S = 60.0  # the REQUEST_WEIGHT limit is per calendar minute

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

log = get_logger(__name__)


@dataclass(slots=True)
class RestStats:
    """Counts for metrics and tests."""

    requests: int = 0
    rate_limited: int = 0  # 429/418 answers waited out
    weight_pauses: int = 0  # waits for the next minute because the used weight neared the limit
    server_errors: int = 0  # 5xx answers and network failures retried
    waited_s: float = 0.0


class BinanceRestClient:
    """GET requests against the spot REST API; `clock` and `sleep` are injectable so tests see the waits."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        config: BinanceConfig,
        *,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        stats: RestStats | None = None,
    ) -> None:
        self._session = session
        self._config = config
        self._clock = clock
        self._sleep = sleep
        self._resume_at = 0.0
        self.weight_limit = config.default_weight_limit
        self.used_weight = 0
        self.stats = stats if stats is not None else RestStats()

    async def server_time_ms(self) -> int:
        body = await self.get("/api/v3/time")
        return int(body["serverTime"])

    async def exchange_info(self, symbols: Sequence[str]) -> dict[str, Any]:
        """exchangeInfo for `symbols`; also adopts the REQUEST_WEIGHT limit it announces."""
        params = (
            {"symbol": symbols[0]}
            if len(symbols) == 1
            else {"symbols": json.dumps(list(symbols), separators=(",", ":"))}
        )
        body: dict[str, Any] = await self.get("/api/v3/exchangeInfo", params)
        for limit in body.get("rateLimits", []):
            if limit.get("rateLimitType") == "REQUEST_WEIGHT" and (
                limit.get("interval"),
                limit.get("intervalNum"),
            ) == (
                "MINUTE",
                1,
            ):
                self.weight_limit = int(limit["limit"])
        return body

    async def klines(self, symbol: str, interval: str, start_ms: int, end_ms: int | None) -> list[Any]:
        params = {
            "symbol": symbol,
            "interval": interval,
            "startTime": str(start_ms),
            "limit": str(self._config.page_limit),
        }
        if end_ms is not None:
            params["endTime"] = str(end_ms)
        body = await self.get("/api/v3/klines", params)
        if not isinstance(body, list):
            raise BinanceApiError(
                200, None, f"expected a JSON array of klines, got {type(body).__name__}", "/api/v3/klines"
            )
        return body

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        rate_limited = 0
        failures = 0
        while True:
            await self._wait_until_allowed()
            self.stats.requests += 1
            try:
                status, headers, text = await self._fetch(path, params)
            except (aiohttp.ClientError, TimeoutError) as exc:
                failures += 1
                await self._back_off(path, failures, f"{type(exc).__name__}: {exc}")
                continue
            self._note_weight(headers)
            if status == 200:
                return json.loads(text, parse_float=Decimal)
            if status in (429, 418):
                rate_limited += 1
                self._schedule_retry_after(path, status, headers, text, rate_limited)
                continue
            if status >= 500:
                failures += 1
                await self._back_off(path, failures, f"HTTP {status}: {text[:200]}")
                continue
            code, msg = _error_body(text)
            raise BinanceApiError(status, code, msg, path)

    async def _fetch(self, path: str, params: Mapping[str, str] | None) -> tuple[int, Mapping[str, str], str]:
        timeout = aiohttp.ClientTimeout(total=self._config.request_timeout_s)
        async with self._session.get(
            self._config.rest_url + path, params=params, timeout=timeout
        ) as response:
            return response.status, response.headers, await response.text()

    async def _wait_until_allowed(self) -> None:
        delay = self._resume_at - self._clock()
        if delay > 0:
            self.stats.waited_s += delay
            await self._sleep(delay)
        self._resume_at = 0.0  # waited out: a new pause needs a new reason

    def _note_weight(self, headers: Mapping[str, str]) -> None:
        raw = headers.get(WEIGHT_HEADER)
        if raw is None or not raw.isdigit():
            return
        self.used_weight = int(raw)
        if self.used_weight >= self._config.weight_soft_fraction * self.weight_limit:
            now = self._clock()
            # Binance counts weight per calendar minute; a little margin covers clock skew.
            next_window = (math.floor(now / _WEIGHT_WINDOW_S) + 1) * _WEIGHT_WINDOW_S + 0.5
            if next_window > self._resume_at:
                self._resume_at = next_window
                self.stats.weight_pauses += 1
                log.warning(
                    "binance.weight_near_limit",
                    used=self.used_weight,
                    limit=self.weight_limit,
                    pause_s=round(next_window - now, 3),
                )

    def _schedule_retry_after(
        self, path: str, status: int, headers: Mapping[str, str], text: str, attempt: int
    ) -> None:
        code, msg = _error_body(text)
        raw = headers.get("Retry-After")
        retry_after = (
            float(raw) if raw is not None and _is_number(raw) else self._config.default_retry_after_s
        )
        what = "banned (418)" if status == 418 else "rate-limited (429)"
        patience = self._config.max_retry_after_s
        if retry_after > patience:
            raise BinanceRateLimitError(
                f"Binance {path}: {what} for {retry_after:.0f} s, longer than the {patience:.0f} s "
                f"this source waits; code {code}: {msg}"
            )
        if attempt > self._config.max_rate_limit_retries:
            raise BinanceRateLimitError(
                f"Binance {path}: still {what} after {attempt - 1} waits of Retry-After; code {code}: {msg}"
            )
        self.stats.rate_limited += 1
        self._resume_at = max(self._resume_at, self._clock() + retry_after)
        log.warning(
            "binance.rate_limited", path=path, status=status, retry_after_s=retry_after, attempt=attempt
        )

    async def _back_off(self, path: str, failures: int, reason: str) -> None:
        if failures > self._config.max_server_error_retries:
            raise BinanceUnavailableError(f"Binance {path} failed {failures} times in a row; last: {reason}")
        self.stats.server_errors += 1
        delay = min(self._config.backoff_max_s, self._config.backoff_initial_s * 2 ** (failures - 1))
        log.warning("binance.retry", path=path, reason=reason, attempt=failures, delay_s=delay)
        self.stats.waited_s += delay
        await self._sleep(delay)


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _error_body(text: str) -> tuple[int | None, str]:
    try:
        body = json.loads(text)
    except ValueError:
        return None, text[:200]
    if isinstance(body, dict):
        code = body.get("code")
        return (code if isinstance(code, int) else None), str(body.get("msg", text[:200]))
    return None, text[:200]
