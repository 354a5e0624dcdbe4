"""What the portfolio of an account is computed from: trading.accounts, trading.fills, market.bars."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TypeAlias

import asyncpg

from kestrel_contracts.events import datetime_to_ns
from kestrel_gateway.portfolio_view import PricePoint
from kestrel_store.fills import account_fills
from kestrel_store.timeseries import timeframe_to_interval
from kestrel_trading.domain import Fill

__all__ = ["Account", "PortfolioInputs", "load_inputs"]

Db: TypeAlias = asyncpg.Pool | asyncpg.Connection
# Bars per symbol read for the equity curve (the newest ones): bounds the work for 1m histories;
# the curve is thinned to a few hundred points anyway.
MAX_CURVE_BARS_PER_SYMBOL = 20_000


@dataclass(frozen=True, slots=True)
class Account:
    account: str
    initial_cash: Decimal
    quote_asset: str


@dataclass(frozen=True, slots=True)
class PortfolioInputs:
    account: Account
    fills: list[Fill]
    latest_closes: dict[str, Decimal]
    prices: list[PricePoint]


def _duration(timeframe: str) -> timedelta:
    """How long a bar of `timeframe` lasts, for its close time; 0 for a code the store does not know."""
    try:
        count, unit = timeframe_to_interval(timeframe).split()
    except ValueError:
        return timedelta(0)
    if unit == "months":
        return timedelta(
            days=30 * int(count)
        )  # only orders the curve; a month's exact length does not matter
    return timedelta(**{unit: int(count)})


async def _prices(db: Db, symbols: list[str], since_ns: int) -> tuple[dict[str, Decimal], list[PricePoint]]:
    """Latest close per symbol (newest bar of any timeframe), and the closes of that timeframe since
    `since_ns`, stamped at each bar's close time (when the price was known)."""
    latest = await db.fetch(
        "SELECT DISTINCT ON (symbol) symbol, timeframe, close FROM market.bars "
        "WHERE symbol = ANY($1::text[]) ORDER BY symbol, ts DESC, timeframe",
        symbols,
    )
    closes = {row["symbol"]: row["close"] for row in latest}
    points: list[PricePoint] = []
    for row in latest:
        duration = _duration(row["timeframe"])
        rows = await db.fetch(
            "SELECT ts, close FROM market.bars WHERE symbol = $1 AND timeframe = $2 "
            "ORDER BY ts DESC LIMIT $3",
            row["symbol"],
            row["timeframe"],
            MAX_CURVE_BARS_PER_SYMBOL,
        )
        points += [
            PricePoint(datetime_to_ns(bar["ts"] + duration), row["symbol"], bar["close"])
            for bar in rows
            if datetime_to_ns(bar["ts"] + duration) >= since_ns
        ]
    return closes, points


async def load_inputs(db: Db, account: str) -> PortfolioInputs | None:
    """None when the account does not exist."""
    row = await db.fetchrow(
        "SELECT account, initial_cash, quote_asset FROM trading.accounts WHERE account = $1", account
    )
    if row is None:
        return None
    fills = await account_fills(db, account)
    symbols = sorted({fill.symbol for fill in fills})
    closes, prices = await _prices(db, symbols, fills[0].ts_ns) if fills else ({}, [])
    return PortfolioInputs(
        Account(row["account"], row["initial_cash"], row["quote_asset"]), fills, closes, prices
    )
