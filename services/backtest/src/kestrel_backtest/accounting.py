"""Fills -> portfolio, equity curve, round trips and metrics, the same way for both modes.

vectorbt simulates the account from the engine's fills (``Portfolio.from_orders``: each fill's amount,
price and fee, on the bar it happened), so the equity curve, trades and statistics come from one
well-kept implementation; the money totals (final equity, net P&L, fees) are recomputed exactly in
Decimal from the same fills, as ``kestrel_trading.portfolio`` keeps cash. Annualization uses the bars' own
spacing: daily bars of a market that trades 252 days a year are annualized with 252, not 365.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pandas as pd
import vectorbt as vbt
from vectorbt.returns.accessors import ReturnsAccessor

from kestrel_backtest.domain import BacktestSpec, MarketData
from kestrel_trading.domain import Fill, Side
from kestrel_trading.instruments import Instrument

YEAR = pd.Timedelta(days=365.25)


class SimulationMismatchError(RuntimeError):
    """vectorbt refused a fill the paper model made, even with the overdraft lent: a bug, not data."""


def overdraft(spec: BacktestSpec, fills: Sequence[Fill]) -> Decimal:
    """The most cash the fills spend beyond what the account holds (0 when they never do).

    Risk sizes a buy by the cash at the decision bar's close; the paper model fills it at the next
    open, plus slippage and fee, and a spot venue's balance check is not part of the paper model
    (live execution holds no balances). A gap up can therefore overdraw the account by a little, in
    live paper trading as in the backtest. vectorbt refuses to lend, so it is lent this much and the
    accounting takes it back out. Sells first within a bar, as vectorbt's ``call_seq="auto"``.
    """
    cash = low = spec.initial_cash
    signed = [(f.ts_ns, f.side is Side.BUY, f.signed_quantity * f.price + f.fee) for f in fills]
    for _, _, spent in sorted(signed, key=lambda x: (x[0], x[1])):
        cash -= spent
        low = min(low, cash)
    return -low if low < 0 else Decimal(0)


@dataclass(frozen=True)
class BacktestReport:
    metrics: dict[str, float]
    money: dict[str, Decimal]
    equity: pd.DataFrame  # ts, equity, benchmark, drawdown
    trades: pd.DataFrame  # one row per round trip
    fills: Sequence[Fill]


def _matrix(spec: BacktestSpec, data: MarketData) -> tuple[pd.DatetimeIndex, pd.DataFrame]:
    timeline = _sorted_unique(
        np.concatenate([data.bars[s]["ts"].to_numpy(dtype=np.int64) for s in spec.symbols])
    )
    # A tz-naive index (the values are UTC): vectorbt turns a tz-aware index into an array of
    # Timestamp objects on every wrap, which dominates the cost of stats on a long history.
    index = pd.DatetimeIndex(timeline.astype("datetime64[ns]"))
    closes = {}
    for symbol in spec.symbols:
        frame = data.bars[symbol]
        instrument = spec.catalog.get(symbol)
        assert instrument is not None
        # Positions are marked at the tick-rounded close, as risk marks them.
        rounded = rounded_closes(frame["close"].to_numpy(dtype=np.float64), instrument)
        closes[symbol] = pd.Series(rounded, index=frame["ts"].to_numpy(dtype=np.int64)).reindex(timeline)
    close = pd.DataFrame(closes).ffill().bfill()
    close.index = index
    return index, close


def _sorted_unique(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``np.unique`` by sort and neighbour compare: numpy's hash-based unique is ~10x slower on
    a million already-sorted bar times."""
    ordered = np.sort(values, kind="stable")
    keep = np.ones(len(ordered), dtype=np.bool_)
    keep[1:] = ordered[1:] != ordered[:-1]
    out: npt.NDArray[np.int64] = ordered[keep]
    return out


def rounded_closes(close: npt.NDArray[np.float64], instrument: Instrument) -> npt.NDArray[np.float64]:
    """``float(instrument.round_price(Decimal(str(c))))`` for every close, without a Decimal per bar.

    With a power-of-ten tick 10^-d the rounded price is k / 10^d for the integer k nearest to
    c * 10^d (halves up): IEEE division of two exact integers is correctly rounded, as float(Decimal)
    is. k is only in doubt where c * 10^d is within a few ulps of a half (the float product and the
    decimal of c's shortest text may differ there); those closes, and every close of any other tick,
    take the Decimal path.
    """
    digits = _power_of_ten_digits(instrument.tick_size)
    if digits is None or not np.isfinite(close).all():
        return np.array([float(instrument.round_price(Decimal(str(c)))) for c in close.tolist()])
    scale = float(10**digits)
    x = close * scale
    k = np.floor(x + 0.5)
    out: npt.NDArray[np.float64] = k / scale
    doubt = (np.abs(x - np.floor(x) - 0.5) <= 16 * np.spacing(np.abs(x))) | (np.abs(x) >= 2.0**52)
    for j in np.flatnonzero(doubt).tolist():
        out[j] = float(instrument.round_price(Decimal(str(close[j].item()))))
    return out


