"""An in-process server speaking Binance spot's documented market-data REST and WebSocket formats.

    async with FakeBinance({"BTCUSDT": make_klines(t0, 2_500)}, now_ms=t_now) as fake:
        source = BinanceSource(..., rest_url=fake.rest_url, ws_url=fake.ws_url)

REST: GET /api/v3/ping, /api/v3/time, /api/v3/exchangeInfo, /api/v3/klines with Binance's parameter
validation, error JSON and request weight (`X-MBX-USED-WEIGHT-1M` on every response, 429 with
`Retry-After` past the limit). WebSocket: raw `/ws/<stream>` and combined `/stream?streams=a/b`
(`{"stream": ..., "data": ...}`) kline streams, server pings, SUBSCRIBE/UNSUBSCRIBE requests.

Time is scripted: klines are served from the given history up to `now_ms` (a kline whose close time is
not yet past `now_ms` is the still-open one, served as Binance does). The live feed plays a list of
LiveUpdate (see `set_live_script`); each played update moves `now_ms` to its event time and lands in
the history, so REST sees what the WebSocket announced, including while no client is connected.

Faults a test can script: `fail_next` (429/418 with Retry-After, 5xx), `set_used_weight`,
`drop_ws_after` (close a WebSocket after K messages, optionally refusing reconnects for a while),
`corrupt_kline` (serve a malformed row).

Trading (see fake_binance_controls): with `api_keys` and `balances` the same server is a spot exchange:
the SIGNED order, query and account endpoints over a matching engine (`fake.exchange`) that trades
against scripted outside liquidity (`set_book`, `trade_through`), and the user data stream on the
WebSocket API at `ws_api_url`, with faults of its own (`take_then_timeout_next`, `take_then_fail_next`,
`reject_timestamp_next`, `drop_user_streams`, the `clock_offset_ms` skew).
"""

from __future__ import annotations

import bisect
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from kestrel_testing.fake_binance_auth import FakeApiKey
from kestrel_testing.fake_binance_controls import TradingControls
from kestrel_testing.fake_binance_data import (
    INTERVAL_MS,
    VALID_INTERVALS,
    FakeKline,
    LiveUpdate,
    SymbolSpec,
    kline_row,
)
from kestrel_testing.fake_binance_orders import trading_weight
from kestrel_testing.fake_binance_params import request_params
from kestrel_testing.fake_binance_rest import (
    ENDPOINT_WEIGHT,
    WEIGHT_HEADER,
    InjectedFault,
    RejectedRequestError,
    WeightMeter,
    check_known_params,
    int_param,
    invalid_parameter,
    invalid_symbol,
    mandatory_missing,
    rate_limits_entry,
    symbol_param,
    symbols_list_param,
)
from kestrel_testing.fake_binance_trades import FakeTrade, TradeFeed, is_trade_stream
from kestrel_testing.fake_binance_ws import KlineFeed

__all__ = [
    "FakeApiKey",
    "FakeBinance",
    "FakeKline",
    "FakeTrade",
    "LiveUpdate",
    "RecordedRequest",
    "SymbolSpec",
]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    path: str
    query: dict[str, str]
    status: int
    at: float  # time.monotonic() when it was answered
    method: str = "GET"
    body: dict[str, str] = field(default_factory=dict)  # a form body's params (signed POST/DELETE)

    @property
    def params(self) -> dict[str, str]:
        """Every parameter sent, wherever it was: the body's, overridden by the query's (Binance's rule)."""
        return {**self.body, **self.query}


