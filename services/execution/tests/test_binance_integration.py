"""The Binance venue end to end: the service on the real Redis, Kafka and PostgreSQL, trading on the
local Binance-protocol exchange (`kestrel_testing.fake_binance`) through signed REST and the user
data stream — and every fault the venue can throw, with no order lost, duplicated or left unknown.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pydantic import SecretStr

from kestrel_contracts.events import new_event_id, now_ns
from kestrel_contracts.registry import channel
from kestrel_contracts.v1.audit_event_pb2 import AUDIT_SEVERITY_CRITICAL, AuditEvent
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReason, ExecutionReport
from kestrel_contracts.v1.execution_report_pb2 import OrderStatus as Status
from kestrel_contracts.v1.operator_command_pb2 import KillSwitch as KillSwitchCommand
from kestrel_contracts.v1.operator_command_pb2 import OperatorCommand
from kestrel_execution.__main__ import build_venue
from kestrel_execution.binance.rest import BinanceRest
from kestrel_execution.binance.signing import load_credentials
from kestrel_execution.testing import order_request
from kestrel_execution.testing_harness import Harness, until
from kestrel_messaging import Delivery
from kestrel_platform.control import ALL, Process, State
from kestrel_platform.control_store import control_key
from kestrel_platform.kill_switch import KillSwitch
from kestrel_testing.fake_binance import FakeBinance, SymbolSpec
from kestrel_testing.fake_binance_auth import FakeApiKey

pytestmark = pytest.mark.integration
SECRET = "s3cret-for-tests-only"
ASKS = [("100.00", "0.3"), ("100.50", "5")]
BIDS = [("99.50", "5")]


@pytest.fixture
async def exchange() -> AsyncIterator[FakeBinance]:
    keys = [FakeApiKey.hmac("hmac-key", SECRET), FakeApiKey.ed25519("ed-key", ED_KEY.public_key())]
    spec = SymbolSpec(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT")
    async with FakeBinance({}, symbols=[spec], api_keys=keys,
                           balances={"USDT": "100000", "BTC": "10"}) as fake:  # fmt: skip
        fake.set_book("BTCUSDT", bids=BIDS, asks=ASKS)
        yield fake


ED_KEY = Ed25519PrivateKey.generate()


def on_binance(
    harness: Harness, fake: FakeBinance, *, ed25519_file: str | None = None, reconcile_every_s: float = 3600.0
) -> None:
    """Point the harness's service at the local exchange and start it."""
    harness.settings = harness.settings.model_copy(
        update={
            "broker": "binance",
            "binance_rest_url": fake.rest_url,
            "binance_ws_api_url": fake.ws_api_url,
            "binance_api_key": SecretStr("ed-key" if ed25519_file else "hmac-key"),
            "binance_api_secret": None if ed25519_file else SecretStr(SECRET),
            "binance_private_key_file": ed25519_file,
            "binance_timeout_s": 1.0,
            "resolve_interval_s": 0.3,
            "resolve_pending_after_s": 1.5,
            "reconcile_interval_s": reconcile_every_s,
        }
    )
    harness.start(build_venue(harness.settings))


def final(harness: Harness, client_order_id: str) -> ExecutionReport | None:
    mine = [r for r in harness.reports if r.client_order_id == client_order_id]
    last = max(mine, key=lambda r: r.sequence, default=None)
    return last if last is not None and last.leaves_quantity == "0" and last.sequence > 1 else None


async def publish(harness: Harness, client_order_id: str, **fields: object) -> None:
    await harness.streams.publish(channel("execution.orders"), order_request(client_order_id, **fields))


async def rows(db: asyncpg.Connection, sql: str, *args: object) -> list[tuple[object, ...]]:
    return [tuple(r) for r in await db.fetch(sql, *args)]


def assert_one_venue_order_and_fills_once(harness: Harness, fake: FakeBinance, coid: str) -> None:
    venue = [o for o in fake.exchange.all_orders("BTCUSDT") if o.client_order_id == coid]
    assert len(venue) == 1, f"the venue holds {len(venue)} orders for {coid}"
    fill_ids = [f.fill_id for r in harness.reports if r.client_order_id == coid for f in r.fills]
    assert len(fill_ids) == len(set(fill_ids)), "a fill was reported twice"