def _power_of_ten_digits(tick: Decimal) -> int | None:
    """d when ``tick`` is exactly 10^-d with 0 <= d <= 22 (10^d is an exact float), else None."""
    sign, digits, exponent = tick.normalize().as_tuple()
    if sign or digits != (1,) or not isinstance(exponent, int) or not -22 <= exponent <= 0:
        return None
    return -exponent


def simulate(
    spec: BacktestSpec, data: MarketData, fills: Sequence[Fill], credit: float = 0.0
) -> vbt.Portfolio:
    """The account after ``fills`` (vectorbt), its initial cash raised by ``credit`` (see overdraft)."""
    index, close = _matrix(spec, data)
    shape = close.shape
    size, price, fee = np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape)
    # Each fill's bar row, found by binary search (a dict of every bar time costs more on long runs).
    times = index.asi8
    stamps = np.array([f.ts_ns for f in fills], dtype=np.int64)
    rows = np.searchsorted(times, stamps)
    off = (rows >= len(times)) | (times[np.minimum(rows, len(times) - 1)] != stamps)
    if off.any():
        raise KeyError(int(stamps[np.flatnonzero(off)[0]]))  # a fill off the bar timeline
    cols = {s: k for k, s in enumerate(spec.symbols)}
    columns = np.array([cols[f.symbol] for f in fills], dtype=np.int64)
    cells = rows * shape[1] + columns
    if len(np.unique(cells)) != len(cells):
        raise SimulationMismatchError(f"two fills of one symbol on one bar {_first_repeat(fills, cells)}")
    size[rows, columns] = [float(f.signed_quantity) for f in fills]
    price[rows, columns] = [float(f.price) for f in fills]
    fee[rows, columns] = [float(f.fee) for f in fills]
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
            init_cash=float(spec.initial_cash) + credit,
            cash_sharing=True,
            group_by=True,
            call_seq="auto",  # sells before buys within a bar, as cash allows
            allow_partial=False,
            raise_reject=True,
            freq=spacing,
        )
    except Exception as exc:  # vectorbt raises its own RejectedOrderError
        raise SimulationMismatchError(f"vectorbt refused an order the paper model filled: {exc}") from exc


def _first_repeat(fills: Sequence[Fill], cells: npt.NDArray[np.int64]) -> str:
    seen: set[int] = set()
    for fill, cell in zip(fills, cells.tolist(), strict=True):
        if cell in seen:
            return f"({fill.symbol} at {fill.ts_ns})"
        seen.add(cell)
    return ""


