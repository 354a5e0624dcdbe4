"""Validation, errors and request weight of the fake Binance REST API, as the spot API documents them.

Error bodies are `{"code": <negative int>, "msg": "..."}` with HTTP 400 for a bad request, 429 (with
`Retry-After`) when the request weight of the current minute is exceeded, 418 for a ban.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
ENDPOINT_WEIGHT = {"/api/v3/ping": 1, "/api/v3/time": 1, "/api/v3/exchangeInfo": 20, "/api/v3/klines": 2}

_SYMBOL_RANGE = "^[A-Z0-9-_.]{1,20}$"
_NUMBER_RANGE = "^[0-9]{1,20}$"


class RejectedRequestError(Exception):
    """A request the API refuses: becomes an error response with Binance's code and message."""

    def __init__(
        self,
        status: int,
        code: int,
        msg: str,
        retry_after_s: int | None = None,
        *,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {msg}")
        self.status = status
        self.code = code
        self.msg = msg
        self.retry_after_s = retry_after_s
        # cancelReplace failures carry a `data` object; order endpoints add their order-count headers.
        self.data = data
        self.headers: dict[str, str] = dict(headers or {})

    def error_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.data is not None:
            body["data"] = self.data
        return body

    def response(self, used_weight: int) -> web.Response:
        headers = {**self.headers, WEIGHT_HEADER: str(used_weight)}
        if self.retry_after_s is not None:
            headers["Retry-After"] = str(self.retry_after_s)
        body = json.dumps(self.error_body())
        return web.Response(status=self.status, text=body, content_type="application/json", headers=headers)


def illegal_chars(param: str, legal: str) -> RejectedRequestError:
    msg = f"Illegal characters found in parameter '{param}'; legal range is '{legal}'."
    return RejectedRequestError(400, -1100, msg)


def mandatory_missing(param: str) -> RejectedRequestError:
    msg = f"Mandatory parameter '{param}' was not sent, was empty/null, or malformed."
    return RejectedRequestError(400, -1102, msg)


def invalid_symbol() -> RejectedRequestError:
    return RejectedRequestError(400, -1121, "Invalid symbol.")


def invalid_parameter(param: str) -> RejectedRequestError:
    return RejectedRequestError(400, -1130, f"Data sent for parameter '{param}' is not valid.")


def check_known_params(query: Mapping[str, str], known: set[str]) -> None:
    read = [name for name in query if name in known]
    if len(read) != len(query):
        msg = (
            f"Not all sent parameters were read; read '{len(read)}' parameter(s) but was sent '{len(query)}'."
        )
        raise RejectedRequestError(400, -1104, msg)


def symbol_param(query: Mapping[str, str], name: str = "symbol", *, required: bool = True) -> str | None:
    value = query.get(name)
    if not value:
        if required:
            raise mandatory_missing(name)
        return None
    if not re.fullmatch(_SYMBOL_RANGE[1:-1], value):
        raise illegal_chars(name, _SYMBOL_RANGE)
    return value


def int_param(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None:
        return None
    if not re.fullmatch(_NUMBER_RANGE[1:-1], value):
        raise illegal_chars(name, _NUMBER_RANGE)
    return int(value)


def symbols_list_param(query: Mapping[str, str]) -> list[str] | None:
    """The `symbols` parameter: a JSON array of symbol names."""
    raw = query.get("symbols")
    if raw is None:
        return None
    try:
        parsed: Any = json.loads(raw)
    except ValueError:
        raise illegal_chars("symbols", _SYMBOL_RANGE) from None
    if not isinstance(parsed, list) or not parsed or not all(isinstance(s, str) for s in parsed):
        raise mandatory_missing("symbols")
    for name in parsed:
        if not re.fullmatch(_SYMBOL_RANGE[1:-1], name):
            raise illegal_chars("symbols", _SYMBOL_RANGE)
    return parsed


@dataclass(slots=True)
class InjectedFault:
    """One scripted failure for the next REST requests (see FakeBinance.fail_next)."""

    remaining: int
    status: int
    retry_after_s: int | None
    code: int
    msg: str


class WeightMeter:
    """Request weight of the current window (one minute by default, aligned like Binance's)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._window = self._current_window()
        self._used = 0

    def _current_window(self) -> int:
        return math.floor(time.time() / self.window_s)

    def _roll(self) -> None:
        window = self._current_window()
        if window != self._window:
            self._window = window
            self._used = 0

    @property
    def used(self) -> int:
        self._roll()
        return self._used

    def set_used(self, weight: int) -> None:
        self._roll()
        self._used = weight

    def seconds_to_window_end(self) -> int:
        end = (self._window + 1) * self.window_s
        return max(1, math.ceil(end - time.time()))

    def charge(self, weight: int) -> None:
        """Count a request; reject it with 429 and Retry-After when it goes over the limit."""
        self._roll()
        self._used += weight
        if self._used > self.limit:
            raise RejectedRequestError(
                429,
                -1003,
                f"Too much request weight used; current limit is {self.limit} request weight per 1 MINUTE. "
                "Please use WebSocket Streams for live updates to avoid polling the API.",
                retry_after_s=self.seconds_to_window_end(),
            )


def rate_limits_entry(limit: int, orders_10s: int = 100, orders_1d: int = 200000) -> list[dict[str, Any]]:
    return [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": limit},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": orders_10s},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": orders_1d},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
    ]