@pytest.fixture
def ed25519_key_file(tmp_path: Path) -> str:
    path = tmp_path / "ed25519.pem"
    path.write_bytes(ED_KEY.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return str(path)


@pytest.mark.parametrize("key", ["hmac", "ed25519"])
async def test_a_market_order_fills_across_levels_and_is_stored_once(
    harness: Harness, exchange: FakeBinance, ed25519_key_file: str, key: str
) -> None:
    key_file = ed25519_key_file if key == "ed25519" else None
    db = await asyncpg.connect(harness.settings.database_url)
    try:
        on_binance(harness, exchange, ed25519_file=key_file)
        await publish(harness, "bn-mkt-1")  # MARKET BUY 0.5 BTC/USDT
        await until(lambda: final(harness, "bn-mkt-1") is not None)
        await asyncio.sleep(1.0)  # the user stream repeats what the REST answer said: no effect
        done = final(harness, "bn-mkt-1")
        assert done is not None and done.status == Status.ORDER_STATUS_FILLED
        assert (done.cumulative_quantity, done.broker) == ("0.5", "binance")
        assert done.venue_order_id == str(exchange.exchange.order_by_client_id("bn-mkt-1").order_id)  # type: ignore[union-attr]
        assert_one_venue_order_and_fills_once(harness, exchange, "bn-mkt-1")
        fills = await rows(
            db, "SELECT price, quantity, fee, fee_asset, liquidity FROM trading.fills ORDER BY price"
        )
        assert fills == [
            (Decimal("100.00"), Decimal("0.3"), Decimal("0.0003"), "BTC", "TAKER"),
            (Decimal("100.50"), Decimal("0.2"), Decimal("0.0002"), "BTC", "TAKER"),
        ]  # a buyer pays commission in the asset received
        order = await db.fetchrow("SELECT * FROM trading.orders WHERE client_order_id = 'bn-mkt-1'")
        assert (order["status"], order["venue_state"], order["average_fill_price"]) == (
            "FILLED", "ACKED", Decimal("100.2"),
        )  # fmt: skip
        position = await db.fetchrow("SELECT quantity, fees_paid FROM trading.positions")
        # What the account holds: the commission left in BTC; its value is counted as the fee.
        assert position["quantity"] == Decimal("0.4995") == exchange.exchange.balances()["BTC"].free - 10
        assert position["fees_paid"] == Decimal("0.0003") * Decimal("100.00") + Decimal("0.0002") * Decimal(
            "100.50"
        )
    finally:
        await db.close()


async def test_a_resting_limit_fills_from_the_stream_and_the_kill_switch_cancels_it_at_the_venue(
    harness: Harness, exchange: FakeBinance
) -> None:
    db = await asyncpg.connect(harness.settings.database_url)
    switch = KillSwitch(harness.streams.client)
    try:
        on_binance(harness, exchange)
        await publish(harness, "bn-lim-1", order_type="ORDER_TYPE_LIMIT", limit_price="99.00", quantity="1")
        await until(lambda: exchange.exchange.order_by_client_id("bn-lim-1") is not None)
        exchange.trade_through("BTCUSDT", "98.90", "0.4")  # an outside seller hits the resting bid
        await until(lambda: (2, Status.ORDER_STATUS_PARTIALLY_FILLED) in harness.of("bn-lim-1"))
        partial = next(r for r in harness.reports if r.sequence == 2)
        assert [(f.price, f.quantity, f.liquidity) for f in partial.fills] == [("99", "0.4", 1)]  # MAKER
        await switch.set(True, "ops", "test")
        command = OperatorCommand(event_id=new_event_id(), ts_event=1, ts_init=now_ns(), actor="ops",
                                  kill_switch=KillSwitchCommand(engaged=True))  # fmt: skip
        deadline = asyncio.get_running_loop().time() + 60
        while (3, Status.ORDER_STATUS_CANCELED) not in harness.of("bn-lim-1"):
            assert asyncio.get_running_loop().time() < deadline, "the kill switch never reached the venue"
            await harness.kafka.publish(channel("ops.commands"), command)
            await asyncio.sleep(1.0)
        canceled = next(r for r in harness.reports if r.sequence == 3)
        assert canceled.reason == ExecutionReason.EXECUTION_REASON_KILL_SWITCH
        assert exchange.exchange.order_by_client_id("bn-lim-1").status == "CANCELED"  # type: ignore[union-attr]
        assert await rows(db, "SELECT status, filled_quantity FROM trading.orders") == [
            ("CANCELED", Decimal("0.4"))
        ]
    finally:
        await harness.streams.client.delete(switch.key)
        await db.close()


@pytest.mark.parametrize("fault", ["timeout", "status-unknown"])
async def test_a_submit_whose_outcome_is_unknown_is_resolved_by_query_never_sent_twice(
    harness: Harness, exchange: FakeBinance, fault: str
) -> None:
    db = await asyncpg.connect(harness.settings.database_url)
    try:
        on_binance(harness, exchange)
        await until(lambda: exchange.user_stream_subscriptions > 0)
        if fault == "timeout":
            exchange.take_then_timeout_next(1, delay_s=3.0)  # the client gives up after 1 s
            # Nor does the user stream tell: only asking the venue by client order id can.
            exchange.drop_user_streams(refuse_for_s=30.0)
        else:
            exchange.take_then_fail_next(1, 503)  # -1007: executed, but "status unknown"
        await publish(harness, "bn-unk-1")
        await until(lambda: final(harness, "bn-unk-1") is not None, timeout_s=15)
        await asyncio.sleep(2.5)  # past the resolver's wait: it must not send the order again
        assert_one_venue_order_and_fills_once(harness, exchange, "bn-unk-1")
        assert exchange.executed_placements == 1
        assert await rows(db, "SELECT status, venue_state FROM trading.orders") == [("FILLED", "ACKED")]
        assert await db.fetchval("SELECT count(*) FROM trading.fills") == 2
    finally:
        await db.close()


@pytest.mark.parametrize("status", [429, 418])
async def test_a_rate_limited_submit_is_sent_once_the_venue_allows_it(
    harness: Harness, exchange: FakeBinance, status: int
) -> None:
    db = await asyncpg.connect(harness.settings.database_url)
    try:
        on_binance(harness, exchange)
        await until(lambda: exchange.user_stream_subscriptions > 0)
        exchange.fail_next(1, status, retry_after_s=1)  # refused (418: banned): nothing was executed
        await publish(harness, "bn-429-1")
        await until(lambda: final(harness, "bn-429-1") is not None, timeout_s=30)
        assert_one_venue_order_and_fills_once(harness, exchange, "bn-429-1")
        placements = [r for r in exchange.requests if r.path == "/api/v3/order" and r.status == 200]
        assert len(placements) == 1
        assert await rows(db, "SELECT status FROM trading.orders") == [("FILLED",)]
    finally:
        await db.close()


async def test_a_skewed_clock_and_a_1021_are_recovered_by_a_time_sync(
    harness: Harness, exchange: FakeBinance
) -> None:
    exchange.clock_offset_ms = 30_000  # the venue's clock runs 30 s ahead of ours
    on_binance(harness, exchange)
    await until(lambda: exchange.user_stream_subscriptions > 0)
    exchange.reject_timestamp_next(1)
    await publish(harness, "bn-1021-1")
    await until(lambda: final(harness, "bn-1021-1") is not None)
    assert_one_venue_order_and_fills_once(harness, exchange, "bn-1021-1")
    assert any(r.status == 400 and r.path == "/api/v3/order" for r in exchange.requests)  # the -1021


async def test_fills_missed_while_the_user_stream_was_down_are_caught_up_by_rest(
    harness: Harness, exchange: FakeBinance
) -> None:
    db = await asyncpg.connect(harness.settings.database_url)
    try:
        on_binance(harness, exchange)
        await publish(harness, "bn-gap-1", order_type="ORDER_TYPE_LIMIT", limit_price="99.00", quantity="1")
        await until(lambda: harness.of("bn-gap-1") and exchange.exchange.order_by_client_id("bn-gap-1"))
        await until(lambda: exchange.user_stream_subscriptions > 0)
        exchange.drop_user_streams(refuse_for_s=2.0)
        exchange.trade_through("BTCUSDT", "98.00", "1")  # fills while nobody listens
        await until(lambda: final(harness, "bn-gap-1") is not None, timeout_s=30)
        assert exchange.user_stream_connections >= 2  # it reconnected
        assert await rows(db, "SELECT status, filled_quantity FROM trading.orders") == [
            ("FILLED", Decimal("1"))
        ]
        assert_one_venue_order_and_fills_once(harness, exchange, "bn-gap-1")
    finally:
        await db.close()


async def test_venue_refusals_are_rejections_with_their_reason_and_filters_are_checked_first(
    harness: Harness, exchange: FakeBinance
) -> None:
    db = await asyncpg.connect(harness.settings.database_url)
    try:
        on_binance(harness, exchange)
        # 2,000 BTC at 99 needs 198,000 USDT: the account has 100,000.
        limit = "ORDER_TYPE_LIMIT"
        await publish(harness, "bn-rej-1", order_type=limit, limit_price="99.00", quantity="2000")
        # A price between Binance's 0.01 ticks: refused by the adapter before any request.
        await publish(harness, "bn-rej-2", order_type=limit, limit_price="99.005", quantity="1")
        await until(lambda: len(harness.of("bn-rej-1")) == 2 and len(harness.of("bn-rej-2")) == 2)
        reasons = await rows(
            db, "SELECT client_order_id, status, reason_code FROM trading.orders ORDER BY client_order_id"
        )
        assert reasons == [
            ("bn-rej-1", "REJECTED", "EXECUTION_REASON_INSUFFICIENT_BALANCE"),
            ("bn-rej-2", "REJECTED", "EXECUTION_REASON_INVALID_PRICE"),
        ]
        texts = {r.client_order_id: r.reason_text for r in harness.reports if r.sequence == 2}
        assert "-2010" in texts["bn-rej-1"] and "PRICE_FILTER" in texts["bn-rej-2"]
        sent = [r.query.get("newClientOrderId") for r in exchange.requests if r.path == "/api/v3/order"]
        assert "bn-rej-2" not in sent
    finally:
        await db.close()


@pytest.fixture
async def audits(harness: Harness, unique: str) -> AsyncIterator[list[AuditEvent]]:
    """Every AuditEvent on audit.logs while the test runs; the kill switch and the board cleared after."""
    seen: list[AuditEvent] = []

    async def collect(delivery: Delivery) -> None:
        assert isinstance(delivery.message, AuditEvent)
        seen.append(delivery.message)

    await harness.kafka.ensure_channel(channel("audit.logs"))
    stop = asyncio.Event()
    sub = harness.kafka.subscribe(channel("audit.logs"), group=f"audit-{unique}", consumer="t")
    task = asyncio.create_task(sub.run(collect, stop))
    try:
        yield seen
    finally:
        board = [control_key(name) for name in ("processes", "windows", "overrides", "history")]
        await harness.streams.client.delete(KillSwitch(harness.streams.client).key, *board)
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_reconciliation_adopts_a_fill_nobody_reported(
    harness: Harness, exchange: FakeBinance, audits: list[AuditEvent]
) -> None:
    seen = audits
    on_binance(harness, exchange, reconcile_every_s=2.0)
    await publish(harness, "bn-rec-1", order_type="ORDER_TYPE_LIMIT", limit_price="99.00", quantity="1")
    await until(lambda: harness.of("bn-rec-1") and exchange.exchange.order_by_client_id("bn-rec-1"))
    await until(lambda: exchange.user_stream_subscriptions > 0)
    exchange.drop_user_streams(refuse_for_s=120.0)  # no stream, and no reconnect catch-up either
    exchange.trade_through("BTCUSDT", "98.00", "1")
    await until(lambda: final(harness, "bn-rec-1") is not None, timeout_s=30)
    await until(lambda: any(a.action == "reconcile.order_missing_at_venue" for a in seen))
    adopted = next(a for a in seen if a.action == "reconcile.order_missing_at_venue")
    assert (adopted.subject_id, adopted.attributes["explained"]) == ("bn-rec-1", "true")
    assert (await harness.control.board()).record(Process.RECONCILIATION, ALL).state is State.RUNNING
    assert not await KillSwitch(harness.streams.client).engaged()


async def test_an_unexplained_break_halts_trading_with_a_reason(
    harness: Harness, exchange: FakeBinance, audits: list[AuditEvent]
) -> None:
    seen = audits
    on_binance(harness, exchange, reconcile_every_s=2.0)
    await publish(harness, "bn-hold-1")  # a market buy: there is a holding to reconcile
    await until(lambda: final(harness, "bn-hold-1") is not None)
    db = await asyncpg.connect(harness.settings.database_url)
    try:  # the first reconciliation after the fill records the account's starting BTC
        for _ in range(300):
            if await db.fetchval("SELECT quantity FROM trading.venue_baselines WHERE asset = 'BTC'"):
                break
            await asyncio.sleep(0.1)
        assert await db.fetchval("SELECT quantity FROM trading.venue_baselines WHERE asset = 'BTC'") == 10
    finally:
        await db.close()
    resting = {"order_type": "ORDER_TYPE_LIMIT", "limit_price": "99.00", "quantity": "0.2"}  # locks USDT
    await publish(harness, "bn-hold-rest", **resting)
    await until(lambda: exchange.exchange.order_by_client_id("bn-hold-rest") is not None)
    exchange.exchange.account.credit("BTC", Decimal("0.25"))  # BTC from nowhere Kestrel knows
    await until(lambda: any(a.action == "control.halted" for a in seen), timeout_s=30)
    halted = (await harness.control.board()).record(Process.RECONCILIATION, ALL)
    assert (halted.state, halted.automated, halted.actor) == (State.HALTED, True, "execution.controller")
    assert halted.reason.startswith("reconciliation break: BTC: venue holds")
    assert not await KillSwitch(harness.streams.client).engaged()  # the controller, not the kill switch
    broke = next(a for a in seen if a.action == "reconcile.holding")
    assert (broke.severity, broke.subject_id) == (AUDIT_SEVERITY_CRITICAL, "BTC")
    # Execution depends on reconciliation: its ProcessControl command cancelled the resting order at
    # the venue, and a new order is refused with the controller's reason code and reason.
    await until(lambda: final(harness, "bn-hold-rest") is not None, timeout_s=30)
    canceled = final(harness, "bn-hold-rest")
    assert canceled is not None and canceled.status == Status.ORDER_STATUS_CANCELED
    assert canceled.reason == ExecutionReason.EXECUTION_REASON_TRADING_HALTED
    assert exchange.exchange.order_by_client_id("bn-hold-rest").status == "CANCELED"  # type: ignore[union-attr]
    await publish(harness, "bn-hold-2")
    await until(lambda: harness.of("bn-hold-2"))
    assert harness.of("bn-hold-2") == [(1, Status.ORDER_STATUS_REJECTED)]
    refused = next(r for r in harness.reports if r.client_order_id == "bn-hold-2")
    assert refused.reason == ExecutionReason.EXECUTION_REASON_TRADING_HALTED
    assert refused.reason_text.startswith("reconciliation is halted: reconciliation break: BTC: venue holds")


async def test_an_open_venue_order_kestrel_never_placed_halts_trading(
    harness: Harness, exchange: FakeBinance, audits: list[AuditEvent]
) -> None:
    seen = audits
    on_binance(harness, exchange, reconcile_every_s=2.0)
    await until(lambda: exchange.user_stream_subscriptions > 0)
    keys = {"api_key": SecretStr("hmac-key"), "api_secret": SecretStr(SECRET)}
    outsider = BinanceRest(
        exchange.rest_url, load_credentials(**keys, private_key_file=None, secrets_file=None)
    )
    await outsider.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                          "timeInForce": "GTC", "quantity": "0.1", "price": "90.00",
                          "newClientOrderId": "by-hand-1"})  # fmt: skip
    await outsider.close()
    await until(lambda: any(a.action == "reconcile.unknown_venue_order" for a in seen), timeout_s=30)
    await until(lambda: any(a.action == "control.halted" for a in seen), timeout_s=30)
    halted = (await harness.control.board()).record(Process.RECONCILIATION, ALL)
    assert halted.state is State.HALTED and "by-hand-1" in halted.reason
