"""What risk knows about its account between decisions: positions, cash, marks, P&L, recent orders.

Positions and cash come from fills only (``kestrel_trading.portfolio``), each fill applied once by
fill_id, whether it arrives from trading.fills at start or from execution.reports later. Marks are the
latest signal reference prices per symbol; a symbol held but never signalled since the start is
marked at its last fill price so equity is always defined.

A signal is sized from equity with every OTHER symbol at its mark of an earlier bar time
(``sizing_equity``): the signals of one bar time reach risk in either order (each symbol is on its
own partition), and the equity one symbol is sized from must not depend on whether another symbol's
bar of the same time came first. A short history of marks per symbol keeps that earlier mark.

"Today" is the UTC day of MARKET time (fill ts for realized P&L, signal ts_event for the decision),
so a replay of history trips the daily-loss limit on the same bars as live trading would. The daily
loss counts realized P&L net of fees on fills of that day; the unrealized part is the open
positions' P&L at the marks (what ``kestrel_trading.risk.evaluate`` adds to it).
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from kestrel_riskengine.working import WorkingOrder, WorkingOrders
from kestrel_trading.domain import Fill, Side
from kestrel_trading.portfolio import Portfolio
from kestrel_trading.risk import RiskState

_DAY_NS = 86_400 * 1_000_000_000
_MINUTE_NS = 60 * 1_000_000_000
_MARKS_KEPT = 8  # per symbol: how far one symbol's signals may run ahead of another's


def utc_day(ts_ns: int) -> int:
    """Days since the epoch of a nanosecond timestamp (the UTC calendar day)."""
    return ts_ns // _DAY_NS


@dataclass(frozen=True, slots=True)
class _Snapshot:
    portfolio: Portfolio
    marks: dict[str, Decimal]
    equity_peak: Decimal
    realized_by_day: dict[int, Decimal]
    order_times: tuple[int, ...]
    working: WorkingOrders
    mark_history: dict[str, tuple[tuple[int, Decimal], ...]]


@dataclass
class RiskBook:
    initial_cash: Decimal
    portfolio: Portfolio = field(init=False)
    marks: dict[str, Decimal] = field(default_factory=dict)
    equity_peak: Decimal = field(init=False)
    realized_by_day: dict[int, Decimal] = field(default_factory=dict)
    # Market times of approved orders, sorted; only the last minute (of market time) matters. Sorted,
    # the rate limit counts by bisection: a burst of thousands of orders a minute stays O(log n) each.
    order_times: list[int] = field(default_factory=list)
    working: WorkingOrders = field(default_factory=WorkingOrders)
    # (market ts, mark) of each symbol's latest signal marks, oldest first.
    mark_history: dict[str, deque[tuple[int, Decimal]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.portfolio = Portfolio(cash=self.initial_cash)
        self.equity_peak = self.initial_cash

    def position(self, symbol: str) -> Decimal:
        held = self.portfolio.positions.get(symbol)
        return held.quantity if held is not None else Decimal(0)

    def projected_position(self, symbol: str) -> Decimal:
        """The position once every working order of the symbol has filled."""
        return (
            self.position(symbol)
            + self.working.pending(symbol, Side.BUY)
            - self.working.pending(symbol, Side.SELL)
        )

    def sellable(self, symbol: str) -> Decimal:
        """What a new sell may still sell: the long held less what working sells already sell."""
        return self.position(symbol) - self.working.pending(symbol, Side.SELL)

    @property
    def cash(self) -> Decimal:
        return self.portfolio.cash

    def available_cash(self) -> Decimal:
        """Cash no working buy has reserved."""
        return self.portfolio.cash - self.working.reserved_cash()

    def add_working(self, order: WorkingOrder) -> None:
        self.working.add(order)
        self.marks.setdefault(order.symbol, order.price)  # a projected position always has a mark

    def knows_fill(self, fill_id: str) -> bool:
        return fill_id in self.portfolio.fill_ids

    def apply_fill(self, fill: Fill) -> bool:
        """Apply a fill once; False when its fill_id was already applied (a redelivery or replay)."""
        if self.knows_fill(fill.fill_id):
            return False
        before = self.portfolio.realized_pnl
        self.portfolio = self.portfolio.apply_fill(fill)
        day = utc_day(fill.ts_ns)
        realized = self.portfolio.realized_pnl - before - fill.fee
        self.realized_by_day[day] = self.realized_by_day.get(day, Decimal(0)) + realized
        self.marks.setdefault(fill.symbol, fill.price)
        self._update_peak()
        return True

    def mark(self, symbol: str, price: Decimal, ts_ns: int | None = None) -> None:
        """The symbol's latest price; ``ts_ns`` (the market time it is of) also records it for
        ``sizing_equity``."""
        self.marks[symbol] = price
        if ts_ns is not None:
            history = self.mark_history.setdefault(symbol, deque(maxlen=_MARKS_KEPT))
            if history and history[-1][0] == ts_ns:
                history[-1] = (ts_ns, price)  # the same bar again
            elif not history or history[-1][0] < ts_ns:
                history.append((ts_ns, price))
        if self.position(symbol):  # equity moves with the mark of a held symbol only
            self._update_peak()

    def equity(self) -> Decimal:
        return self.portfolio.equity(self.marks)

    def sizing_equity(self, symbol: str, ts_ns: int) -> Decimal:
        """Equity for sizing ``symbol``'s signal of market time ``ts_ns``: the symbol itself at its
        latest mark, every other symbol at its latest mark of a time before ``ts_ns``."""
        marks = {s: price if s == symbol else self._mark_before(s, ts_ns) for s, price in self.marks.items()}
        return self.portfolio.equity(marks)

    def _mark_before(self, symbol: str, ts_ns: int) -> Decimal:
        history = self.mark_history.get(symbol)
        if not history:
            return self.marks[symbol]  # marked by a fill or an order only (e.g. after a restart)
        for ts, price in reversed(history):
            if ts < ts_ns:
                return price
        return history[0][1]  # every kept mark is of this time or later: the oldest is the nearest

    def _update_peak(self) -> None:
        self.equity_peak = max(self.equity_peak, self.equity())

    def record_order(self, ts_ns: int) -> None:
        bisect.insort(self.order_times, ts_ns)
        expired = bisect.bisect_right(self.order_times, self.order_times[-1] - _MINUTE_NS)
        if expired:
            del self.order_times[:expired]

    def recent_orders(self, now_ns: int) -> int:
        """Approved orders with market time in (now - 1 minute, now]."""
        times = self.order_times
        return bisect.bisect_right(times, now_ns) - bisect.bisect_right(times, now_ns - _MINUTE_NS)

    def state(self, now_ns: int, kill_switch: bool) -> RiskState:
        return RiskState(
            positions=self._projected_positions(),
            marks=dict(self.marks),
            equity=self.equity(),
            equity_peak=self.equity_peak,
            realized_pnl_today=self.realized_by_day.get(utc_day(now_ns), Decimal(0)),
            unrealized_pnl=self.portfolio.unrealized_pnl(self.marks),
            recent_orders=self.recent_orders(now_ns),
            kill_switch=kill_switch,
        )

    def _projected_positions(self) -> dict[str, Decimal]:
        positions = {s: p.quantity for s, p in self.portfolio.positions.items()}
        for symbol, net in self.working.net_by_symbol().items():
            positions[symbol] = positions.get(symbol, Decimal(0)) + net
        return positions

    def snapshot(self) -> _Snapshot:
        """Everything a batch of decisions may change, to undo them if the batch is not stored."""
        return _Snapshot(
            self.portfolio,
            dict(self.marks),
            self.equity_peak,
            dict(self.realized_by_day),
            tuple(self.order_times),
            self.working.copy(),
            {s: tuple(h) for s, h in self.mark_history.items()},
        )

    def restore(self, saved: _Snapshot) -> None:
        self.portfolio, self.equity_peak = saved.portfolio, saved.equity_peak
        self.marks, self.realized_by_day = dict(saved.marks), dict(saved.realized_by_day)
        self.order_times = list(saved.order_times)
        self.working = saved.working.copy()
        self.mark_history = {s: deque(h, maxlen=_MARKS_KEPT) for s, h in saved.mark_history.items()}
