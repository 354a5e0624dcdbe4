"""A strategy's parameter grid swept at once: one vectorbt simulation over every combination.

For the optimizer, where a few hundred parameter points are ranked before the good ones are run
through fast or exact mode. Per combination it gives total_return, sharpe_ratio, max_drawdown and
trades, with the fill semantics of fast mode (decision on bar t's close, fill at bar t+1's open,
slippage against the trader, a proportional fee) but float sizing: each entry spends
``sizing_fraction`` of the cash at the fill price (vectorbt's ``percent``), where fast mode sizes
through risk in whole lots on the signal bar's close. Long-only.

1. The grid is the cartesian product of the given values, each point validated by the strategy's
   own parameter space: points that break a constraint (``fast < slow``) are left out.
2. Indicators come from the catalogue's own definitions, each distinct one computed once by the
   feature library (a 10-bar SMA shared by forty points is one column): the catalogue's EMA is
   truncated, so vectorbt's own MA would not give the strategy's signals.
3. The strategy's rule turns the indicators into event codes per combination (vectorized over bars);
   LONG enters, SHORT/FLAT/EXIT_LONG leave, which is what ``positions.directions`` does long-only.
4. ``Portfolio.from_signals`` simulates the combinations as columns of one frame, in chunks that
   keep memory bounded.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
import vectorbt as vbt

from kestrel_featurelib import FeatureSet, FeatureSpec
from kestrel_featurelib.graph import Node
from kestrel_featurelib.ops import BATCH_OPS
from kestrel_strategies import ParameterError, ParamValue, StrategyDef, get
from kestrel_strategies.positions import EXIT_LONG, FLAT, LONG, SHORT

METRICS = ("total_return", "sharpe_ratio", "max_drawdown", "trades")
# Cells (bars x combinations) simulated per vectorbt call: ~10 float/bool frames of this size live
# at once; 2M cells keep a chunk near 100 MB and ran fastest here (1M-9M tried).
CHUNK_CELLS = 2_000_000


def grid_points(
    definition: StrategyDef, grid: Mapping[str, Sequence[ParamValue]]
) -> list[dict[str, ParamValue]]:
    """Every combination of ``grid`` the strategy's parameter space accepts, in product order."""
    names = list(grid)
    points = []
    for values in itertools.product(*(grid[n] for n in names)):
        try:
            points.append(definition.space.validate(definition.name, dict(zip(names, values, strict=True))))
        except ParameterError:
            continue  # a constraint violation (or an out-of-range value): not a point of the grid
    return points


