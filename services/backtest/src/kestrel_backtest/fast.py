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

from kestrel_backtest.domain import (
    UNLIMITED,
    BacktestInputError,
    BacktestSpec,
    EnginePath,
    MarketData,
    Rejection,
    decimal_bars,
)
from kestrel_backtest.exact import order_of, risk_engine
from kestrel_contracts.v1.signal_pb2 import SignalAction
from kestrel_riskengine.engine import RiskEngine
from kestrel_strategies import Decision
from kestrel_strategies.signals import SourceBar, strategy_signal
from kestrel_trading.domain import Fill
from kestrel_trading.paper import WorkingOrder, on_bar

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
        _mark_held(run.engine, spec, run.market, ts, rank)
        if phase == _FILL:
            run.fill(spec.symbols[rank], i)
        elif run.decide(spec.symbols[rank], i):
            heapq.heappush(queue, (int(run.market.ts[spec.symbols[rank]][i + 1]), _FILL, rank, i + 1))
    return EnginePath(run.fills, run.rejections, sum(len(data.bars[s]) for s in spec.symbols), decisions)


class _FastRun:
    def __init__(self, spec: BacktestSpec, data: MarketData, targets: dict[str, Targets]) -> None:
        self.spec, self.data, self.targets = spec, data, targets
        self.engine = risk_engine(spec)
        self.market = _Columns(
            {s: data.bars[s]["ts"].to_numpy(dtype=np.int64) for s in spec.symbols},
            {s: data.bars[s]["close"].to_numpy(dtype=np.float64) for s in spec.symbols},
            {s: data.bars[s]["ts_event"].to_numpy(dtype=np.int64) for s in spec.symbols},
        )
        self.working: dict[str, WorkingOrder] = {}
        self.fills: list[Fill] = []
        self.rejections: list[Rejection] = []

    def fill(self, symbol: str, i: int) -> None:
        """The paper broker on the symbol's bar i: its working (MARKET IOC) order fills at the open."""
        instrument = self.spec.catalog.get(symbol)
        assert instrument is not None  # checked by BacktestSpec
        bar = decimal_bars(self.data.bars[symbol].iloc[i : i + 1])[0]
        for coid, working in [(c, w) for c, w in self.working.items() if w.order.symbol == symbol]:
            step = on_bar(working, bar, instrument, self.spec.paper)
            if step.fill is not None:
                self.engine.book.apply_fill(step.fill)
                self.fills.append(step.fill)
            order = step.working.order
            self.engine.book.working.on_report(coid, order.status, order.filled_quantity)
            del self.working[coid]  # IOC: done after its first bar, filled or not

    def decide(self, symbol: str, i: int) -> bool:
        """Risk's judgement of the direction change on bar i; True when an order awaits bar i+1."""
        t, frame = self.targets[symbol], self.data.bars[symbol]
        before = float(t.direction[i - 1]) if i > 0 else 0.0
        decision = Decision(np.nan, float(t.direction[i]), float(t.weight[i]))
        source = SourceBar(
            str(frame["event_id"].iat[i]),
            int(self.market.ts_event[symbol][i]),
            symbol,
            self.spec.venue,
            self.spec.timeframe,
            str(frame["close"].iat[i]),
        )
        signal = strategy_signal(self.spec.strategy, source, before, decision, ts_init=source.ts_event)
        judgement = self.engine.decide_signal(signal, kill_switch=False, now_ns=source.ts_event)
        if not judgement.approved:
            action = SignalAction.Name(signal.action).removeprefix("SIGNAL_ACTION_")
            self.rejections.append(
                Rejection(source.ts_event, symbol, action, judgement.reason or "", judgement.reason_text)
            )
            return False
        if i + 1 >= len(frame):
            return False  # decided on the last bar: no bar is left to fill on (live would fill later)
        self.working[judgement.client_order_id] = WorkingOrder(order_of(judgement), source.ts_event)
        return True


def _mark_held(engine: RiskEngine, spec: BacktestSpec, market: _Columns, ts: int, rank: int) -> None:
    """Marks as exact mode holds them when symbol ``rank`` acts at ``ts``: each held symbol's latest
    close already seen (symbols before it in the spec's order have seen the bar at ``ts`` itself)."""
    for k, symbol in enumerate(spec.symbols):
        if engine.book.position(symbol) == 0:
            continue  # a mark only moves equity through a position
        seen = int(np.searchsorted(market.ts[symbol], ts, side="right" if k < rank else "left"))
        if seen == 0:
            continue
        instrument = spec.catalog.get(symbol)
        assert instrument is not None
        engine.book.mark(symbol, instrument.round_price(Decimal(str(market.close[symbol][seen - 1]))))


@dataclass(frozen=True)
class _Columns:
    ts: dict[str, npt.NDArray[np.int64]]
    close: dict[str, npt.NDArray[np.float64]]
    ts_event: dict[str, npt.NDArray[np.int64]]
