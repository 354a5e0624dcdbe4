"""Exact mode: the live trading code itself, driven bar by bar in one process.

Per bar time, in the order live runs them: execution's paper broker fills the working orders on the
bar (``kestrel_trading.paper``, at its open), risk applies those fills, then the strategy's streaming
evaluator decides on the bar's close, its decision becomes the same ``Signal`` the live signal service
would publish (``kestrel_strategies.signals``) and risk's own ``RiskEngine`` sizes and checks it —
rejections keep their reason codes. An approved order is the MARKET IOC order execution would accept,
and it can only fill on a later bar. Everything is Decimal; this is the reference for what live
would have done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from kestrel_backtest.domain import (
    BacktestSpec,
    EnginePath,
    MarketData,
    Rejection,
    bars_per_year,
    to_decimal,
)
from kestrel_contracts.v1.signal_pb2 import SIGNAL_ACTION_HOLD, SignalAction
from kestrel_riskengine.book import RiskBook
from kestrel_riskengine.engine import RiskEngine
from kestrel_riskengine.judgement import Judgement
from kestrel_riskengine.sizing import SizingPolicy
from kestrel_strategies import StrategyStream
from kestrel_strategies.signals import SourceBar, signal_action, strategy_signal
from kestrel_trading.catalog import InstrumentCatalog
from kestrel_trading.domain import Bar, Fill, Side
from kestrel_trading.orders import Order, OrderType, TimeInForce
from kestrel_trading.paper import WorkingOrder, on_bar

Progress = Callable[[int, int], None]


def risk_engine(spec: BacktestSpec) -> RiskEngine:
    """The engine the risk service would build for an account configured like ``spec``."""
    sizing = SizingPolicy(
        "fixed_fraction",
        spec.sizing_fraction,
        Decimal("0.15"),
        round(bars_per_year(spec.timeframe)),
        Decimal(1),
    )
    return RiskEngine(
        RiskBook(spec.initial_cash),
        resolved_catalog(spec),
        spec.limits,
        sizing,
        account=spec.account,
        allow_short=spec.allow_short,
        service="backtest",
    )


def resolved_catalog(spec: BacktestSpec) -> InstrumentCatalog:
    """``spec.catalog`` with the spec's symbols looked up once: a symbol that falls back to the
    catalogue's default gets a new (validated) Instrument on every lookup, and risk looks one up per
    bar; the instruments are equal, so every decision is the same."""
    found = {s: spec.catalog.get(s) for s in spec.symbols}
    return InstrumentCatalog(
        {**spec.catalog.instruments, **{s: i for s, i in found.items() if i is not None}},
        spec.catalog.default,
    )


def order_of(judgement: Judgement) -> Order:
    """The order execution accepts for an approved signal judgement (a MARKET order is IOC by default)."""
    assert judgement.side is not None and judgement.quantity is not None
    return Order(
        client_order_id=judgement.client_order_id,
        symbol=judgement.symbol,
        side=Side(judgement.side),
        order_type=OrderType.MARKET,
        quantity=judgement.quantity,
        time_in_force=TimeInForce.IOC,
    )


@dataclass
class _Series:
    """One symbol's bars as columns: floats for the strategy, Decimal bars built only for the bars
    the paper broker has an order to fill on."""

    symbol: str
    ts_open: list[int]
    ts_close: list[int]
    prices: list[tuple[float, float, float, float, float]]  # open, high, low, close, volume
    event_ids: list[str]
    closes: list[str]
    reference: list[float | None]
    inputs: dict[str, np.ndarray]
    stream: StrategyStream

    def bar(self, i: int) -> Bar:
        o, h, lo, c, v = self.prices[i]
        return Bar(
            self.ts_open[i],
            self.ts_close[i],
            to_decimal(o),
            to_decimal(h),
            to_decimal(lo),
            to_decimal(c),
            to_decimal(v),
        )


def run_exact(spec: BacktestSpec, data: MarketData, progress: Progress | None = None) -> EnginePath:
    data.check(spec)
    run = _ExactRun(spec)
    series = [_series(spec, data, symbol) for symbol in spec.symbols]
    # Bar times of every symbol, in order; symbols at the same time are taken in the spec's order.
    timeline = sorted({ts for s in series for ts in s.ts_open})
    cursor = {s.symbol: 0 for s in series}
    for step, ts in enumerate(timeline):
        due = [s for s in series if cursor[s.symbol] < len(s.ts_open) and s.ts_open[cursor[s.symbol]] == ts]
        for s in due:  # execution sees the bar first: fills at its open
            run.fill_on(s, cursor[s.symbol])
        for s in due:  # then the strategy decides on its close
            run.decide(s, cursor[s.symbol])
            cursor[s.symbol] += 1
        if progress is not None and (step % 1000 == 0 or step == len(timeline) - 1):
            progress(step + 1, len(timeline))
    return EnginePath(run.fills, run.rejections, sum(len(s.ts_open) for s in series), run.signals)


class _ExactRun:
    def __init__(self, spec: BacktestSpec) -> None:
        self.spec, self.engine, self.config = spec, risk_engine(spec), spec.paper
        self.catalog = resolved_catalog(spec)
        self.working: dict[str, WorkingOrder] = {}
        self.fills: list[Fill] = []
        self.rejections: list[Rejection] = []
        self.signals = 0

    def fill_on(self, s: _Series, i: int) -> None:
        """What the paper broker does with the symbol's working orders on bar i; risk hears of it."""
        if not self.working:
            return
        coids = [c for c, w in self.working.items() if w.order.symbol == s.symbol]
        if not coids:
            return
        instrument = self.catalog.get(s.symbol)
        assert instrument is not None  # checked by BacktestSpec
        bar = s.bar(i)
        for coid in coids:
            step = on_bar(self.working[coid], bar, instrument, self.config)
            order = step.working.order
            if step.fill is not None:
                self.engine.book.apply_fill(step.fill)
                self.fills.append(step.fill)
            self.engine.book.working.on_report(coid, order.status, order.filled_quantity)
            if order.status.is_terminal:
                del self.working[coid]
            else:
                self.working[coid] = step.working

    def decide(self, s: _Series, i: int) -> None:
        """The strategy's decision on bar i, as a signal, judged by risk as the live loop judges it."""
        spec, ts_close = self.spec, s.ts_close[i]
        before = s.stream.direction
        o, h, lo, c, v = s.prices[i]
        inputs = {k: float(col[i]) for k, col in s.inputs.items()}
        decision = s.stream.update(s.ts_open[i], o, h, lo, c, v, s.reference[i], inputs)
        if signal_action(before, decision.direction) == SIGNAL_ACTION_HOLD:
            # What risk does with the HOLD signal, without building it: the mark moves.
            self.engine.mark_price(s.symbol, s.closes[i], ts_close)
            return
        source = SourceBar(s.event_ids[i], ts_close, s.symbol, spec.venue, spec.timeframe, s.closes[i])
        signal = strategy_signal(s.stream.strategy, source, before, decision, ts_init=ts_close)
        self.signals += 1
        judgement = self.engine.decide_signal(signal, kill_switch=False, now_ns=ts_close)
        if judgement.approved:
            self.working[judgement.client_order_id] = WorkingOrder(order_of(judgement), ts_close)
            return
        action = SignalAction.Name(signal.action).removeprefix("SIGNAL_ACTION_")
        self.rejections.append(
            Rejection(ts_close, s.symbol, action, judgement.reason or "", judgement.reason_text)
        )


def _series(spec: BacktestSpec, data: MarketData, symbol: str) -> _Series:
    frame = data.bars[symbol]
    reference: list[float | None] = [None] * len(frame)
    if spec.strategy.needs_reference and data.reference is not None:
        ref = dict(zip(data.reference["ts"].tolist(), data.reference["close"].tolist(), strict=True))
        reference = [ref.get(ts) for ts in frame["ts"].tolist()]
    inputs = {k: np.asarray(v, dtype=np.float64) for k, v in data.inputs.get(symbol, {}).items()}
    columns = [frame[c].astype(float).tolist() for c in ("open", "high", "low", "close", "volume")]
    return _Series(
        symbol,
        [int(t) for t in frame["ts"].tolist()],
        [int(t) for t in frame["ts_event"].tolist()],
        list(zip(*columns, strict=True)),
        frame["event_id"].astype(str).tolist(),
        [str(c) for c in frame["close"].tolist()],
        reference,
        inputs,
        spec.strategy.stream(long_only=not spec.allow_short),
    )
