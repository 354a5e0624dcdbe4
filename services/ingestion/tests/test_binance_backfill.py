"""BinanceSource REST backfill against the in-process fake Binance: paging, closed bars only, resume,
symbols in both spellings, unknown symbols and malformed rows."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest

from kestrel_ingestion.domain import RawBar, UnreadableRow
from kestrel_ingestion.sources.binance import BinanceConfig, BinanceSource, UnknownSymbolError
from kestrel_testing.fake_binance import FakeBinance
from kestrel_testing.fake_binance_data import make_klines

T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z, in ms
MINUTE = 60_000
NS = 1_000_000


async def collect(source: BinanceSource) -> list[RawBar | UnreadableRow]:
    async with contextlib.aclosing(source.bars()) as items:
        return [item async for item in items]


def source_for(fake: FakeBinance, symbols: list[str], **kwargs: object) -> BinanceSource:
    config = BinanceConfig().with_urls(fake.rest_url, fake.ws_url)
    return BinanceSource(symbols, "1m", config=config, **kwargs)  # type: ignore[arg-type]


async def test_backfill_pages_2500_bars_without_loss_or_duplicate_and_skips_the_open_bar() -> None:
    klines = make_klines(T0, 2_501)  # the last one is still open at `now`
    now = T0 + 2_500 * MINUTE + 30_000
    async with FakeBinance({"BTCUSDT": klines}, now_ms=now) as fake:
        items = await collect(source_for(fake, ["BTC/USDT"]))
        pages = fake.klines_requests()

    bars = [item for item in items if isinstance(item, RawBar)]
    assert len(items) == len(bars) == 2_500
    assert [b.ts_open for b in bars] == [(T0 + i * MINUTE) * NS for i in range(2_500)]
    assert len(pages) == 3  # 1000 + 1000 + 501 rows (the open bar comes back, and is dropped)
    assert [p.query["startTime"] for p in pages] == [
        "0",
        str(T0 + 999 * MINUTE + 1),
        str(T0 + 1_999 * MINUTE + 1),
    ]
    assert all(p.query["limit"] == "1000" for p in pages)
    first, last = bars[0], bars[-1]
    assert (first.symbol, first.venue, first.timeframe, first.closed) == ("BTC/USDT", "BINANCE", "1m", True)
    assert first.open == Decimal(klines[0].open) and first.close == Decimal(klines[0].close)
    assert last.volume == Decimal(klines[2_499].volume) and last.trade_count == klines[2_499].trades
    assert last.quote_volume == Decimal(klines[2_499].quote_volume)


async def test_backfill_resumes_after_since_exclusive_and_stops_at_until() -> None:
    klines = make_klines(T0, 100)
    async with FakeBinance({"BTCUSDT": klines}, now_ms=T0 + 100 * MINUTE) as fake:
        since = (T0 + 39 * MINUTE) * NS  # the last stored bar
        until = (T0 + 60 * MINUTE) * NS
        items = await collect(source_for(fake, ["BTCUSDT"], since_ns=since, until_ns=until))
        (request,) = fake.klines_requests()

    assert [item.ts_open for item in items if isinstance(item, RawBar)] == [
        (T0 + i * MINUTE) * NS for i in range(40, 60)
    ]
    assert request.query["startTime"] == str(T0 + 39 * MINUTE + 1)
    assert request.query["endTime"] == str(T0 + 60 * MINUTE - 1)


async def test_backfill_accepts_both_symbol_forms_and_a_since_per_symbol() -> None:
    history = {
        "BTCUSDT": make_klines(T0, 30, seed=1),
        "ETHBTC": make_klines(T0, 30, start_price="0.05", seed=2),
    }
    async with FakeBinance(history, now_ms=T0 + 30 * MINUTE) as fake:
        since = {"BTC/USDT": (T0 + 9 * MINUTE) * NS, "ETHBTC": (T0 + 19 * MINUTE) * NS}
        items = await collect(source_for(fake, ["BTC/USDT", "ETHBTC"], since_ns=since))

    bars = [item for item in items if isinstance(item, RawBar)]
    assert [b.symbol for b in bars] == ["BTC/USDT"] * 20 + ["ETH/BTC"] * 10
    assert bars[0].ts_open == (T0 + 10 * MINUTE) * NS
    assert bars[20].ts_open == (T0 + 20 * MINUTE) * NS
    assert bars[20].close == Decimal(history["ETHBTC"][20].close)


async def test_unknown_symbol_is_a_clear_error_naming_it() -> None:
    async with FakeBinance({"BTCUSDT": make_klines(T0, 5)}, now_ms=T0 + 5 * MINUTE) as fake:
        with pytest.raises(UnknownSymbolError, match=r"'NOPE/USDT'.*-1121: Invalid symbol\."):
            await collect(source_for(fake, ["BTC/USDT", "NOPE/USDT"]))
        with pytest.raises(UnknownSymbolError, match="not a Binance spot symbol: 'BTC USDT!'"):
            await collect(source_for(fake, ["BTC USDT!"]))
        assert fake.klines_requests() == []  # nothing fetched before the symbols are known


async def test_slash_form_split_differently_from_binance_is_refused() -> None:
    async with FakeBinance({"BTCUSDT": make_klines(T0, 5)}, now_ms=T0 + 5 * MINUTE) as fake:
        with pytest.raises(UnknownSymbolError, match="'BTCU/SDT' is 'BTC/USDT' on Binance"):
            await collect(source_for(fake, ["BTCU/SDT"]))


async def test_malformed_kline_rows_become_unreadable_rows_and_the_rest_still_lands() -> None:
    klines = make_klines(T0, 1_500)
    async with FakeBinance({"BTCUSDT": klines}, now_ms=T0 + 1_500 * MINUTE) as fake:
        bad_price = [T0 + 10 * MINUTE, "12.5", "oops", "11", "12", "3", 0, "0", 1, "0", "0", "0"]
        fake.corrupt_kline("BTCUSDT", T0 + 10 * MINUTE, bad_price)
        fake.corrupt_kline("BTCUSDT", T0 + 999 * MINUTE, [T0 + 999 * MINUTE, "1"])  # last row of page 1
        source = source_for(fake, ["BTCUSDT"])
        items = await collect(source)

    unreadable = [item for item in items if isinstance(item, UnreadableRow)]
    bars = [item for item in items if isinstance(item, RawBar)]
    assert len(unreadable) == 2 and len(bars) == 1_498
    assert "high is 'oops', not a decimal" in unreadable[0].reason
    assert unreadable[0].location == "binance rest klines BTCUSDT 1m"
    assert '"oops"' in unreadable[0].raw
    assert "at least 9 fields" in unreadable[1].reason
    assert {b.ts_open // NS for b in bars} == {k.open_time_ms for k in klines} - {
        T0 + 10 * MINUTE,
        T0 + 999 * MINUTE,
    }
    assert source.stats.unreadable == 2


async def test_a_float_price_is_read_exactly_or_not_at_all() -> None:
    async with FakeBinance({"BTCUSDT": make_klines(T0, 3)}, now_ms=T0 + 3 * MINUTE) as fake:
        # A JSON number instead of Binance's string: parsed straight to Decimal, never via float.
        fake.corrupt_kline("BTCUSDT", T0, [T0, 0.1, 0.3, 0.1, 0.2, 7, T0 + MINUTE - 1, "0", 3, "0", "0", "0"])
        fake.corrupt_kline("BTCUSDT", T0 + MINUTE, [T0 + MINUTE, "1", "2", "0.5", None, "1", 0, "0", 1])
        items = await collect(source_for(fake, ["BTCUSDT"]))

    first, second, third = items
    assert isinstance(first, RawBar) and first.open == Decimal("0.1") and first.high == Decimal("0.3")
    assert isinstance(second, UnreadableRow) and "close is None" in second.reason
    assert isinstance(third, RawBar)


async def test_one_symbol_in_both_spellings_is_fetched_once() -> None:
    async with FakeBinance({"BTCUSDT": make_klines(T0, 10)}, now_ms=T0 + 10 * MINUTE) as fake:
        items = await collect(source_for(fake, ["BTC/USDT", "btcusdt"]))
        (info,) = [r for r in fake.requests if r.path == "/api/v3/exchangeInfo"]
    assert len(items) == 10 and {i.symbol for i in items if isinstance(i, RawBar)} == {"BTC/USDT"}
    assert info.query == {"symbol": "BTCUSDT"}
