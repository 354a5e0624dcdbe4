"""The market maker of the local exchange: it keeps each symbol's book around Kestrel's latest price.

FakeBinance trades only against scripted outside liquidity (`set_book`); a standalone exchange has
no script, so this maker quotes bids and asks at price ∓ a half-spread, with deep size, each time a
price arrives on a Kafka channel. Market orders then fill at about the last price, as on a liquid
venue.

Which price: `market.bars` (the bar's close) is what a live venue would track. A replay publishes
four years of bars within seconds, far ahead of the orders, so a replay follows a later stage:
`trading.signals` carries the close of the bar each signal saw (but inference still runs hundreds
of bars ahead of execution), and `execution.orders` (the Redis stream execution consumes, read here
by a group of its own) carries the close each order was sized against, so the book is at the order's
own bar when it arrives: the replay's clock is the loop's, not the wall's. Orders that risk sends
together would all meet the last one's price, so the maker also remembers each order's price by
client order id and `before_order` moves the book to it just before that order is matched.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from kestrel_contracts.registry import channel
from kestrel_messaging.envelope import ConsumerOptions, Delivery, Handler
from kestrel_messaging.interface import MessageBus
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger

_log = get_logger("kestrel.exchange.maker")

# The channels a maker can follow, and the field of their message that carries the price.
PRICE_FIELDS: Mapping[str, str] = {
    "market.bars": "close",
    "trading.signals": "reference_price",
    "execution.orders": "reference_price",
}
BPS = Decimal(10_000)
MAX_REMEMBERED = 10_000

SetBook = Callable[[str, Sequence[tuple[Decimal, Decimal]], Sequence[tuple[Decimal, Decimal]]], None]


def venue_symbol(symbol: str) -> str:
    """Kestrel's "BTC/USDT" as the venue's "BTCUSDT"; the same rule as the execution service's
    Binance adapter (kestrel_execution.binance.wire), which this library must not import."""
    return symbol.replace("/", "").upper()


@dataclass(frozen=True, slots=True)
class Quoting:
    half_spread_bps: Decimal = Decimal(2)
    level_qty: Decimal = Decimal(1_000_000)  # per level: deeper than any order the demo sizes
    levels: int = 3  # each one half-spread further out, so a big order walks a visible ladder


class MarketMaker:
    """Quotes `set_book(venue_symbol, bids, asks)` for each symbol in `ticks` (venue symbol -> tick)."""

    def __init__(self, set_book: SetBook, ticks: Mapping[str, Decimal], quoting: Quoting = Quoting()) -> None:
        self._set_book, self._ticks, self._quoting = set_book, dict(ticks), quoting
        self._latest_ts: dict[str, int] = {}
        self._order_prices: dict[str, tuple[str, Decimal, int]] = {}  # client order id -> quote
        self.quotes = 0
        self.ignored = 0  # prices of symbols the exchange does not list, or older than the book's

    def book(self, price: Decimal, tick: Decimal) -> tuple[list[tuple[Decimal, Decimal]], ...]:
        """Bids rounded down and asks rounded up to the tick, so the spread is never narrower."""
        q = self._quoting
        bids, asks = [], []
        for level in range(1, q.levels + 1):
            offset = price * q.half_spread_bps * level / BPS
            bid = ((price - offset) / tick).to_integral_value(ROUND_FLOOR) * tick
            ask = ((price + offset) / tick).to_integral_value(ROUND_CEILING) * tick
            if bid > 0:
                bids.append((bid, q.level_qty))
            asks.append((ask, q.level_qty))
        return bids, asks

    def on_price(self, symbol: str, price: Decimal, ts_event: int) -> bool:
        """Move the book of `symbol` to `price`; False when ignored. A redelivered or late message
        older than the price the book already shows must not move the market back in time."""
        name = venue_symbol(symbol)
        tick = self._ticks.get(name)
        if tick is None or price <= 0 or ts_event < self._latest_ts.get(name, 0):
            self.ignored += 1
            return False
        self._latest_ts[name] = ts_event
        bids, asks = self.book(price, tick)
        self._set_book(name, bids, asks)
        self.quotes += 1
        return True

    def before_order(self, client_order_id: str | None) -> None:
        """The venue is about to match this order: quote at the price it was sized at, if known."""
        known = self._order_prices.pop(client_order_id or "", None)
        if known is not None:
            symbol, price, _ = known
            name = venue_symbol(symbol)
            self._set_book(name, *self.book(price, self._ticks[name]))

    def handler(self, field: str) -> Handler:
        async def handle(delivery: Delivery) -> None:
            message: Any = delivery.message  # Bar, Signal, OrderRequest: all carry symbol, ts_event
            text = str(getattr(message, field))
            if not text:  # a signal without a reference price says nothing about the market
                return
            symbol, price, ts_event = str(message.symbol), Decimal(text), int(message.ts_event)
            if self.on_price(symbol, price, ts_event) and hasattr(message, "client_order_id"):
                if len(self._order_prices) >= MAX_REMEMBERED:  # orders that never reached the venue
                    self._order_prices.pop(next(iter(self._order_prices)))
                self._order_prices[message.client_order_id] = (symbol, price, ts_event)

        return handle


async def run_maker(
    maker: MarketMaker, bus: MessageBus, follow: str, group: str, stop: asyncio.Event, *, retry_s: float = 2.0
) -> None:
    """Follow `follow` until `stop`. The exchange keeps serving while Kafka is away: a failed
    subscription is logged and retried rather than taking the venue down with it."""
    if follow not in PRICE_FIELDS:
        raise ValueError(f"cannot follow {follow!r}; one of {', '.join(PRICE_FIELDS)}")
    handle = maker.handler(PRICE_FIELDS[follow])
    while not stop.is_set():
        try:
            await bus.ensure_channel(channel(follow))  # a standalone start may come before the topics
            consumer, options = f"{group}-{os.getpid()}", ConsumerOptions()
            await bus.subscribe(channel(follow), group=group, consumer=consumer, options=options).run(
                handle, stop
            )
        except Exception as exc:
            _log.warning("maker.subscription_failed", channel=follow, error=repr(exc), retry_in_s=retry_s)
            await sleep_or_stop(stop, retry_s)
