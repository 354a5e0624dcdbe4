"""Binance kline rows and events into RawBar, and symbol names between Binance and Kestrel.

Symbols: Kestrel's unified form is "BASE/QUOTE" ("BTC/USDT"), the one the contracts define (and ccxt
writes); Binance's is "BTCUSDT" on REST and "btcusdt" in stream names. Both input forms are accepted;
exchangeInfo tells where base ends and quote begins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from kestrel_ingestion.domain import RawBar, UnreadableRow

SOURCE = "binance"
VENUE = "BINANCE"
NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class BinanceMarket:
    """One symbol in both spellings."""

    exchange_symbol: str  # "BTCUSDT"
    unified_symbol: str  # "BTC/USDT"

    @property
    def stream_symbol(self) -> str:
        return self.exchange_symbol.lower()


def exchange_symbol_of(symbol: str) -> str:
    """ "BTC/USDT", "btc/usdt" or "BTCUSDT" -> "BTCUSDT"."""
    return symbol.replace("/", "").strip().upper()


def markets_from_exchange_info(requested: list[str], info: dict[str, Any]) -> list[BinanceMarket]:
    """Pair each requested symbol with its exchangeInfo entry, checking a "BASE/QUOTE" split agrees."""
    entries = {entry["symbol"]: entry for entry in info.get("symbols", [])}
    markets = []
    for symbol in requested:
        entry = entries[exchange_symbol_of(symbol)]
        unified = f"{entry['baseAsset']}/{entry['quoteAsset']}"
        if "/" in symbol and symbol.upper() != unified:
            raise ValueError(f"{symbol!r} is {unified!r} on Binance: base and quote are split differently")
        markets.append(BinanceMarket(entry["symbol"], unified))
    return markets


class _UnreadableError(Exception):
    pass


def _decimal(value: Any, what: str) -> Decimal:
    # Binance sends decimals as strings; numbers arrive as Decimal because the JSON is parsed with
    # parse_float=Decimal. Anything else (bool, null, text that is no number) is unreadable.
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise _UnreadableError(f"{what} is {value!r}, not a decimal")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _UnreadableError(f"{what} is {value!r}, not a decimal") from None
    if not number.is_finite():
        raise _UnreadableError(f"{what} is {value!r}, not a finite decimal")
    return number


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _UnreadableError(f"{what} is {value!r}, not an integer")
    return value


def open_time_of_row(row: Any) -> int | None:
    """The open time (ms) of a REST kline row when at least that much is readable."""
    if isinstance(row, list) and row and isinstance(row[0], int) and not isinstance(row[0], bool):
        return row[0]
    return None


def bar_from_row(market: BinanceMarket, timeframe: str, row: Any) -> RawBar | UnreadableRow:
    """A GET /api/v3/klines row: [open time, open, high, low, close, volume, close time, quote volume,
    trades, taker buy base, taker buy quote, ignore]. The caller decides whether it is closed."""
    location = f"binance rest klines {market.exchange_symbol} {timeframe}"
    try:
        if not isinstance(row, list) or len(row) < 9:
            raise _UnreadableError("a kline row is an array of at least 9 fields")
        open_ms = _integer(row[0], "open time")
        return RawBar(
            symbol=market.unified_symbol,
            timeframe=timeframe,
            ts_open=open_ms * NS_PER_MS,
            open=_decimal(row[1], "open"),
            high=_decimal(row[2], "high"),
            low=_decimal(row[3], "low"),
            close=_decimal(row[4], "close"),
            volume=_decimal(row[5], "volume"),
            source=SOURCE,
            venue=VENUE,
            closed=True,
            quote_volume=_decimal(row[7], "quote volume"),
            trade_count=_integer(row[8], "trade count"),
        )
    except _UnreadableError as exc:
        return UnreadableRow(location=location, reason=str(exc), raw=_compact(row))


def bar_from_event(
    markets: dict[str, BinanceMarket], timeframe: str, text: str
) -> RawBar | UnreadableRow | None:
    """A WebSocket message: a bar for a kline event (closed or not), None for a control answer
    (`{"result": ..., "id": ...}`), UnreadableRow for anything else."""
    try:
        message = json.loads(text, parse_float=Decimal)
    except ValueError:
        return UnreadableRow(location="binance ws", reason="not JSON", raw=text[:500])
    if isinstance(message, dict) and "id" in message and ("result" in message or "error" in message):
        return None
    stream = message.get("stream", "?") if isinstance(message, dict) else "?"
    payload = message.get("data", message) if isinstance(message, dict) else message
    location = f"binance ws {stream}"
    try:
        if (
            not isinstance(payload, dict)
            or payload.get("e") != "kline"
            or not isinstance(payload.get("k"), dict)
        ):
            raise _UnreadableError("not a kline event")
        k = payload["k"]
        market = markets.get(str(k.get("s")))
        if market is None:
            raise _UnreadableError(f"kline of unrequested symbol {k.get('s')!r}")
        if k.get("i") != timeframe:
            raise _UnreadableError(f"kline interval {k.get('i')!r}, expected {timeframe!r}")
        closed = k.get("x")
        if not isinstance(closed, bool):
            raise _UnreadableError(f"closed flag x is {closed!r}")
        return RawBar(
            symbol=market.unified_symbol,
            timeframe=timeframe,
            ts_open=_integer(k.get("t"), "open time") * NS_PER_MS,
            open=_decimal(k.get("o"), "open"),
            high=_decimal(k.get("h"), "high"),
            low=_decimal(k.get("l"), "low"),
            close=_decimal(k.get("c"), "close"),
            volume=_decimal(k.get("v"), "volume"),
            source=SOURCE,
            venue=VENUE,
            closed=closed,
            quote_volume=_decimal(k.get("q"), "quote volume"),
            trade_count=_integer(k.get("n"), "trade count"),
        )
    except _UnreadableError as exc:
        return UnreadableRow(location=location, reason=str(exc), raw=text[:500])


def _compact(value: Any) -> str:
    try:
        return json.dumps(value, default=str)[:500]
    except (TypeError, ValueError):
        return repr(value)[:500]