def report(spec: BacktestSpec, data: MarketData, fills: Sequence[Fill]) -> BacktestReport:
    credit = overdraft(spec, fills)
    # The lent cash, rounded up to the cent and a cent more, so float rounding cannot refuse a fill.
    lent = float(credit.quantize(Decimal("0.01"), rounding="ROUND_CEILING")) + 0.01 if credit else 0.0
    pf = simulate(spec, data, fills, lent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metrics = _metrics(pf, spec, fills, lent)
    metrics["max_overdraft"] = float(credit)
    money = _money(spec, data, fills)
    value = pf.value() - lent
    # Buy-and-hold scales with its capital: vectorbt's is of the raised cash.
    benchmark = pf.benchmark_value() * (float(spec.initial_cash) / (float(spec.initial_cash) + lent))
    equity = pd.DataFrame(
        {
            "ts": value.index.asi8,
            "equity": value.to_numpy(),
            "benchmark": benchmark.to_numpy(),
            "drawdown": (pf.drawdown() if not lent else value / value.cummax() - 1.0).to_numpy(),
        }
    )
    return BacktestReport(metrics, money, equity, _trades(pf), fills)


def _metrics(pf: vbt.Portfolio, spec: BacktestSpec, fills: Sequence[Fill], lent: float) -> dict[str, float]:
    trades = pf.trades
    closed = trades.closed
    value = pf.value() - lent
    notional = sum(float(f.notional) for f in fills)
    bar = pf.wrapper.freq
    if lent:
        # The portfolio's own ratios are of the raised capital: take them from the true equity curve.
        acc = ReturnsAccessor.from_value(
            value, init_value=float(spec.initial_cash), freq=bar, year_freq=pf.returns_acc.year_freq
        )
        ratios = (acc.total(), acc.annualized(), acc.sharpe_ratio(), acc.sortino_ratio(), acc.calmar_ratio())
        drawdown, duration = acc.max_drawdown(), acc.drawdowns.max_duration()
    else:
        acc = pf.returns_acc
        ratios = (
            pf.total_return(),
            pf.annualized_return(),
            pf.sharpe_ratio(),
            pf.sortino_ratio(),
            pf.calmar_ratio(),
        )
        # What ``pf.stats()`` reports as "Max Drawdown Duration", without building the whole stats
        # table (vectorbt's stats builder costs ~0.2 s of Python on any input size).
        drawdown, duration = pf.max_drawdown(), pf.drawdowns.max_duration()
    total, annualized, sharpe, sortino, calmar = (float(x) for x in ratios)
    out = {
        "total_return": total,
        "annualized_return": annualized,
        "annualized_volatility": float(acc.annualized_volatility()),
        "sharpe_ratio": sharpe,
        "sortino_ratio": sortino,
        "calmar_ratio": calmar,
        "max_drawdown": float(-drawdown),
        "max_drawdown_duration_bars": float(duration / bar) if isinstance(duration, pd.Timedelta) else 0.0,
        "win_rate": float(closed.win_rate()) if closed.count() else 0.0,
        "profit_factor": float(closed.profit_factor()) if closed.count() else 0.0,
        "expectancy": float(closed.expectancy()) if closed.count() else 0.0,
        "average_trade_pnl": float(closed.pnl.mean()) if closed.count() else 0.0,
        "exposure": float(pf.position_coverage()),
        "turnover": notional / float(value.mean()) if len(value) else 0.0,
        "trade_count": float(trades.count()),
        "fill_count": float(len(fills)),
        "benchmark_return": float(pf.total_benchmark_return()),  # a ratio: the same on any capital
    }
    return {k: (v if np.isfinite(v) else float("nan")) for k, v in out.items()}


def _money(spec: BacktestSpec, data: MarketData, fills: Sequence[Fill]) -> dict[str, Decimal]:
    # Cash and positions as ``Portfolio.apply_fill`` keeps them (the same Decimal operations in the same
    # order), without the cost basis and fill-id set only a live book needs.
    cash, positions = spec.initial_cash, dict.fromkeys(spec.symbols, Decimal(0))
    for fill in fills:
        signed = fill.signed_quantity
        cash = cash - signed * fill.price - fill.fee
        positions[fill.symbol] += signed
    marks = {}
    for symbol in spec.symbols:
        instrument = spec.catalog.get(symbol)
        assert instrument is not None
        marks[symbol] = instrument.round_price(Decimal(str(data.bars[symbol]["close"].iat[-1])))
    final = cash + sum((qty * marks[s] for s, qty in positions.items() if qty), Decimal(0))
    return {
        "initial_cash": spec.initial_cash,
        "final_equity": final,
        "net_pnl": final - spec.initial_cash,
        "total_fees": sum((f.fee for f in fills), Decimal(0)),
        "cash": cash,
    }


# Round-trip columns in the order they are stored, exported and shown.
TRADE_COLUMNS = (
    "symbol",
    "side",
    "status",
    "entry_ts",
    "exit_ts",
    "size",
    "entry_price",
    "exit_price",
    "fees",
    "pnl",
    "return",
)


def _trades(pf: vbt.Portfolio) -> pd.DataFrame:
    """Round trips from vectorbt's raw trade records (what ``records_readable`` shows, but without it
    mapping every bar of the index to a Timestamp object to look up two per trade)."""
    records = pf.trades.values
    if len(records) == 0:
        return pd.DataFrame(columns=list(TRADE_COLUMNS))
    ts = pf.wrapper.index.asi8
    columns = np.asarray(pf.wrapper.columns, dtype=object)
    return pd.DataFrame(
        {
            "symbol": pd.Series(columns[records["col"]], dtype=object).astype(str),
            "side": pd.Series(np.where(records["direction"] == 0, "long", "short"), dtype=object).astype(str),
            "entry_ts": ts[records["entry_idx"]],
            "exit_ts": ts[records["exit_idx"]],
            "size": records["size"].astype(float),
            "entry_price": records["entry_price"].astype(float),
            "exit_price": records["exit_price"].astype(float),
            "fees": (records["entry_fees"] + records["exit_fees"]).astype(float),
            "pnl": records["pnl"].astype(float),
            "return": records["return"].astype(float),
            "status": pd.Series(np.where(records["status"] == 0, "open", "closed"), dtype=object).astype(str),
        }
    )
