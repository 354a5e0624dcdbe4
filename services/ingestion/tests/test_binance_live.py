"""BinanceSource live mode against the fake Binance WebSocket: closed klines only, the combined stream
for several symbols, server pings, and a dropped connection whose outage is backfilled over REST."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

from kestrel_ingestion.domain import RawBar, UnreadableRow
from kestrel_ingestion.sources.binance import BinanceConfig, BinanceSource
from kestrel_testing.fake_binance import FakeBinance
from kestrel_testing.fake_binance_data import FakeKline, interleave, live_updates, make_klines

T0 = 1_704_067_200_000
MINUTE = 60_000
NS = 1_000_000


async def take_bars(
    source: BinanceSource, count: int, timeout_s: float = 15.0
) -> list[RawBar | UnreadableRow]:
    """The source's items until `count` bars have come, then stop it (as a consumer would)."""
    items: list[RawBar | UnreadableRow] = []
    async with asyncio.timeout(timeout_s), contextlib.aclosing(source.bars()) as stream:
        async for item in stream:
            items.append(item)
            if sum(isinstance(i, RawBar) for i in items) == count:
                break
    return items


def live_config(fake: FakeBinance) -> BinanceConfig:
    return BinanceConfig(reconnect_initial_s=0.02, reconnect_max_s=0.1).with_urls(fake.rest_url, fake.ws_url)


def opens(bars: list[RawBar], symbol: str) -> list[int]:
    return [b.ts_open // NS for b in bars if b.symbol == symbol]


def minutes(klines: list[FakeKline]) -> list[int]:
    return [k.open_time_ms for k in klines]


async def test_live_yields_only_closed_klines_of_every_symbol_of_the_combined_stream() -> None:
    btc = make_klines(T0, 12, seed=1)
    eth = make_klines(T0, 12, start_price="2000", seed=2)
    # Bars 0-1 are history; bars 2-11 arrive live, each as two open updates (x=false) and its close.
    async with FakeBinance({"BTCUSDT": btc[:2], "ETHUSDT": eth[:2]}, now_ms=T0 + 2 * MINUTE) as fake:
        script = interleave(live_updates("BTCUSDT", btc[2:]), live_updates("ETHUSDT", eth[2:]))
        fake.set_live_script(script, step_s=0.005)
        source = BinanceSource(
            ["BTC/USDT", "ETH/USDT"], "1m", since_ns=(T0 - MINUTE) * NS, live=True, config=live_config(fake)
        )
        items = await take_bars(source, 24)

    bars = [i for i in items if isinstance(i, RawBar)]
    assert len(items) == len(bars) == 24
    assert all(b.closed for b in bars)
    assert opens(bars, "BTC/USDT") == minutes(btc) and opens(bars, "ETH/USDT") == minutes(eth)
    # The live closes carry the final values, not those of the open updates before them.
    last_btc = next(b for b in reversed(bars) if b.symbol == "BTC/USDT")
    assert (last_btc.high, last_btc.volume) == (Decimal(btc[11].high), Decimal(btc[11].volume))
    assert fake.ws_connections == 1 and source.stats.reconnects == 0


async def test_a_dropped_websocket_reconnects_and_the_outage_is_backfilled_without_gap_or_duplicate() -> None:
    klines = make_klines(T0, 40)
    async with FakeBinance({"BTCUSDT": klines[:10]}, now_ms=T0 + 10 * MINUTE) as fake:
        fake.set_live_script(live_updates("BTCUSDT", klines[10:]), step_s=0.005)
        # Cut after 3 bars' worth of events (9 messages), and refuse reconnects while 5 bars close.
        fake.drop_ws_after(9, outage_steps=15)
        source = BinanceSource(
            ["BTCUSDT"], "1m", since_ns=(T0 + 4 * MINUTE) * NS, live=True, config=live_config(fake)
        )
        items = await take_bars(source, 35)
        gap_fills = [r for r in fake.klines_requests() if r.status == 200]

    bars = [i for i in items if isinstance(i, RawBar)]
    assert opens(bars, "BTC/USDT") == minutes(klines[5:])  # every bar once, in order
    assert fake.ws_connections >= 2 and source.stats.reconnects >= 1
    # The first gap fill starts after `since`; another one, after the reconnect, after the last bar seen live.
    assert gap_fills[0].query["startTime"] == str(T0 + 4 * MINUTE + 1)
    assert gap_fills[-1].query["startTime"] == str(T0 + 12 * MINUTE + 1)


async def test_live_without_since_starts_with_the_bar_open_now() -> None:
    klines = make_klines(T0, 8)
    async with FakeBinance({"BTCUSDT": klines[:3]}, now_ms=T0 + 2 * MINUTE + 10_000) as fake:
        # Bar 2 is open at `now`; its close and the next bars arrive live.
        updates = live_updates("BTCUSDT", klines[2:])
        fake.set_live_script(updates, step_s=0.005)
        source = BinanceSource(["BTCUSDT"], "1m", live=True, config=live_config(fake))
        items = await take_bars(source, 6)
    assert opens([i for i in items if isinstance(i, RawBar)], "BTC/USDT") == minutes(klines[2:])


async def test_server_pings_are_answered_so_the_connection_stays_up() -> None:
    klines = make_klines(T0, 30)
    async with FakeBinance({"BTCUSDT": klines[:1]}, now_ms=T0 + MINUTE, ping_interval_s=0.05) as fake:
        # About 1.5 s of feed: some 30 pings, each needing a pong within 25 ms of aiohttp's heartbeat.
        fake.set_live_script(live_updates("BTCUSDT", klines[1:]), step_s=0.02)
        source = BinanceSource(["BTCUSDT"], "1m", since_ns=0, live=True, config=live_config(fake))
        items = await take_bars(source, 30)
    assert len(items) == 30
    assert fake.ws_connections == 1 and source.stats.reconnects == 0


async def test_a_malformed_websocket_message_is_reported_not_raised() -> None:
    klines = make_klines(T0, 4)
    async with FakeBinance({"BTCUSDT": klines[:1]}, now_ms=T0 + MINUTE) as fake:
        updates = live_updates("BTCUSDT", klines[1:], partials=0)
        broken = FakeKline(klines[2].open_time_ms, "1", "2", "0.5", "NaN", "3")
        fake.set_live_script([updates[0], *live_updates("BTCUSDT", [broken], partials=0), *updates[1:]])
        source = BinanceSource(["BTCUSDT"], "1m", since_ns=0, live=True, config=live_config(fake))
        items = await take_bars(source, 4)

    unreadable = [i for i in items if isinstance(i, UnreadableRow)]
    assert len(unreadable) == 1 and unreadable[0].location == "binance ws btcusdt@kline_1m"
    assert "close is 'NaN'" in unreadable[0].reason
    assert opens([i for i in items if isinstance(i, RawBar)], "BTC/USDT") == minutes(klines)