class FakeBinance(TradingControls):
    """The server (an async context manager); see the module docstring for what it speaks."""

    def __init__(
        self,
        bars_by_symbol: Mapping[str, Sequence[FakeKline]],
        *,
        interval: str = "1m",
        symbols: Sequence[SymbolSpec] = (),
        now_ms: int | None = None,
        weight_limit: int = 6000,
        weight_window_s: float = 60.0,
        ping_interval_s: float = 20.0,
        api_keys: Sequence[FakeApiKey] = (),
        balances: Mapping[str, str | Decimal] | None = None,
        commission_rate: str | Decimal = "0.001",
        order_limit_10s: int = 100,
        order_limit_1d: int = 200_000,
        port: int = 0,  # 0: any free port (tests); fixed for a standalone exchange process
    ) -> None:
        if interval not in INTERVAL_MS:
            raise ValueError(f"the fake serves fixed-length intervals only, not {interval!r}")
        self.interval = interval
        self._interval_ms = INTERVAL_MS[interval]
        specs = {spec.symbol: spec for spec in symbols}
        for name in bars_by_symbol:
            specs.setdefault(name, SymbolSpec.guess(name))
        self.symbols: dict[str, SymbolSpec] = specs
        self._history: dict[str, dict[int, FakeKline]] = {name: {} for name in specs}
        self._open_times: dict[str, list[int]] = {name: [] for name in specs}
        for name, klines in bars_by_symbol.items():
            for kline in klines:
                self._upsert(name, kline)
        self._now_ms = now_ms
        self._weight = WeightMeter(weight_limit, weight_window_s)
        self._faults: list[InjectedFault] = []
        self._corrupt: dict[tuple[str, int], list[Any]] = {}
        self._feed = KlineFeed(interval, self._apply_live_update, ping_interval_s)
        self.live_finished = self._feed.finished
        self._trade_feed = TradeFeed(ping_interval_s)
        self.trades_finished = self._trade_feed.finished
        self.requests: list[RecordedRequest] = []
        self._runner: web.AppRunner | None = None
        self._bind_port = port
        self._port = 0
        self._init_trading(
            self.symbols,
            self._weight,
            api_keys=api_keys,
            balances=balances,
            commission_rate=commission_rate,
            order_limit_10s=order_limit_10s,
            order_limit_1d=order_limit_1d,
            ping_interval_s=ping_interval_s,
        )

    # -- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeBinance:
        app = web.Application(middlewares=[self._rest_middleware])
        app.router.add_get("/api/v3/ping", self._ping)
        app.router.add_get("/api/v3/time", self._time)
        app.router.add_get("/api/v3/exchangeInfo", self._exchange_info)
        app.router.add_get("/api/v3/klines", self._klines)
        app.router.add_get("/ws/{stream}", self._ws)
        app.router.add_get("/stream", self._ws)
        self._register_trading(app)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self._bind_port:  # a restarted process takes its fixed port back from TIME_WAIT
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._bind_port))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._release_held_responses()
        # Cut the user streams (and refuse reconnects) so the runner's cleanup need not wait for
        # clients that are still connected, as a trading service under test usually is.
        self.drop_user_streams(refuse_for_s=3600.0)
        await self._feed.close()
        await self._trade_feed.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}"

    # -- scripted time, history and faults --------------------------------------------------------

    @property
    def now_ms(self) -> int:
        return self._now_ms if self._now_ms is not None else int(time.time() * 1000)

    @now_ms.setter
    def now_ms(self, value: int) -> None:
        self._now_ms = value

    @property
    def used_weight(self) -> int:
        return self._weight.used

    def set_used_weight(self, weight: int) -> None:
        """Pretend other traffic from this IP has already used `weight` in the current window."""
        self._weight.set_used(weight)

    def fail_next(
        self,
        count: int,
        status: int = 429,
        *,
        retry_after_s: int | None = 1,
        code: int | None = None,
        msg: str | None = None,
    ) -> None:
        """The next `count` REST requests fail with `status` (429/418 carry Retry-After; 5xx do not)."""
        if status >= 500:
            retry_after_s = None
        default_code, default_msg = _DEFAULT_FAULTS.get(status, (-1000, "An unknown error occurred."))
        if status == 418:
            banned_until = int(time.time() * 1000) + 1000 * (retry_after_s or 0)
            default_msg = default_msg.replace("%s", str(banned_until))
        elif status == 429:
            default_msg = default_msg.replace("%s", str(self._weight.limit))
        self._faults.append(
            InjectedFault(count, status, retry_after_s, code or default_code, msg or default_msg)
        )

    def corrupt_kline(self, symbol: str, open_time_ms: int, row: list[Any]) -> None:
        """Serve `row` instead of the kline of `symbol` opening at `open_time_ms`."""
        self._corrupt[(symbol, open_time_ms)] = row

    def drop_ws_after(self, messages: int, *, outage_steps: int = 0) -> None:
        """The next WebSocket to reach `messages` kline events is cut; then refuse reconnects (HTTP 503)
        until the live script has played `outage_steps` more updates, so they happen during an outage."""
        self._feed.drop_after(messages, outage_steps)

    def set_live_script(
        self, updates: Sequence[LiveUpdate], *, step_s: float = 0.01, autostart: bool = True
    ) -> None:
        """Updates the WebSocket feed plays, one every `step_s`, from the first subscriber on (or from
        `start_live()` when autostart is False)."""
        self._feed.set_script(updates, step_s, autostart)

    def set_trade_script(
        self, trades: Sequence[FakeTrade | str], *, step_s: float = 0.01, autostart: bool = True
    ) -> None:
        """Trades the `<symbol>@trade` streams play, one every `step_s` (a `str` entry is sent as is),
        from the first subscriber on; the player waits while nobody is subscribed (see the trade feed)."""
        self._trade_feed.set_trades(trades, step_s, autostart)

    def drop_trade_ws_after(self, messages: int, *, outage_steps: int = 0) -> None:
        """Like `drop_ws_after`, for the next trade-stream WebSocket."""
        self._trade_feed.drop_after(messages, outage_steps)

    @property
    def trade_ws_connections(self) -> int:
        return self._trade_feed.connections

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        # One socket carries one kind of stream: trade streams go to the trade feed.
        names = (
            request.query.get("streams", "") if request.path == "/stream" else request.match_info["stream"]
        )
        if any(is_trade_stream(name) for name in names.split("/")):
            return await self._trade_feed.handle(request)
        return await self._feed.handle(request)

    def start_live(self) -> None:
        self._feed.start()

    @property
    def ws_connections(self) -> int:
        """WebSocket connections accepted so far."""
        return self._feed.connections

    def klines_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/api/v3/klines"]

    def closed_klines(self, symbol: str) -> list[FakeKline]:
        """What REST would call closed now: the history of `symbol` whose close time is past `now_ms`."""
        return [k for t, k in sorted(self._history[symbol].items()) if t + self._interval_ms <= self.now_ms]

    # -- REST --------------------------------------------------------------------------------------

    @web.middleware
    async def _rest_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            response: web.StreamResponse = await handler(request)
            return response
        query = dict(request.query)
        params, _, _ = await request_params(request)
        body = {k: v for k, v in params.items() if k not in query}
        weight = trading_weight(request.method, request.path, query)
        try:
            self._apply_fault()
            self._weight.charge(weight if weight is not None else ENDPOINT_WEIGHT.get(request.path, 1))
            response = await handler(request)
            response.headers[WEIGHT_HEADER] = str(self._weight.used)
        except RejectedRequestError as rejection:
            response = rejection.response(self._weight.used)
        except web.HTTPNotFound:
            response = RejectedRequestError(404, -1000, "Not found.").response(self._weight.used)
        recorded = RecordedRequest(
            request.path, query, response.status, time.monotonic(), request.method, body
        )
        self.requests.append(recorded)
        return response

    def _apply_fault(self) -> None:
        if not self._faults:
            return
        fault = self._faults[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._faults.pop(0)
        raise RejectedRequestError(fault.status, fault.code, fault.msg, fault.retry_after_s)

    async def _ping(self, request: web.Request) -> web.Response:
        check_known_params(request.query, set())
        return web.json_response({})

    async def _time(self, request: web.Request) -> web.Response:
        check_known_params(request.query, set())
        return web.json_response({"serverTime": self.server_time_ms})

    async def _exchange_info(self, request: web.Request) -> web.Response:
        query = request.query
        check_known_params(query, {"symbol", "symbols", "permissions", "showPermissionSets", "symbolStatus"})
        one = symbol_param(query, required=False)
        many = symbols_list_param(query)
        if one is not None and many is not None:
            raise RejectedRequestError(400, -1128, "Combination of optional parameters invalid.")
        wanted = [one] if one is not None else many
        if wanted is None:
            specs = list(self.symbols.values())
        elif any(name not in self.symbols for name in wanted):
            raise invalid_symbol()
        else:
            specs = [self.symbols[name] for name in wanted]
        return web.json_response(
            {
                "timezone": "UTC",
                "serverTime": self.server_time_ms,
                "rateLimits": rate_limits_entry(
                    self._weight.limit, self.order_counter.limit_10s, self.order_counter.limit_1d
                ),
                "exchangeFilters": [],
                "symbols": [spec.exchange_info_entry() for spec in specs],
            }
        )

    async def _klines(self, request: web.Request) -> web.Response:
        query = request.query
        check_known_params(query, {"symbol", "interval", "startTime", "endTime", "limit", "timeZone"})
        symbol = symbol_param(query)
        interval = query.get("interval")
        if not interval:
            raise mandatory_missing("interval")
        start, end, limit = (
            int_param(query, "startTime"),
            int_param(query, "endTime"),
            int_param(query, "limit"),
        )
        if interval not in VALID_INTERVALS:
            raise RejectedRequestError(400, -1120, "Invalid interval.")
        assert symbol is not None
        if symbol not in self.symbols:
            raise invalid_symbol()
        if limit is None:
            limit = 500
        if not 1 <= limit <= 1000:
            raise invalid_parameter("limit")
        if interval != self.interval:
            return web.json_response([])
        return web.json_response(self._select(symbol, start, end, limit))

    def _select(self, symbol: str, start: int | None, end: int | None, limit: int) -> list[list[Any]]:
        times = self._open_times[symbol]
        # Nothing opens after the scripted now: those klines do not exist yet.
        last = min(end if end is not None else self.now_ms, self.now_ms)
        hi = bisect.bisect_right(times, last)
        if start is not None:
            lo = bisect.bisect_left(times, start)
            chosen = times[lo:hi][:limit]
        else:
            chosen = times[max(0, hi - limit) : hi]
        history = self._history[symbol]
        return [self._corrupt.get((symbol, t)) or kline_row(history[t], self._interval_ms) for t in chosen]

    def _upsert(self, symbol: str, kline: FakeKline) -> None:
        history = self._history[symbol]
        if kline.open_time_ms not in history:
            bisect.insort(self._open_times[symbol], kline.open_time_ms)
        history[kline.open_time_ms] = kline

    def _apply_live_update(self, update: LiveUpdate) -> None:
        # A played update is market history from then on, and its event time is the new now.
        self._now_ms = max(self.now_ms, update.event_time_ms)
        self._upsert(update.symbol, update.kline)


_DEFAULT_FAULTS: dict[int, tuple[int, str]] = {
    429: (
        -1003,
        "Too much request weight used; current limit is %s request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
    ),
    418: (
        -1003,
        "Way too much request weight used; IP banned until %s. "
        "Please use WebSocket Streams for live updates to avoid bans.",
    ),
    500: (-1000, "An unknown error occurred while processing the request."),
    502: (-1001, "Internal error; unable to process your request. Please try again."),
    503: (-1008, "Server is currently overloaded with other requests. Please try again in a few minutes."),
}
