"""What the fake Binance server serves: klines, symbol rules, and their documented wire layouts.

Kept apart from the server so tests can build histories and live scripts without starting it, and so
issue 4's execution tests can add order books or balances next to the symbol rules here.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# Binance spot kline intervals (case-sensitive). "1M" (calendar month) is a valid interval that the
# fake accepts in requests but cannot serve, because it has no fixed length.
INTERVAL_MS: dict[str, int] = {
    "1s": 1_000,
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
}
VALID_INTERVALS = frozenset(INTERVAL_MS) | {"1M"}

# Quote assets tried, longest first, to split "BTCUSDT" into base and quote when a test gives no spec.
_KNOWN_QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "EUR", "TRY", "BTC", "ETH", "BNB")


@dataclass(frozen=True, slots=True)
class FakeKline:
    """One kline as Binance stores it: open time in ms and decimal strings, exactly as served."""

    open_time_ms: int
    open: str
    high: str
    low: str
    close: str
    volume: str
    quote_volume: str = "0"
    trades: int = 0
    taker_buy_volume: str = "0"
    taker_buy_quote_volume: str = "0"


@dataclass(frozen=True, slots=True)
class LiveUpdate:
    """One kline event the fake pushes on its WebSocket: a still-open bar (closed=False) or its close."""

    symbol: str
    kline: FakeKline
    closed: bool
    event_time_ms: int


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """A symbol's exchangeInfo entry: status, assets and the PRICE_FILTER / LOT_SIZE / NOTIONAL rules.

    The fake exchange enforces these filters (and MARKET_LOT_SIZE / MAX_NUM_ORDERS when present)."""

    symbol: str
    base_asset: str
    quote_asset: str
    status: str = "TRADING"
    tick_size: str = "0.01000000"
    min_price: str = "0.01000000"
    max_price: str = "1000000.00000000"
    step_size: str = "0.00001000"
    min_qty: str = "0.00001000"
    max_qty: str = "9000.00000000"
    min_notional: str = "5.00000000"
    max_notional: str = "9000000.00000000"
    order_types: tuple[str, ...] = ("LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
    extra_filters: tuple[dict[str, Any], ...] = field(default=())
    # Served as a MAX_NUM_ORDERS filter when set (open orders per symbol); absent by default.
    max_num_orders: int | None = None

    @classmethod
    def guess(cls, symbol: str) -> SymbolSpec:
        """A spec with default rules, splitting the symbol on a well-known quote asset."""
        for quote in _KNOWN_QUOTES:
            if symbol.endswith(quote) and len(symbol) > len(quote):
                return cls(symbol=symbol, base_asset=symbol[: -len(quote)], quote_asset=quote)
        raise ValueError(f"cannot tell base from quote in {symbol!r}; pass a SymbolSpec for it")

    def exchange_info_entry(self) -> dict[str, Any]:
        filters: list[dict[str, Any]] = [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": self.min_price,
                "maxPrice": self.max_price,
                "tickSize": self.tick_size,
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": self.min_qty,
                "maxQty": self.max_qty,
                "stepSize": self.step_size,
            },
            {
                "filterType": "MIN_NOTIONAL",
                "minNotional": self.min_notional,
                "applyToMarket": True,
                "avgPriceMins": 5,
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": self.min_notional,
                "applyMinToMarket": True,
                "maxNotional": self.max_notional,
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            *self.extra_filters,
        ]
        if self.max_num_orders is not None:
            filters.append({"filterType": "MAX_NUM_ORDERS", "maxNumOrders": self.max_num_orders})
        return {
            "symbol": self.symbol,
            "status": self.status,
            "baseAsset": self.base_asset,
            "baseAssetPrecision": 8,
            "quoteAsset": self.quote_asset,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": list(self.order_types),
            "icebergAllowed": True,
            "ocoAllowed": True,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": filters,
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }


def kline_row(kline: FakeKline, interval_ms: int) -> list[Any]:
    """The 12-element array of GET /api/v3/klines; the close time is the last millisecond of the bar."""
    return [
        kline.open_time_ms,
        kline.open,
        kline.high,
        kline.low,
        kline.close,
        kline.volume,
        kline.open_time_ms + interval_ms - 1,
        kline.quote_volume,
        kline.trades,
        kline.taker_buy_volume,
        kline.taker_buy_quote_volume,
        "0",
    ]


def kline_event(symbol: str, interval: str, update: LiveUpdate) -> dict[str, Any]:
    """The payload of the `<symbol>@kline_<interval>` stream for one update."""
    k = update.kline
    return {
        "e": "kline",
        "E": update.event_time_ms,
        "s": symbol,
        "k": {
            "t": k.open_time_ms,
            "T": k.open_time_ms + INTERVAL_MS[interval] - 1,
            "s": symbol,
            "i": interval,
            "f": 100,
            "L": 100 + k.trades,
            "o": k.open,
            "c": k.close,
            "h": k.high,
            "l": k.low,
            "v": k.volume,
            "n": k.trades,
            "x": update.closed,
            "q": k.quote_volume,
            "V": k.taker_buy_volume,
            "Q": k.taker_buy_quote_volume,
            "B": "0",
        },
    }


def make_klines(
    start_ms: int, count: int, interval: str = "1m", start_price: str = "30000", seed: int = 7
) -> list[FakeKline]:
    """`count` consecutive klines from `start_ms`: a seeded random walk with consistent OHLC."""
    step = INTERVAL_MS[interval]
    rng = random.Random(seed)
    cents = Decimal("0.01")
    price = Decimal(start_price)
    klines = []
    for i in range(count):
        open_ = price
        close = (open_ * (1 + Decimal(rng.randint(-100, 100)) / 10_000)).quantize(cents)
        high = max(open_, close) + Decimal(rng.randint(0, 500)) / 100
        low = max(min(open_, close) - Decimal(rng.randint(0, 500)) / 100, cents)
        volume = (Decimal(rng.randint(1, 10**6)) / 1000).quantize(Decimal("0.00001"))
        klines.append(
            FakeKline(
                open_time_ms=start_ms + i * step,
                open=f"{open_:.2f}",
                high=f"{high:.2f}",
                low=f"{low:.2f}",
                close=f"{close:.2f}",
                volume=f"{volume:.5f}",
                quote_volume=f"{(volume * close).quantize(Decimal('0.00000001')):.8f}",
                trades=rng.randint(1, 500),
            )
        )
        price = close
    return klines


def live_updates(
    symbol: str, klines: Iterable[FakeKline], interval: str = "1m", partials: int = 2
) -> list[LiveUpdate]:
    """For each kline, `partials` open-bar updates (x=false, growing toward the final values) then its close.

    Event times run inside the bar and the closing event comes at the bar's end, as Binance sends them.
    """
    step = INTERVAL_MS[interval]
    updates: list[LiveUpdate] = []
    for k in klines:
        for i in range(1, partials + 1):
            partial = FakeKline(
                open_time_ms=k.open_time_ms,
                open=k.open,
                high=k.open if i < partials else k.high,
                low=k.open if i < partials else k.low,
                close=k.open if i < partials else k.close,
                volume="0" if i < partials else k.volume,
                trades=0,
            )
            at = k.open_time_ms + step * i // (partials + 1)
            updates.append(LiveUpdate(symbol, partial, closed=False, event_time_ms=at))
        updates.append(LiveUpdate(symbol, k, closed=True, event_time_ms=k.open_time_ms + step))
    return updates


def interleave(*streams: Sequence[LiveUpdate]) -> list[LiveUpdate]:
    """Updates of several symbols merged in event-time order (stable within a symbol)."""
    merged = [u for stream in streams for u in stream]
    return sorted(merged, key=lambda u: u.event_time_ms)
