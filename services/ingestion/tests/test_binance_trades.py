"""Live Binance trades: parsing the trade event, the combined stream against the fake Binance, a cut
socket that reconnects without duplicates, and the tick pipeline (in memory and on real servers)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Literal

import pytest

from kestrel_contracts.events import derived_event_id
from kestrel_contracts.registry import channel
from kestrel_contracts.v1.common_pb2 import SIDE_BUY, SIDE_SELL
from kestrel_contracts.v1.tick_pb2 import Tick
from kestrel_ingestion.adapters.tick_store import TickRow, insert_ticks
from kestrel_ingestion.domain import UnreadableRow
from kestrel_ingestion.settings import IngestionSettings
from kestrel_ingestion.sources.binance import BinanceConfig
from kestrel_ingestion.sources.binance_klines import BinanceMarket
from kestrel_ingestion.sources.binance_trades import BinanceTradeSource, RawTrade, trade_from_event
from kestrel_ingestion.tick_pipeline import TickPipeline
from kestrel_messaging import ConsumerOptions, InMemoryBus
from kestrel_messaging.kafka import KafkaBus
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool
from kestrel_testing.fake_binance import FakeBinance
from kestrel_testing.fake_binance_trades import FakeTrade, trade_event
from kestrel_testing.messaging import consume_until

T0 = 1_704_067_200_000
NS = 1_000_000
MARKETS = {"BTCUSDT": BinanceMarket("BTCUSDT", "BTC/USDT"), "ETHUSDT": BinanceMarket("ETHUSDT", "ETH/USDT")}


def trade(symbol: str, trade_id: int, *, maker: bool = False, price: str = "42000.10") -> FakeTrade:
    return FakeTrade(symbol, trade_id, price, "0.00100000", T0 + trade_id, maker)


def combined(payload: object, stream: str = "btcusdt@trade") -> str:
    return json.dumps({"stream": stream, "data": payload})


def config_for(fake: FakeBinance) -> BinanceConfig:
    return BinanceConfig(reconnect_initial_s=0.02, reconnect_max_s=0.1).with_urls(fake.rest_url, fake.ws_url)


async def take_trades(source: BinanceTradeSource, count: int) -> list[RawTrade | UnreadableRow]:
    items: list[RawTrade | UnreadableRow] = []
    async with asyncio.timeout(15), contextlib.aclosing(source.trades()) as stream:
        async for item in stream:
            items.append(item)
            if sum(isinstance(i, RawTrade) for i in items) == count:
                break
    return items


# -- parsing ---------------------------------------------------------------------------------------


def test_a_trade_event_parses_exact_decimals_time_and_the_takers_side() -> None:
    event = trade_event(FakeTrade("BTCUSDT", 12345, "0.10000000", "0.30000000", T0, buyer_is_maker=True))
    parsed = trade_from_event(MARKETS, combined(event))
    assert parsed == RawTrade("BTC/USDT", "12345", T0 * NS, Decimal("0.1"), Decimal("0.3"), "SELL", "BINANCE")
    assert isinstance(parsed, RawTrade) and str(parsed.price) == "0.10000000"  # the text, not a float
    taker_bought = trade_from_event(MARKETS, combined(trade_event(trade("BTCUSDT", 1, maker=False))))
    assert isinstance(taker_bought, RawTrade) and taker_bought.side == "BUY"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not JSON"),
        (combined({**trade_event(trade("BTCUSDT", 1)), "p": 42000.1}), "price"),
        (combined({**trade_event(trade("BTCUSDT", 1)), "q": "-1"}), "quantity"),
        (combined({**trade_event(trade("BTCUSDT", 1)), "m": "yes"}), "flag m"),
        (combined({**trade_event(trade("BTCUSDT", 1)), "t": "7"}), "trade id"),
        (combined({**trade_event(trade("XRPUSDT", 1))}), "unrequested"),
        (combined({"e": "kline", "k": {}}), "not a trade"),
    ],
)
def test_a_malformed_message_is_an_unreadable_row(text: str, reason: str) -> None:
    parsed = trade_from_event(MARKETS, text)
    assert isinstance(parsed, UnreadableRow) and reason in parsed.reason


def test_a_control_answer_is_neither_trade_nor_unreadable() -> None:
    assert trade_from_event(MARKETS, '{"result": null, "id": 1}') is None


# -- live, against the fake Binance ----------------------------------------------------------------


async def test_live_trades_of_two_symbols_arrive_over_one_combined_stream() -> None:
    script: list[FakeTrade | str] = [
        trade("BTCUSDT", 1),
        trade("ETHUSDT", 1, maker=True),
        trade("BTCUSDT", 2),
    ]
    script += ['{"e": "trade", "s": "BTCUSDT"}', trade("ETHUSDT", 2)]
    async with FakeBinance({"BTCUSDT": [], "ETHUSDT": []}, now_ms=T0) as fake:
        fake.set_trade_script(script, step_s=0.005)
        source = BinanceTradeSource(["BTC/USDT", "ETHUSDT"], config=config_for(fake))
        items = await take_trades(source, 4)
        connections = fake.trade_ws_connections

    trades = [i for i in items if isinstance(i, RawTrade)]
    assert [(t.symbol, t.trade_id, t.side) for t in trades] == [
        ("BTC/USDT", "1", "BUY"),
        ("ETH/USDT", "1", "SELL"),
        ("BTC/USDT", "2", "BUY"),
        ("ETH/USDT", "2", "BUY"),
    ]
    assert sum(isinstance(i, UnreadableRow) for i in items) == 1 == source.stats.unreadable
    assert connections == 1 and source.stats.reconnects == 0


async def test_a_cut_socket_reconnects_and_a_trade_seen_again_is_not_yielded_twice() -> None:
    # The feed re-sends trades 2 and 3 after the cut (as a replaying venue or a stale buffer might).
    ids = [1, 2, 3, 2, 3, 4, 5]
    async with FakeBinance({"BTCUSDT": []}, now_ms=T0) as fake:
        fake.set_trade_script([trade("BTCUSDT", i) for i in ids], step_s=0.01)
        fake.drop_trade_ws_after(3)
        source = BinanceTradeSource(["BTCUSDT"], config=config_for(fake))
        items = await take_trades(source, 5)
        connections = fake.trade_ws_connections

    assert [i.trade_id for i in items if isinstance(i, RawTrade)] == ["1", "2", "3", "4", "5"]
    assert connections == 2 and source.stats.reconnects == 1 and source.stats.duplicates == 2


async def test_trades_printed_during_an_outage_are_lost_not_duplicated() -> None:
    # Cut after trade 2, refuse reconnects while trades 3-4 play: the live stream cannot recover
    # those (no REST backfill of trades), and nothing is yielded twice.
    async with FakeBinance({"BTCUSDT": []}, now_ms=T0) as fake:
        fake.set_trade_script([trade("BTCUSDT", i) for i in range(1, 8)], step_s=0.02)
        fake.drop_trade_ws_after(2, outage_steps=2)
        source = BinanceTradeSource(["BTCUSDT"], config=config_for(fake))
        items = await take_trades(source, 4)

    received = [int(i.trade_id) for i in items if isinstance(i, RawTrade)]
    assert received == [1, 2, 5, 6]  # the player waits for the reconnect once the outage ends
    assert source.stats.reconnects == 1


def test_trades_are_off_unless_kestrel_trades_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KESTREL_TRADES", raising=False)
    assert IngestionSettings().trades is False
    monkeypatch.setenv("KESTREL_TRADES", "true")
    assert IngestionSettings().trades is True


# -- the tick pipeline -----------------------------------------------------------------------------


class ListSource:
    name = "list"

    def __init__(self, items: Sequence[RawTrade | UnreadableRow]) -> None:
        self._items = items

    async def trades(self) -> AsyncIterator[RawTrade | UnreadableRow]:
        for item in self._items:
            yield item


def raw(symbol: str, trade_id: int, side: Literal["BUY", "SELL"] = "BUY") -> RawTrade:
    return RawTrade(symbol, str(trade_id), (T0 + trade_id) * NS, Decimal("100.50"), Decimal("2"), side)


async def test_the_pipeline_stores_then_publishes_ticks_with_derived_ids_in_batches() -> None:
    stored: list[list[TickRow]] = []

    async def write(rows: Sequence[TickRow]) -> int:
        stored.append(list(rows))
        return len(rows)

    bus = InMemoryBus()
    await bus.ensure_channel(channel("market.ticks"))
    items: list[RawTrade | UnreadableRow] = [
        raw("BTC/USDT", 1),
        UnreadableRow("x", "bad", "{}"),
        raw("ETH/USDT", 1, "SELL"),
        raw("BTC/USDT", 2),
    ]
    result = await TickPipeline(bus, write, batch_size=2).run(ListSource(items))

    assert (result.stored, result.published, result.batches, result.unreadable) == (3, 3, 2, 1)
    assert [len(b) for b in stored] == [2, 1]
    records = bus.records(channel("market.ticks"))
    ticks = [Tick.FromString(r.data) for r in records]
    assert [r.key for r in records] == ["BTC/USDT", "ETH/USDT", "BTC/USDT"]
    first = ticks[1]
    assert (first.trade_id, first.price, first.quantity, first.aggressor_side) == (
        "1",
        "100.5",
        "2",
        SIDE_SELL,
    )
    assert first.ts_event == (T0 + 1) * NS and first.venue == "BINANCE" and first.source == "binance"
    assert first.event_id == derived_event_id("tick", "BINANCE", "ETH/USDT", "1") == stored[0][1].event_id
    assert ticks[0].aggressor_side == SIDE_BUY


@pytest.mark.integration
async def test_ticks_land_in_postgres_and_on_a_private_kafka_topic(
    kafka_bootstrap: str, fresh_database_url: str, monkeypatch: pytest.MonkeyPatch, tracing: None
) -> None:
    monkeypatch.setenv("KESTREL_CHANNEL_NAMESPACE", f"t{uuid.uuid4().hex[:10]}")
    pool = await create_pool(fresh_database_url)
    bus = KafkaBus(kafka_bootstrap)
    try:
        await apply_migrations(pool)
        await bus.ensure_channel(channel("market.ticks"))
        items = [raw("BTC/USDT", 1), raw("ETH/USDT", 7, "SELL"), raw("BTC/USDT", 2)]
        pipeline = TickPipeline(bus, functools.partial(insert_ticks, pool))
        first = await pipeline.run(ListSource(items))
        again = await pipeline.run(ListSource(items[:1]))  # a replayed trade is stored once
        rows = await pool.fetch(
            "SELECT symbol, trade_id, price, quantity, side FROM market.ticks ORDER BY symbol, trade_id"
        )
        assert (first.stored, again.stored) == (3, 0)
        assert [tuple(r) for r in rows] == [
            ("BTC/USDT", "1", Decimal("100.50"), Decimal("2"), "BUY"),
            ("BTC/USDT", "2", Decimal("100.50"), Decimal("2"), "BUY"),
            ("ETH/USDT", "7", Decimal("100.50"), Decimal("2"), "SELL"),
        ]
        opts = ConsumerOptions(start_from_beginning=True, poll_timeout_ms=100)
        sub = bus.subscribe(
            channel("market.ticks"), group=f"test.{uuid.uuid4().hex[:8]}", consumer="t", options=opts
        )
        got = await consume_until(sub, 4, within_s=60)
        assert sorted((d.key, d.message.trade_id) for d in got) == [  # type: ignore[attr-defined]
            ("BTC/USDT", "1"),
            ("BTC/USDT", "1"),
            ("BTC/USDT", "2"),
            ("ETH/USDT", "7"),
        ]
        assert all(d.headers["traceparent"] for d in got)
    finally:
        await bus.close()
        await pool.close()
