"""The reference engines the backtest benchmark races: vectorbt called directly and backtesting.py.

backtesting.py is AGPL: a development dependency, imported only here (never by a service).
Both run the SMA crossover as the catalogue's ``sma_cross`` defines it, long-only: long from the close
of a bar where SMA(fast) exceeds SMA(slow) by more than the comparison band, flat from one where it
is below by more, the order filled at the next bar's open with a proportional commission.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import vectorbt as vbt
from backtesting import Backtest, Strategy
from backtesting import backtesting as bt_module

from kestrel_strategies.positions import CMP_EPS
from kestrel_trading.domain import Fill, Side

# backtesting.py draws a tqdm progress bar when tqdm is installed; a benchmark prints its own lines.
bt_module._tqdm = lambda seq, **_: seq


@dataclass(frozen=True)
class Trade:
    """One closed round trip: bars by position in the series, prices and size as exact decimals."""

    entry_bar: int
    exit_bar: int
    side: str
    size: Decimal
    entry_price: Decimal
    exit_price: Decimal


def index_of(bars: pd.DataFrame) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(bars["ts"].to_numpy(dtype=np.int64).astype("datetime64[ns]"))


def vectorbt_direct(
    bars: pd.DataFrame, fast: int, slow: int, *, fee_rate: float, fraction: float, cash: float
) -> dict[str, Any]:
    """The crossover written straight in vectorbt: MA, crossovers, from_signals at the next open."""
    index = index_of(bars)
    close = pd.Series(bars["close"].to_numpy(), index=index)
    fast_ma = vbt.MA.run(close, fast)
    slow_ma = vbt.MA.run(close, slow)
    entries = fast_ma.ma_crossed_above(slow_ma).to_numpy().reshape(-1)
    exits = fast_ma.ma_crossed_below(slow_ma).to_numpy().reshape(-1)
    pf = vbt.Portfolio.from_signals(
        close,
        pd.Series(_next_bar(entries), index=index),
        pd.Series(_next_bar(exits), index=index),
        price=pd.Series(bars["open"].to_numpy(), index=index),
        fees=fee_rate,
        size=fraction,
        size_type="percent",
        init_cash=cash,
        freq=(index[-1] - index[0]) / (len(index) - 1),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = pf.stats()
    return {"total_return": float(pf.total_return()), "trades": int(stats["Total Trades"])}


def _next_bar(signal: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    out = np.zeros_like(signal)
    out[1:] = signal[:-1]
    return out


def _sma(values: npt.NDArray[np.float64], n: int) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = np.array(pd.Series(values).rolling(n).mean(), dtype=np.float64)
    return out


def _sma_from_decision_bar(values: npt.NDArray[np.float64], n: int) -> npt.NDArray[np.float64]:
    """SMA(n) with a placeholder on bar n-2, never read by ``next``: backtesting.py starts calling
    ``next`` one bar after the first bar where every indicator is defined, so without it its first
    decision would come a bar later than the strategy's (which decides on bar n-1 itself)."""
    out = _sma(values, n)
    if n >= 2 and len(out) >= n:
        out[n - 2] = np.inf
    return out


class SmaCross(Strategy):  # type: ignore[misc]
    """``sma_cross`` long-only, sized like Kestrel's fixed-fraction sizing in whole units: the
    fraction of equity at the decision bar's close, rounded down."""

    fast = 10
    slow = 50
    fraction = 0.5

    def init(self) -> None:
        close = self.data.Close
        self.fast_ma = self.I(_sma, close, self.fast)
        self.slow_ma = self.I(_sma_from_decision_bar, close, self.slow)

    def next(self) -> None:
        f, s = float(self.fast_ma[-1]), float(self.slow_ma[-1])
        band = CMP_EPS * abs(s)
        if f - s > band and not self.position:
            self.buy(size=int(self.equity * self.fraction / float(self.data.Close[-1])))
        elif s - f > band and self.position:
            self.position.close()


def backtesting_run(
    bars: pd.DataFrame, fast: int, slow: int, *, fee_rate: float, fraction: float, cash: float
) -> tuple[list[Trade], Any]:
    """backtesting.py's run (stats included) and its closed trades."""
    frame = pd.DataFrame(
        {
            "Open": bars["open"].to_numpy(),
            "High": bars["high"].to_numpy(),
            "Low": bars["low"].to_numpy(),
            "Close": bars["close"].to_numpy(),
            "Volume": bars["volume"].to_numpy(),
        },
        index=index_of(bars),
    )
    test = Backtest(
        frame, SmaCross, cash=cash, commission=fee_rate, trade_on_close=False, exclusive_orders=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "trades remain open at the end": the open one is not compared
        stats = test.run(fast=fast, slow=slow, fraction=fraction)
    trades = [
        Trade(
            int(row.EntryBar),
            int(row.ExitBar),
            "long" if row.Size > 0 else "short",
            Decimal(abs(int(row.Size))),
            Decimal(str(row.EntryPrice)),
            Decimal(str(row.ExitPrice)),
        )
        for row in stats._trades.itertuples()
    ]
    return trades, stats


def kestrel_trades(bars: pd.DataFrame, fills: list[Fill]) -> list[Trade]:
    """Long-only fills (buy, sell, buy, ...) as closed round trips; a last unmatched buy is open."""
    ts = bars["ts"].to_numpy(dtype=np.int64)
    out = []
    for buy, sell in zip(fills[0::2], fills[1::2], strict=False):
        assert buy.side is Side.BUY and sell.side is Side.SELL and buy.quantity == sell.quantity
        out.append(
            Trade(
                int(np.searchsorted(ts, buy.ts_ns)),
                int(np.searchsorted(ts, sell.ts_ns)),
                "long",
                buy.quantity,
                buy.price,
                sell.price,
            )
        )
    return out
