"""Fills -> portfolio, equity curve, round trips and metrics, the same way for both modes.

vectorbt simulates the account from the engine's fills (``Portfolio.from_orders``: each fill's amount,
price and fee, on the bar it happened), so the equity curve, trades and statistics come from one
well-kept implementation; the money totals (final equity, net P&L, fees) are recomputed exactly in
Decimal from the same fills with ``kestrel_trading.portfolio``. Annualization uses the bars' own
spacing: daily bars of a market that trades 252 days a year are annualized with 252, not 365.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import vectorbt as vbt

from kestrel_backtest.domain import BacktestSpec, MarketData
from kestrel_trading.domain import Fill
from kestrel_trading.portfolio import Portfolio

YEAR = pd.Timedelta(days=365.25)


class SimulationMismatchError(RuntimeError):
    """vectorbt refused a fill the paper model made (e.g. cash it would not lend): a bug, not data."""


@dataclass(frozen=True)
class BacktestReport:
    metrics: dict[str, float]
    money: dict[str, Decimal]
    equity: pd.DataFrame  # ts, equity, benchmark, drawdown
    trades: pd.DataFrame  # one row per round trip
    fills: Sequence[Fill]


def _matrix(spec: BacktestSpec, data: MarketData) -> tuple[pd.DatetimeIndex, pd.DataFrame]:
    timeline = np.unique(np.concatenate([data.bars[s]["ts"].to_numpy(dtype=np.int64) for s in spec.symbols]))
    index = pd.DatetimeIndex(pd.to_datetime(timeline, utc=True))
    closes = {}
    for symbol in spec.symbols:
        frame = data.bars[symbol]
        instrument = spec.catalog.get(symbol)
        assert instrument is not None
        # Positions are marked at the tick-rounded close, as risk marks them.
        rounded = [float(instrument.round_price(Decimal(str(c)))) for c in frame["close"].tolist()]
        closes[symbol] = pd.Series(rounded, index=frame["ts"].to_numpy(dtype=np.int64)).reindex(timeline)
    close = pd.DataFrame(closes).ffill().bfill()
    close.index = index
    return index, close


def simulate(spec: BacktestSpec, data: MarketData, fills: Sequence[Fill]) -> vbt.Portfolio:
    index, close = _matrix(spec, data)
    shape = close.shape
    size, price, fee = np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape)
    rows = {int(ts): k for k, ts in enumerate(index.asi8)}
    cols = {s: k for k, s in enumerate(spec.symbols)}
    for fill in fills:
        r, c = rows[fill.ts_ns], cols[fill.symbol]
        if not np.isnan(size[r, c]):
            raise SimulationMismatchError(f"two fills of {fill.symbol} on one bar ({fill.ts_ns})")
        size[r, c] = float(fill.signed_quantity)
        price[r, c], fee[r, c] = float(fill.price), float(fill.fee)
    spacing = (index[-1] - index[0]) / max(len(index) - 1, 1) if len(index) > 1 else pd.Timedelta(1, "D")

    def frame(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=index, columns=close.columns)

    try:
        return vbt.Portfolio.from_orders(
            close=close,
            size=frame(size),
            size_type="amount",
            direction="both",
            price=frame(price),
            fees=0.0,
            fixed_fees=frame(fee),
            init_cash=float(spec.initial_cash),
            cash_sharing=True,
            group_by=True,
            call_seq="auto",  # sells before buys within a bar, as cash allows
            allow_partial=False,
            raise_reject=True,
            freq=spacing,
        )
    except Exception as exc:  # vectorbt raises its own RejectedOrderError
        raise SimulationMismatchError(f"vectorbt refused an order the paper model filled: {exc}") from exc


def report(spec: BacktestSpec, data: MarketData, fills: Sequence[Fill]) -> BacktestReport:
    pf = simulate(spec, data, fills)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metrics = _metrics(pf, spec, fills)
    money = _money(spec, data, fills)
    value = pf.value()
    benchmark = pf.benchmark_value()
    equity = pd.DataFrame(
        {
            "ts": value.index.asi8,
            "equity": value.to_numpy(),
            "benchmark": benchmark.to_numpy(),
            "drawdown": pf.drawdown().to_numpy(),
        }
    )
    return BacktestReport(metrics, money, equity, _trades(pf), fills)


def _metrics(pf: vbt.Portfolio, spec: BacktestSpec, fills: Sequence[Fill]) -> dict[str, float]:
    stats: Any = pf.stats()
    trades = pf.trades
    closed = trades.closed
    value = pf.value()
    notional = sum(float(f.notional) for f in fills)
    duration = stats.get("Max Drawdown Duration", pd.Timedelta(0))
    bar = pf.wrapper.freq
    out = {
        "total_return": float(pf.total_return()),
        "annualized_return": float(pf.annualized_return()),
        "annualized_volatility": float(pf.returns_acc.annualized_volatility()),
        "sharpe_ratio": float(pf.sharpe_ratio()),
        "sortino_ratio": float(pf.sortino_ratio()),
        "calmar_ratio": float(pf.calmar_ratio()),
        "max_drawdown": float(-pf.max_drawdown()),
        "max_drawdown_duration_bars": float(duration / bar) if isinstance(duration, pd.Timedelta) else 0.0,
        "win_rate": float(closed.win_rate()) if closed.count() else 0.0,
        "profit_factor": float(closed.profit_factor()) if closed.count() else 0.0,
        "expectancy": float(closed.expectancy()) if closed.count() else 0.0,
        "average_trade_pnl": float(closed.pnl.mean()) if closed.count() else 0.0,
        "exposure": float(pf.position_coverage()),
        "turnover": notional / float(value.mean()) if len(value) else 0.0,
        "trade_count": float(trades.count()),
        "fill_count": float(len(fills)),
        "benchmark_return": float(pf.total_benchmark_return()),
    }
    return {k: (v if np.isfinite(v) else float("nan")) for k, v in out.items()}


def _money(spec: BacktestSpec, data: MarketData, fills: Sequence[Fill]) -> dict[str, Decimal]:
    book = Portfolio(cash=spec.initial_cash)
    for fill in fills:
        book = book.apply_fill(fill)
    marks = {}
    for symbol in spec.symbols:
        instrument = spec.catalog.get(symbol)
        assert instrument is not None
        marks[symbol] = instrument.round_price(Decimal(str(data.bars[symbol]["close"].iat[-1])))
    final = book.equity(marks)
    return {
        "initial_cash": spec.initial_cash,
        "final_equity": final,
        "net_pnl": final - spec.initial_cash,
        "total_fees": sum((f.fee for f in fills), Decimal(0)),
        "cash": book.cash,
    }


def _trades(pf: vbt.Portfolio) -> pd.DataFrame:
    records = pf.trades.records_readable
    if records.empty:
        return pd.DataFrame(
            columns=[
                "symbol",
                "side",
                "entry_ts",
                "exit_ts",
                "size",
                "entry_price",
                "exit_price",
                "fees",
                "pnl",
                "return",
                "status",
            ]
        )
    return pd.DataFrame(
        {
            "symbol": records["Column"].astype(str),
            "side": records["Direction"].astype(str).str.lower(),
            "entry_ts": pd.to_datetime(records["Entry Timestamp"]).astype("int64"),
            "exit_ts": pd.to_datetime(records["Exit Timestamp"]).astype("int64"),
            "size": records["Size"].astype(float),
            "entry_price": records["Avg Entry Price"].astype(float),
            "exit_price": records["Avg Exit Price"].astype(float),
            "fees": (records["Entry Fees"] + records["Exit Fees"]).astype(float),
            "pnl": records["PnL"].astype(float),
            "return": records["Return"].astype(float),
            "status": records["Status"].astype(str).str.lower(),
        }
    )