def sweep(
    name: str,
    bars: pd.DataFrame,
    grid: Mapping[str, Sequence[ParamValue]],
    *,
    initial_cash: float = 100_000.0,
    fee_rate: float = 0.001,
    slippage_bps: float = 0.0,
    sizing_fraction: float = 1.0,
) -> pd.DataFrame:
    """One row per valid grid point: its parameters, then ``METRICS``. ``bars`` as fast mode takes
    them (ts ascending, float open/high/low/close/volume)."""
    definition = get(name)
    if definition.inputs or definition.weight is not None:
        raise ValueError(f"strategy {name} needs per-bar inputs or weights; the grid sweeps rules only")
    points = grid_points(definition, grid)
    if not points:
        raise ValueError(f"no point of the grid {dict(grid)} satisfies {name}'s constraints")
    roles, columns = _indicator_columns(definition, points, bars)
    n = len(bars)
    index = pd.DatetimeIndex(bars["ts"].to_numpy(dtype=np.int64).astype("datetime64[ns]"))
    close = bars["close"].to_numpy(dtype=np.float64)
    # The fill of a decision on bar t happens at bar t+1's open, slipped against the trader.
    price = bars["open"].to_numpy(dtype=np.float64)
    spacing = (index[-1] - index[0]) / max(n - 1, 1) if n > 1 else pd.Timedelta(1, "D")
    chunk = max(1, CHUNK_CELLS // max(n, 1))
    frames = []
    for start in range(0, len(points), chunk):
        part = points[start : start + chunk]
        entries, exits = _signals(definition, part, roles[start : start + chunk], columns, n)
        pf = vbt.Portfolio.from_signals(
            close=pd.Series(close, index=index),
            entries=_next_bar(entries),
            exits=_next_bar(exits),
            price=pd.Series(price, index=index),
            size=sizing_fraction,
            size_type="percent",
            direction="longonly",
            fees=fee_rate,
            slippage=slippage_bps / 10_000,
            init_cash=initial_cash,
            freq=spacing,
        )
        frames.append(_metrics(pf, close, initial_cash, spacing))
    params = pd.DataFrame(points)
    return pd.concat([params, pd.concat(frames, ignore_index=True)], axis=1)


def _metrics(
    pf: vbt.Portfolio, close: npt.NDArray[np.float64], initial_cash: float, spacing: pd.Timedelta
) -> pd.DataFrame:
    """Total return, Sharpe ratio (risk-free 0, ddof 1, vectorbt's year_freq) and max drawdown of each
    column, from vectorbt's order records. Rebuilding the value matrix from the (few) orders in numpy
    is a fraction of what vectorbt's wrapped ``value``/``returns`` accessors cost (they copy every
    intermediate matrix into a DataFrame, and ``sharpe_ratio`` adds a benchmark per column)."""
    orders = pf.orders.values
    shape = (len(close), int(pf.wrapper.shape_2d[1]))
    signed = np.where(orders["side"] == 0, orders["size"], -orders["size"])
    flow, held = np.zeros(shape), np.zeros(shape)
    np.add.at(flow, (orders["idx"], orders["col"]), -signed * orders["price"] - orders["fees"])
    np.add.at(held, (orders["idx"], orders["col"]), signed)
    # In place where possible: at a few million cells each temporary matrix costs as much as a pass.
    value = np.cumsum(flow, axis=0)
    value += initial_cash
    held = np.cumsum(held, axis=0)
    held *= close[:, None]
    value += held
    previous = held  # reused: the value one bar earlier, initial cash before the first bar
    previous[0] = initial_cash
    previous[1:] = value[:-1]
    with np.errstate(all="ignore"):
        returns = np.divide(value, previous, out=previous)
        returns -= 1.0
        periods = pd.Timedelta(vbt.settings.returns["year_freq"]) / spacing
        sharpe = returns.mean(axis=0) / returns.std(axis=0, ddof=1) * np.sqrt(periods)
        peak = np.maximum.accumulate(value, axis=0)
        np.maximum(peak, initial_cash, out=peak)
        drawdown = 1.0 - (np.divide(value, peak, out=peak)).min(axis=0)
    return pd.DataFrame(
        {
            "total_return": value[-1] / initial_cash - 1.0,
            "sharpe_ratio": np.where(np.isfinite(sharpe), sharpe, np.nan),
            "max_drawdown": drawdown,
            # Long-only without accumulation: every buy opens one round trip.
            "trades": np.bincount(orders["col"][orders["side"] == 0], minlength=shape[1]),
        }
    )


def _indicator_columns(
    definition: StrategyDef, points: list[dict[str, ParamValue]], bars: pd.DataFrame
) -> tuple[list[dict[str, int]], npt.NDArray[np.float64]]:
    """Each point's role -> column of one matrix holding every distinct indicator, computed once."""
    distinct: dict[Node, int] = {}
    roles = []
    for point in points:
        nodes = definition.indicators(point)
        roles.append({role: distinct.setdefault(node, len(distinct)) for role, node in nodes.items()})
    specs = [FeatureSpec(f"i{k}", "trend", f"indicator {k}", node, {}) for node, k in distinct.items()]
    computed = FeatureSet(specs, None).batch(bars, None)
    return roles, computed[[s.name for s in specs]].to_numpy(dtype=np.float64)


def _signals(
    definition: StrategyDef,
    points: list[dict[str, ParamValue]],
    roles: list[dict[str, int]],
    columns: npt.NDArray[np.float64],
    n: int,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Long-only entries and exits per point (columns), on the decision bar."""
    entries = np.zeros((n, len(points)), dtype=np.bool_)
    exits = np.zeros((n, len(points)), dtype=np.bool_)
    with np.errstate(all="ignore"):
        for j, (point, role) in enumerate(zip(points, roles, strict=True)):
            values = {r: columns[:, k] for r, k in role.items()}
            events = np.broadcast_to(np.asarray(definition.rule(BATCH_OPS, values, point), dtype=float), (n,))
            entries[:, j] = events == LONG
            exits[:, j] = (events == SHORT) | (events == FLAT) | (events == EXIT_LONG)
    return entries, exits


def _next_bar(signal: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """The signal moved one bar later (no order from the last bar; nothing on the first)."""
    out = np.zeros_like(signal)
    out[1:] = signal[:-1]
    return out
