"""Fast mode: the strategy vectorized over the whole history, orders sized only where it trades.

1. ``Strategy.evaluate`` gives the direction and weight on every bar at once (featurelib's batch
   evaluator; no per-bar Python).
2. Only the bars where the direction changes become decisions. Each is sized and checked as the live
   risk service would (same sizing, exchange filters and spot cash cap, through ``FastBook``, which
   calls risk's and the paper broker's own pure functions) and filled on the symbol's next bar (its
   open, slipped and tick-rounded against the trader, fees rounded up). That is a loop over trades,
   not over bars: a few thousand Decimal steps for a million bars.
3. vectorbt simulates the portfolio from those fills (``accounting``) and computes the statistics.

Risk limits that depend on the path between trades (drawdown, daily loss, order rate) are
exact-mode only: fast mode refuses a spec that sets them rather than ignore them silently. Inputs
outside what the fast book models are handed to exact mode whole (``EnginePath.fallback`` says why).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from kestrel_backtest.domain import UNLIMITED, BacktestInputError, BacktestSpec, EnginePath, MarketData
from kestrel_backtest.exact import resolved_catalog, run_exact
from kestrel_backtest.fast_book import FastBook, OutsideFastEnvelopeError
from kestrel_platform.logging import get_logger

_FILL, _DECIDE = 0, 1  # at one bar time, fills (at the open) come before decisions (at the close)
_log = get_logger(__name__)


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
    try:
        return _run(spec, data, targets)
    except OutsideFastEnvelopeError as exc:
        _log.info("backtest.fast_fallback", reason=str(exc))
        return replace(run_exact(spec, data), fallback=str(exc))


@dataclass(frozen=True)
class _Series:
    ts: npt.NDArray[np.int64]
    ts_event: npt.NDArray[np.int64]
    open: npt.NDArray[np.float64]
    close: npt.NDArray[np.float64]
    event_ids: pd.Series  # read only at the bars that trade: a million-row object array costs 0.3 s


def _series(data: MarketData, symbol: str) -> _Series:
    frame = data.bars[symbol]
    ts, ts_event = frame["ts"].to_numpy(dtype=np.int64), frame["ts_event"].to_numpy(dtype=np.int64)
    if len(ts) > 1 and (np.any(np.diff(ts) <= 0) or np.any(ts[1:] < ts_event[:-1])):
        raise OutsideFastEnvelopeError(f"bars of {symbol} are out of order or overlap")
    return _Series(
        ts,
        ts_event,
        frame["open"].to_numpy(dtype=np.float64),
        frame["close"].to_numpy(dtype=np.float64),
        frame["event_id"],
    )


def _run(spec: BacktestSpec, data: MarketData, targets: dict[str, Targets]) -> EnginePath:
    symbols = spec.symbols
    series = [_series(data, s) for s in symbols]
    book = FastBook(spec, resolved_catalog(spec))
    # (bar open ts, phase, symbol rank, bar index): what happens, in the order the live loop does it.
    queue: list[tuple[int, int, int, int]] = []
    event_ids: list[dict[int, str]] = []
    for rank, symbol in enumerate(symbols):
        changes = np.flatnonzero(np.diff(targets[symbol].direction, prepend=0.0))
        ids = series[rank].event_ids.take(changes).astype(str).tolist()
        event_ids.append(dict(zip(changes.tolist(), ids, strict=True)))
        queue.extend(
            zip(
                series[rank].ts[changes].tolist(),
                [_DECIDE] * len(changes),
                [rank] * len(changes),
                changes.tolist(),
                strict=True,
            )
        )
    heapq.heapify(queue)
    decisions = len(queue)
    while queue:
        ts, phase, rank, i = heapq.heappop(queue)
        s, symbol = series[rank], symbols[rank]
        if phase == _FILL:
            book.fill(symbol, s.open[i].item(), ts)
            continue
        if len(symbols) > 1:
            _mark_held(book, series, symbols, ts, rank)
        t = targets[symbol]
        approved = book.decide(
            symbol,
            after=t.direction[i].item(),
            weight=t.weight[i].item(),
            close=s.close[i].item(),
            bar=event_ids[rank][i],
            ts_event=int(s.ts_event[i]),
        )
        if approved and i + 1 < len(s.ts):  # decided on the last bar: nothing is left to fill on
            heapq.heappush(queue, (int(s.ts[i + 1]), _FILL, rank, i + 1))
    return EnginePath(book.fills, book.rejections, sum(len(s.ts) for s in series), decisions)


def _mark_held(book: FastBook, series: list[_Series], symbols: tuple[str, ...], ts: int, rank: int) -> None:
    """Marks as exact mode holds them when symbol ``rank`` decides at ``ts``: each other held symbol's
    latest close already seen (symbols before it in the spec's order have seen the bar at ``ts``),
    and its close of the bar before ``ts``, which sizing reads."""
    for k, symbol in enumerate(symbols):
        if k == rank or not book.held(symbol):
            continue  # the deciding symbol is marked at its own close; a mark moves equity via a position
        before = int(np.searchsorted(series[k].ts, ts, side="left"))
        seen = int(np.searchsorted(series[k].ts, ts, side="right")) if k < rank else before
        if before:  # a held symbol has decided (so been marked) before ts
            close = series[k].close
            book.mark_close(symbol, close[seen - 1].item(), close[before - 1].item())
