"""Fast mode: the strategy vectorized over the whole history, orders sized only where it trades.

1. ``Strategy.evaluate`` gives the direction and weight on every bar at once (featurelib's batch
   evaluator; no per-bar Python).
2. Only the bars where the direction changes become decisions. Each is sized and checked by the
   same ``RiskEngine`` the live risk service runs (same Signal, same sizing, same exchange filters,
   same spot cash cap), and filled by the same paper fill model on the symbol's next bar (its open,
   slipped and tick-rounded against the trader, fees rounded up). That is a loop over trades, not
   over bars: a few thousand Decimal steps for a million bars.
3. vectorbt simulates the portfolio from those orders (``Portfolio.from_orders`` with each order's
   amount, fill price and fee) and computes the statistics, so cash, equity and trades come from the
   vectorized simulator.

Risk limits that depend on the path between trades (drawdown, daily loss, order rate) are
exact-mode only: fast mode refuses a spec that sets them rather than ignore them silently.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pandas as pd

from kestrel_backtest.domain import (
    UNLIMITED,
    BacktestInputError,
    BacktestSpec,
    EnginePath,
    MarketData,
    Rejection,
    to_decimal,
)
from kestrel_backtest.exact import order_of, resolved_catalog, risk_engine
from kestrel_contracts.v1.signal_pb2 import SignalAction
from kestrel_strategies import Decision
from kestrel_strategies.signals import SourceBar, strategy_signal
from kestrel_trading.domain import Bar, Fill
from kestrel_trading.paper import WorkingOrder, on_bar
from kestrel_trading.portfolio import Portfolio

_FILL, _DECIDE = 0, 1  # at one bar time, fills (at the open) come before decisions (at the close)


@dataclass(frozen=True)
class Targets:
    """The vectorized strategy output of one symbol: direction and weight per bar."""

    direction: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]


def evaluate_targets(spec: BacktestSpec, data: MarketData) -> dict[str, Targets]:
    out = {}
    for symbol in spec.symbols:
        frame = spec.strategy.evaluate(
            data.bars[symbol],
            data.reference if spec.strategy.needs_reference else None,
            data.inputs.get(symbol),
            long_only=not spec.allow_short,
        )
        out[symbol] = Targets(frame["direction"].to_numpy(), frame["weight"].to_numpy())
    return out


def run_fast(spec: BacktestSpec, data: MarketData, targets: dict[str, Targets] | None = None) -> EnginePath:
    data.check(spec)
    if spec.limits != UNLIMITED:
        raise BacktestInputError("account risk limits need exact mode (mode=exact)")
    targets = targets if targets is not None else evaluate_targets(spec, data)
    run = _FastRun(spec, data, targets)
    # (bar open ts, phase, symbol rank, bar index): what happens, in the order the live loop does it.
    queue: list[tuple[int, int, int, int]] = []
    for rank, symbol in enumerate(spec.symbols):
        changes = np.flatnonzero(np.diff(targets[symbol].direction, prepend=0.0))
        queue.extend((int(run.market.ts[symbol][i]), _DECIDE, rank, int(i)) for i in changes)
    heapq.heapify(queue)
    decisions = len(queue)
    while queue:
        ts, phase, rank, i = heapq.heappop(queue)
        _mark_held(run, ts, rank)
        if phase == _FILL:
            run.fill(spec.symbols[rank], i)
        elif run.decide(spec.symbols[rank], i):
            heapq.heappush(queue, (int(run.market.ts[spec.symbols[rank]][i + 1]), _FILL, rank, i + 1))
    return EnginePath(run.fills, run.rejections, sum(len(data.bars[s]) for s in spec.symbols), decisions)


class _FastRun:
    def __init__(self, spec: BacktestSpec, data: MarketData, targets: dict[str, Targets]) -> None:
        self.spec, self.data, self.targets = spec, data, targets
        self.engine = risk_engine(spec)
        self.catalog = resolved_catalog(spec)
        self.market = _Columns(
            {s: data.bars[s]["ts"].to_numpy(dtype=np.int64) for s in spec.symbols},
            {s: data.bars[s]["close"].to_numpy(dtype=np.float64) for s in spec.symbols},
            {s: data.bars[s]["ts_event"].to_numpy(dtype=np.int64) for s in spec.symbols},
        )
        # Raw columns, read only on the bars that trade: a pandas lookup per access (or a Decimal
        # Bar per history bar) would cost more than the whole decision on a long history.
        self.columns = {s: _raw_columns(data.bars[s]) for s in spec.symbols}
        self.working: dict[str, WorkingOrder] = {}
        self.fills: list[Fill] = []
        self.rejections: list[Rejection] = []

    def fill(self, symbol: str, i: int) -> None:
        """The paper broker on the symbol's bar i: its working (MARKET IOC) order fills at the open."""
        instrument = self.catalog.get(symbol)
        assert instrument is not None  # checked by BacktestSpec
        bar = _bar(self.columns[symbol], i)
        book = self.engine.book
        for coid, working in [(c, w) for c, w in self.working.items() if w.order.symbol == symbol]:
            step = on_bar(working, bar, instrument, self.spec.paper)
            if step.fill is not None:
                book.apply_fill(step.fill)
                # The book's fill_id set only guards against redelivered fills, which a fast run
                # never has (each fill is applied once, here); keeping it costs an O(fills) frozenset
                # copy per fill, quadratic over a long run.
                book.portfolio = Portfolio(cash=book.portfolio.cash, positions=book.portfolio.positions)
                self.fills.append(step.fill)
            order = step.working.order
            self.engine.book.working.on_report(coid, order.status, order.filled_quantity)
            del self.working[coid]  # IOC: done after its first bar, filled or not

    def decide(self, symbol: str, i: int) -> bool:
        """Risk's judgement of the direction change on bar i; True when an order awaits bar i+1."""
        t, columns = self.targets[symbol], self.columns[symbol]
        before = float(t.direction[i - 1]) if i > 0 else 0.0
        decision = Decision(np.nan, float(t.direction[i]), float(t.weight[i]))
        source = SourceBar(
            str(columns["event_id"][i]),
            int(self.market.ts_event[symbol][i]),
            symbol,
            self.spec.venue,
            self.spec.timeframe,
            str(columns["close"][i].item()),
        )
        signal = strategy_signal(self.spec.strategy, source, before, decision, ts_init=source.ts_event)
        judgement = self.engine.decide_signal(signal, kill_switch=False, now_ns=source.ts_event)
        if not judgement.approved:
            action = SignalAction.Name(signal.action).removeprefix("SIGNAL_ACTION_")
            self.rejections.append(
                Rejection(source.ts_event, symbol, action, judgement.reason or "", judgement.reason_text)
            )
            return False
        if i + 1 >= len(self.market.ts[symbol]):
            return False  # decided on the last bar: no bar is left to fill on (live would fill later)
        self.working[judgement.client_order_id] = WorkingOrder(order_of(judgement), source.ts_event)
        return True


