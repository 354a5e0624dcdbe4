"""An account's portfolio from its fills and market prices. Pure: the accounting itself is
`kestrel_trading.portfolio` (one implementation of positions, cash and P&L for the whole system);
this module adds marks and the equity curve.

Marks: the latest bar close of each held symbol; a symbol with no bar yet is marked at its last fill
price (`mark_source` says which). The equity curve is the equity after every event, a fill or a bar
close of a traded symbol, in time order (a symbol's mark is the latest price seen by then), thinned
to at most `max_points` evenly spaced points, the last one always kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from kestrel_trading.domain import Fill
from kestrel_trading.portfolio import Portfolio, Position

__all__ = ["EquityPoint", "PortfolioView", "PositionView", "PricePoint", "build_portfolio", "downsample"]

MAX_CURVE_POINTS = 500


@dataclass(frozen=True, slots=True)
class PricePoint:
    ts_ns: int
    symbol: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class EquityPoint:
    ts_ns: int
    equity: Decimal


@dataclass(frozen=True, slots=True)
class PositionView:
    position: Position
    mark: Decimal
    mark_source: str  # "bar" | "fill"

    @property
    def unrealized_pnl(self) -> Decimal:
        return self.position.unrealized_pnl(self.mark)

    @property
    def market_value(self) -> Decimal:
        return self.position.quantity * self.mark


@dataclass(frozen=True, slots=True)
class PortfolioView:
    initial_cash: Decimal
    portfolio: Portfolio
    positions: tuple[PositionView, ...]
    equity_curve: tuple[EquityPoint, ...]

    @property
    def unrealized_pnl(self) -> Decimal:
        return sum((p.unrealized_pnl for p in self.positions if p.position.quantity), Decimal(0))

    @property
    def equity(self) -> Decimal:
        return self.portfolio.cash + sum((p.market_value for p in self.positions), Decimal(0))


def downsample(points: Sequence[EquityPoint], max_points: int) -> tuple[EquityPoint, ...]:
    if max_points < 2:
        raise ValueError("max_points must be >= 2")
    if len(points) <= max_points:
        return tuple(points)
    step = (len(points) - 1) / (max_points - 1)
    return tuple(points[round(i * step)] for i in range(max_points))


def _curve(initial_cash: Decimal, fills: Sequence[Fill], prices: Sequence[PricePoint]) -> list[EquityPoint]:
    # At equal timestamps a fill goes first: the bar that closes at t values the position held at t.
    events: list[tuple[int, int, Fill | PricePoint]] = [(f.ts_ns, 0, f) for f in fills]
    events += [(p.ts_ns, 1, p) for p in prices]
    events.sort(key=lambda event: (event[0], event[1]))
    portfolio, marks, curve = Portfolio(cash=initial_cash), dict[str, Decimal](), list[EquityPoint]()
    for ts_ns, _, event in events:
        if isinstance(event, Fill):
            portfolio = portfolio.apply_fill(event)
            marks[event.symbol] = event.price
        else:
            marks[event.symbol] = event.price
        if portfolio.fill_ids:  # the curve starts at the first fill
            curve.append(EquityPoint(ts_ns, portfolio.equity(marks)))
    return curve


def build_portfolio(
    initial_cash: Decimal,
    fills: Sequence[Fill],
    latest_closes: Mapping[str, Decimal],
    prices: Sequence[PricePoint] = (),
    max_points: int = MAX_CURVE_POINTS,
) -> PortfolioView:
    """`fills` in any order (applied by time, each fill_id once); `latest_closes`: the newest bar close
    per symbol; `prices`: bar closes for the equity curve."""
    ordered = sorted(fills, key=lambda f: (f.ts_ns, f.fill_id))
    portfolio = Portfolio(cash=initial_cash)
    last_fill_price: dict[str, Decimal] = {}
    for fill in ordered:
        portfolio = portfolio.apply_fill(fill)
        last_fill_price[fill.symbol] = fill.price
    views = []
    for symbol in sorted(portfolio.positions):
        position = portfolio.positions[symbol]
        close = latest_closes.get(symbol)
        mark, source = (close, "bar") if close is not None else (last_fill_price[symbol], "fill")
        views.append(PositionView(position, mark, source))
    curve = downsample(_curve(initial_cash, ordered, prices), max_points)
    return PortfolioView(initial_cash, portfolio, tuple(views), curve)
