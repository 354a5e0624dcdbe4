"""The paper fill model: how a simulated broker fills an order against the bars AFTER it.

No look-ahead: an order decided on bar t's close (``submitted_at_ns`` = bar t's ts_event) only
looks at bars that OPEN at or after that instant, i.e. bar t+1 onward; earlier bars are ignored.

- Market orders fill at the next eligible bar's OPEN, moved against the trader by
  ``slippage_bps`` and rounded to the tick against the trader too (buy up, sell down). Taker fee.
- Limit orders fill at the limit price (rounded to the tick on the passive side) only when a bar
  trades THROUGH it: buy when low < limit, sell when high > limit. A bar that merely TOUCHES the
  limit does not fill, since a resting order at that price may sit behind the whole queue. Maker fee.
- ``max_volume_share`` caps each fill at that share of the bar's volume (rounded down to the lot
  step); the remainder stays working (PARTIALLY_FILLED) for the next bar. The cap is per order.
- Expiry: ``expire_after_bars`` eligible bars, or a bar opening at/after the order's
  ``expire_at_ns``, ends the order EXPIRED. IOC cancels what the first eligible bar did not fill;
  FOK fills completely on the first eligible bar or cancels without filling.
- Fees are ``fee_bps`` of the fill's notional in quote currency, rounded up to the quote precision.
- Fill ids are ``f"{client_order_id}:{bar.ts_open_ns}"`` and fill times come from the bar (its
  open for market fills, its close for limit fills: when the bar proved the trade-through), so a
  replay produces identical fills; nothing reads the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from kestrel_trading.domain import Bar, Fill, Liquidity, Side
from kestrel_trading.instruments import Instrument
from kestrel_trading.orders import Order, OrderType, TimeInForce, apply_fill, cancel, expire

_BPS = Decimal(10_000)
# ExecutionReason proto names, carried as Order.reason for the report.
REASON_TIME_IN_FORCE = "EXECUTION_REASON_TIME_IN_FORCE"
REASON_EXPIRED = "EXECUTION_REASON_EXPIRED"


@dataclass(frozen=True, slots=True)
class PaperConfig:
    slippage_bps: Decimal = Decimal(0)
    taker_fee_bps: Decimal = Decimal(10)
    maker_fee_bps: Decimal = Decimal(10)
    max_volume_share: Decimal | None = None
    expire_after_bars: int | None = None

    def __post_init__(self) -> None:
        if self.slippage_bps < 0 or self.taker_fee_bps < 0 or self.maker_fee_bps < 0:
            raise ValueError("slippage and fee bps must be >= 0")
        if self.max_volume_share is not None and not 0 < self.max_volume_share <= 1:
            raise ValueError(f"max_volume_share must be in (0, 1], got {self.max_volume_share}")
        if self.expire_after_bars is not None and self.expire_after_bars <= 0:
            raise ValueError(f"expire_after_bars must be > 0, got {self.expire_after_bars}")


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    order: Order
    # The decision instant (the signal bar's close); only bars opening at or after it may fill.
    submitted_at_ns: int
    bars_seen: int = 0
    # Open time of the last bar processed: a redelivered or out-of-order bar is ignored.
    last_bar_open_ns: int | None = None


@dataclass(frozen=True, slots=True)
class PaperStep:
    working: WorkingOrder
    fill: Fill | None


def market_fill_price(
    open_price: Decimal, side: Side, instrument: Instrument, config: PaperConfig
) -> Decimal:
    """A market order's fill price on a bar opening at ``open_price``: slipped, then tick-rounded,
    against the trader."""
    slip = Decimal(1) + side.sign * config.slippage_bps / _BPS
    return instrument.price_against(open_price * slip, side)


def fill_fee(price: Decimal, qty: Decimal, fee_bps: Decimal, instrument: Instrument) -> Decimal:
    """``fee_bps`` of the fill's notional, rounded up to the quote precision."""
    return instrument.round_fee(price * qty * fee_bps / _BPS)


def _fill_price(order: Order, bar: Bar, instrument: Instrument, config: PaperConfig) -> Decimal | None:
    if order.order_type is OrderType.MARKET:
        return market_fill_price(bar.open, order.side, instrument, config)
    assert order.limit_price is not None  # guaranteed by Order for LIMIT orders
    limit = instrument.round_price(order.limit_price, order.side)
    through = bar.low < limit if order.side is Side.BUY else bar.high > limit
    return limit if through else None


def _fillable_qty(order: Order, bar: Bar, instrument: Instrument, config: PaperConfig) -> Decimal:
    leaves = order.leaves_quantity
    if config.max_volume_share is None:
        return leaves
    return min(leaves, instrument.round_qty(bar.volume * config.max_volume_share))


def on_bar(working: WorkingOrder, bar: Bar, instrument: Instrument, config: PaperConfig) -> PaperStep:
    """Advance one working order by one bar; returns the new state and the fill, if any."""
    order = working.order
    seen = working.last_bar_open_ns is not None and bar.ts_open_ns <= working.last_bar_open_ns
    if order.status.is_terminal or bar.ts_open_ns < working.submitted_at_ns or seen:
        return PaperStep(working, None)
    if order.expire_at_ns is not None and bar.ts_open_ns >= order.expire_at_ns:
        expired = expire(order, REASON_EXPIRED)
        return PaperStep(replace(working, order=expired, last_bar_open_ns=bar.ts_open_ns), None)
    bars_seen = working.bars_seen + 1
    price = _fill_price(order, bar, instrument, config)
    qty = _fillable_qty(order, bar, instrument, config) if price is not None else Decimal(0)
    if order.time_in_force is TimeInForce.FOK and qty < order.leaves_quantity:
        qty = Decimal(0)
    fill = None
    if price is not None and qty > 0:
        maker = order.order_type is OrderType.LIMIT
        fee_bps = config.maker_fee_bps if maker else config.taker_fee_bps
        fill = Fill(
            fill_id=f"{order.client_order_id}:{bar.ts_open_ns}",
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            price=price,
            quantity=qty,
            fee=fill_fee(price, qty, fee_bps, instrument),
            ts_ns=bar.ts_close_ns if maker else bar.ts_open_ns,
            liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
        )
        order = apply_fill(order, fill)
    if not order.status.is_terminal:
        if order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            order = cancel(order, REASON_TIME_IN_FORCE)
        elif config.expire_after_bars is not None and bars_seen >= config.expire_after_bars:
            order = expire(order, REASON_EXPIRED)
    return PaperStep(WorkingOrder(order, working.submitted_at_ns, bars_seen, bar.ts_open_ns), fill)


def simulate(
    order: Order, submitted_at_ns: int, bars: Iterable[Bar], instrument: Instrument, config: PaperConfig
) -> tuple[Order, tuple[Fill, ...]]:
    """Run ``on_bar`` over bars in time order until the order is final or the bars run out."""
    working = WorkingOrder(order, submitted_at_ns)
    fills: list[Fill] = []
    for bar in bars:
        if working.order.status.is_terminal:
            break
        step = on_bar(working, bar, instrument, config)
        working = step.working
        if step.fill is not None:
            fills.append(step.fill)
    return working.order, tuple(fills)