_BAR_COLUMNS = ("ts", "ts_event", "open", "high", "low", "close", "volume", "event_id")


def _raw_columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy() for c in _BAR_COLUMNS}


def _bar(columns: dict[str, np.ndarray], i: int) -> Bar:
    """Bar i as ``decimal_bars`` makes it (``.item()`` gives the Python scalar ``tolist`` would)."""
    t0, t1, o, h, lo, c, v = (columns[k][i].item() for k in _BAR_COLUMNS[:7])
    return Bar(int(t0), int(t1), to_decimal(o), to_decimal(h), to_decimal(lo), to_decimal(c), to_decimal(v))


def _mark_held(run: _FastRun, ts: int, rank: int) -> None:
    """Marks as exact mode holds them when symbol ``rank`` acts at ``ts``: each held symbol's latest
    close already seen (symbols before it in the spec's order have seen the bar at ``ts`` itself)."""
    engine, market = run.engine, run.market
    for k, symbol in enumerate(run.spec.symbols):
        if engine.book.position(symbol) == 0:
            continue  # a mark only moves equity through a position
        seen = int(np.searchsorted(market.ts[symbol], ts, side="right" if k < rank else "left"))
        if seen == 0:
            continue
        instrument = run.catalog.get(symbol)
        assert instrument is not None
        engine.book.mark(symbol, instrument.round_price(Decimal(str(market.close[symbol][seen - 1]))))


@dataclass(frozen=True)
class _Columns:
    ts: dict[str, npt.NDArray[np.int64]]
    close: dict[str, npt.NDArray[np.float64]]
    ts_event: dict[str, npt.NDArray[np.int64]]
