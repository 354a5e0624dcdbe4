"""The numbers every report format shows, shaped once: labelled metrics, the trade list, the equity
curve and the monthly returns. The formats only lay these out."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from kestrel_backtest.accounting import BacktestReport

_PERCENT = frozenset(
    {
        "total_return",
        "annualized_return",
        "annualized_volatility",
        "max_drawdown",
        "win_rate",
        "exposure",
        "benchmark_return",
    }
)
_COUNT = frozenset({"trade_count", "fill_count", "max_drawdown_duration_bars"})
TRADE_HEADER = (
    "symbol",
    "side",
    "status",
    "entry_time",
    "exit_time",
    "size",
    "entry_price",
    "exit_price",
    "fees",
    "pnl",
    "return",
)
EQUITY_HEADER = ("time", "equity", "benchmark", "drawdown")


def label(name: str) -> str:
    return name.replace("_", " ")


def metric_text(name: str, value: float | None) -> str:
    """A metric as a person reads it: percentages, counts, ratios; an undefined one as a dash."""
    if value is None or not math.isfinite(value):
        return "—"
    if name in _PERCENT:
        return f"{value:.2%}"
    if name in _COUNT:
        return f"{value:,.0f}"
    return f"{value:,.4f}"


def metric_rows(report: BacktestReport) -> list[tuple[str, str]]:
    """Money first (exact decimal text), then every metric, each as (label, text)."""
    rows = [(label(k), str(v)) for k, v in report.money.items()]
    rows += [(label(k), metric_text(k, v)) for k, v in report.metrics.items()]
    return rows


def _iso(ns: Any) -> str:
    return datetime.fromtimestamp(int(ns) / 1e9, tz=UTC).isoformat()


def trade_records(report: BacktestReport, limit: int | None = None) -> Iterator[tuple[Any, ...]]:
    """Round trips in TRADE_HEADER order; an open trade has no exit time or price."""
    t = report.trades if limit is None else report.trades.head(limit)
    columns = ["symbol", "side", "status", "entry_ts", "exit_ts", "size", "entry_price", "exit_price"]
    columns += ["fees", "pnl", "return"]
    for sym, side, status, e0, e1, size, p0, p1, fees, pnl, ret in t[columns].itertuples(
        index=False, name=None
    ):
        closed = status == "closed"
        yield (
            sym,
            side,
            status,
            _iso(e0),
            _iso(e1) if closed else None,
            float(size),
            float(p0),
            float(p1) if closed else None,
            float(fees),
            float(pnl),
            float(ret),
        )


def equity_records(report: BacktestReport) -> Iterator[tuple[str, float, float, float]]:
    e = report.equity
    for ts, equity, benchmark, drawdown in zip(
        e["ts"].tolist(), e["equity"].tolist(), e["benchmark"].tolist(), e["drawdown"].tolist(), strict=True
    ):
        yield _iso(ts), equity, benchmark, drawdown


def equity_series(report: BacktestReport, points: int | None = None) -> pd.DataFrame:
    """Equity, benchmark and drawdown on a UTC DatetimeIndex; at most ``points`` rows (evenly
    thinned, keeping the last) for a chart, where a million points draw no better than two thousand."""
    e = report.equity
    frame = e[["equity", "benchmark", "drawdown"]].copy()
    frame.index = pd.to_datetime(e["ts"].to_numpy(dtype=np.int64), utc=True)
    if points is not None and len(frame) > points:
        keep = np.unique(np.linspace(0, len(frame) - 1, points).round().astype(np.int64))
        frame = frame.iloc[keep]
    return frame


def monthly_returns(report: BacktestReport) -> pd.DataFrame:
    """Return per calendar month (rows: years, columns: 1-12), from month-end equity; the first month
    is measured from the initial cash. Months without bars are NaN."""
    equity = equity_series(report)["equity"]
    if equity.empty:
        return pd.DataFrame(columns=range(1, 13), dtype=float)
    index = pd.DatetimeIndex(equity.index)
    ends = equity.groupby([index.year, index.month]).last()
    start = float(report.money["initial_cash"])
    previous = np.concatenate([[start], ends.to_numpy()[:-1]])
    returns = ends.to_numpy() / previous - 1.0
    table = pd.Series(returns, index=ends.index).unstack()
    return table.reindex(columns=range(1, 13)).astype(float)
