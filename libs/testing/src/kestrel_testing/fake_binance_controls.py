"""The trading half of FakeBinance: its exchange, keys, user stream and the faults a test scripts.

A base class of FakeBinance, so the server module stays about market data and wiring; everything a
test calls for trading (`exchange`, `set_book`, `trade_through`, the `take_then_*` faults, ...) is here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from aiohttp import web

from kestrel_testing.fake_binance_auth import FakeApiKey, SignatureChecker
from kestrel_testing.fake_binance_data import SymbolSpec
from kestrel_testing.fake_binance_limits import OrderCounter, PlacementFaults
from kestrel_testing.fake_binance_matching import FakeExchange
from kestrel_testing.fake_binance_model import Fill
from kestrel_testing.fake_binance_orders import TradingApi
from kestrel_testing.fake_binance_rest import WeightMeter
from kestrel_testing.fake_binance_userstream import UserStreamHub

WS_API_PATH = "/ws-api/v3"


class TradingControls:
    """Needs `now_ms` and `_port` from the server class; `clock_offset_ms` skews the signed-request clock."""

    clock_offset_ms: int
    _port: int

    @property
    def now_ms(self) -> int:  # provided by FakeBinance
        raise NotImplementedError

    def _init_trading(
        self,
        symbols: Mapping[str, SymbolSpec],
        weight: WeightMeter,
        *,
        api_keys: Sequence[FakeApiKey],
        balances: Mapping[str, str | Decimal] | None,
        commission_rate: str | Decimal,
        order_limit_10s: int,
        order_limit_1d: int,
        ping_interval_s: float,
    ) -> None:
        self.clock_offset_ms = 0
        self._checker = SignatureChecker(api_keys, lambda: self.server_time_ms)
        self.exchange = FakeExchange(
            symbols, balances, commission_rate=commission_rate, clock=lambda: self.server_time_ms
        )
        self.order_counter = OrderCounter(order_limit_10s, order_limit_1d)
        self._placement_faults = PlacementFaults()
        self._user_streams = UserStreamHub(
            self._checker, lambda: self.server_time_ms, weight, ping_interval_s
        )
        self.exchange.add_listener(self._user_streams.publish)
        self._trading = TradingApi(self.exchange, self._checker, self.order_counter, self._placement_faults)

    def _register_trading(self, app: web.Application) -> None:
        self._trading.register(app)
        app.router.add_get(WS_API_PATH, self._user_streams.handle)

    @property
    def ws_api_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}{WS_API_PATH}"

    @property
    def server_time_ms(self) -> int:
        """What /api/v3/time answers and signed requests are checked against: now_ms + clock_offset_ms."""
        return self.now_ms + self.clock_offset_ms

    # -- the market and the account ----------------------------------------------------------------

    def set_book(
        self,
        symbol: str,
        bids: Sequence[tuple[str | Decimal, str | Decimal]] = (),
        asks: Sequence[tuple[str | Decimal, str | Decimal]] = (),
    ) -> None:
        """Outside liquidity client orders take from (see FakeExchange.set_book)."""
        self.exchange.set_book(symbol, bids, asks)

    def trade_through(self, symbol: str, price: str | Decimal, qty: str | Decimal) -> list[Fill]:
        """An outside taker fills resting client orders at their limit (events go to the user streams)."""
        return self.exchange.trade_through(symbol, price, qty)

    @property
    def executed_placements(self) -> int:
        return self.exchange.executed_placements

    @property
    def user_stream_connections(self) -> int:
        """WebSocket API connections accepted so far."""
        return self._user_streams.connections

    @property
    def user_stream_subscriptions(self) -> int:
        """User data stream subscriptions open now."""
        return self._user_streams.subscriptions

    # -- faults ------------------------------------------------------------------------------------

    def take_then_timeout_next(self, count: int, *, delay_s: float) -> None:
        """The next `count` order placements execute (events are pushed) but their HTTP answer is held
        `delay_s`, so a client with a shorter timeout does not learn the outcome."""
        self._placement_faults.timeout_next(count, delay_s)

    def take_then_fail_next(self, count: int, status: int = 503) -> None:
        """The next `count` order placements execute, then answer `status` with -1007 (status unknown)."""
        self._placement_faults.fail_next(count, status)

    def reject_timestamp_next(self, count: int) -> None:
        """The next `count` signed requests (REST or WebSocket API) get -1021 whatever their timestamp."""
        self._checker.reject_timestamp_next(count)

    def drop_user_streams(self, *, refuse_for_s: float = 0.0) -> None:
        """Cut every WebSocket API socket now and answer new ones HTTP 503 for `refuse_for_s`; events
        produced meanwhile are lost (a client must catch up by REST), as after a real disconnect."""
        self._user_streams.drop_all(refuse_for_s)

    def _release_held_responses(self) -> None:
        self._placement_faults.release()
