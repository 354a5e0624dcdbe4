"""The service in-process against the REAL Redis, Kafka and PostgreSQL (a fresh database per test).

Orders go in through the Redis stream execution.orders, bars through Kafka market.bars; reports are
read back from Kafka execution.reports and the rows from trading.orders / fills / positions.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import asyncpg
import pytest

from kestrel_contracts.events import datetime_to_ns, new_event_id, now_ns
from kestrel_contracts.registry import channel
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReason
from kestrel_contracts.v1.execution_report_pb2 import OrderStatus as Status
from kestrel_contracts.v1.operator_command_pb2 import KillSwitch as KillSwitchCommand
from kestrel_contracts.v1.operator_command_pb2 import OperatorCommand
from kestrel_execution.testing import bar, order_request
from kestrel_execution.testing_harness import Harness, until
from kestrel_platform.kill_switch import KillSwitch
from kestrel_store.bars import row_from_event, upsert_bars
from kestrel_store.migrate import apply_migrations

pytestmark = pytest.mark.integration


async def test_orders_are_placed_once_filled_on_the_next_bar_and_stored(harness: Harness) -> None:
    db = await asyncpg.connect(harness.settings.database_url)
    try:
        harness.start()
        orders = channel("execution.orders")
        await harness.streams.publish(orders, order_request("int-1"))
        await harness.streams.publish(orders, order_request("int-1"))  # a duplicate entry
        await harness.streams.publish(orders, order_request("int-tiny", quantity="0.01"))  # notional 1
        await harness.streams.publish_raw(orders, b"\x0a\xff", key="garbage")  # not an OrderRequest
        await until(lambda: harness.of("int-1") and harness.of("int-tiny"))
        await harness.kafka.publish(channel("market.bars"), bar(0, "99", "101", "98", "100"))  # signal bar
        await harness.kafka.publish(channel("market.bars"), bar(1, "100", "102", "99", "101"))
        await until(lambda: len(harness.of("int-1")) == 2)
        await asyncio.sleep(1.0)  # room for a wrong second trade to show up
        assert harness.of("int-1") == [(1, Status.ORDER_STATUS_NEW), (2, Status.ORDER_STATUS_FILLED)]
        (rejected,) = [r for r in harness.reports if r.client_order_id == "int-tiny"]
        assert rejected.status == Status.ORDER_STATUS_REJECTED
        assert rejected.reason == ExecutionReason.EXECUTION_REASON_MIN_NOTIONAL and rejected.reason_text

        row = await db.fetchrow("SELECT * FROM trading.orders WHERE client_order_id = 'int-1'")
        assert (row["status"], row["filled_quantity"], row["average_fill_price"]) == (
            "FILLED",
            Decimal("0.5"),
            Decimal("100"),
        )
        fills = await db.fetch("SELECT trade_id, price, quantity, fee FROM trading.fills")
        assert [(f["price"], f["quantity"], f["fee"]) for f in fills] == [
            (Decimal("100"), Decimal("0.5"), Decimal("0.05"))
        ]
        position = await db.fetchrow("SELECT * FROM trading.positions WHERE account = 'paper-1'")
        assert (position["quantity"], position["average_entry_price"], position["fees_paid"]) == (
            Decimal("0.5"), Decimal("100"), Decimal("0.05"),
        )  # fmt: skip
        tiny = await db.fetchrow(
            "SELECT status, reason_code, reject_reason FROM trading.orders WHERE client_order_id = 'int-tiny'"
        )
        assert tiny["status"] == "REJECTED" and tiny["reason_code"] == "EXECUTION_REASON_MIN_NOTIONAL"
        assert (
            await db.fetchval(
                "SELECT count(*) FROM trading.execution_report_outbox WHERE published_at IS NULL"
            )
            == 0
        )
    finally:
        await db.close()


async def test_an_order_after_stored_bars_fills_at_the_next_open_exactly_once(harness: Harness) -> None:
    """A replay stored and published bars 0-2 before risk's order arrived: catch-up, then no repeat."""
    db = await asyncpg.connect(harness.settings.database_url)
    try:
        bars = [
            bar(0, "99", "101", "98", "100"),
            bar(1, "105", "106", "104", "105"),
            bar(2, "90", "91", "89", "90"),
        ]
        await apply_migrations(harness.settings.database_url)  # what the service does on start
        await upsert_bars(db, [row_from_event(b) for b in bars])
        harness.start()
        for message in bars:  # the bar consumer sees them too, in whatever order relative to the order
            await harness.kafka.publish(channel("market.bars"), message)
        await harness.streams.publish(channel("execution.orders"), order_request("late-1"))
        await until(lambda: (2, Status.ORDER_STATUS_FILLED) in harness.of("late-1"))
        await asyncio.sleep(1.0)  # room for a wrong second trade to show up
        assert harness.of("late-1") == [(1, Status.ORDER_STATUS_NEW), (2, Status.ORDER_STATUS_FILLED)]
        fills = await db.fetch("SELECT price, ts FROM trading.fills")
        assert [(f["price"], datetime_to_ns(f["ts"])) for f in fills] == [(Decimal("105"), bars[1].ts_open)]
        assert await db.fetchval("SELECT quantity FROM trading.positions") == Decimal("0.5")
    finally:
        await db.close()


async def test_a_restart_keeps_the_working_order_and_fills_it_exactly_once(harness: Harness) -> None:
    db = await asyncpg.connect(harness.settings.database_url)
    try:
        harness.start()
        await harness.streams.publish(channel("execution.orders"), order_request("rs-1"))
        await until(lambda: harness.of("rs-1"))
        await harness.stop()
        # As if the NEW report had been committed but never published before the process died.
        await db.execute("UPDATE trading.execution_report_outbox SET published_at = NULL")

        harness.start()
        await until(lambda: len(harness.of("rs-1")) == 2)  # the NEW report, published again at startup
        await harness.kafka.publish(channel("market.bars"), bar(1, "100", "102", "99", "101"))
        await harness.kafka.publish(channel("market.bars"), bar(1, "100", "102", "99", "101"))  # redelivered
        await until(lambda: (2, Status.ORDER_STATUS_FILLED) in harness.of("rs-1"))
        await asyncio.sleep(1.0)
        assert harness.of("rs-1") == [
            (1, Status.ORDER_STATUS_NEW), (1, Status.ORDER_STATUS_NEW), (2, Status.ORDER_STATUS_FILLED),
        ]  # fmt: skip
        republished = [r.event_id for r in harness.reports if r.sequence == 1]
        assert len(set(republished)) == 1  # the same report, recognisable downstream
        assert await db.fetchval("SELECT count(*) FROM trading.fills") == 1
        assert await db.fetchval("SELECT quantity FROM trading.positions") == Decimal("0.5")
    finally:
        await db.close()


async def test_the_kill_switch_cancels_working_orders_and_refuses_new_ones(harness: Harness) -> None:
    db = await asyncpg.connect(harness.settings.database_url)
    switch = KillSwitch(harness.streams.client)
    try:
        harness.start()
        await harness.streams.publish(channel("execution.orders"), order_request("ks-1"))
        await until(lambda: harness.of("ks-1"))
        await switch.set(True, "ops", "test")
        command = OperatorCommand(
            event_id=new_event_id(),
            ts_event=1,
            ts_init=now_ns(),
            actor="ops",
            kill_switch=KillSwitchCommand(engaged=True),
        )
        # The commands group starts at the latest offset: publish until it has joined and acted.
        deadline = asyncio.get_running_loop().time() + 60
        while (2, Status.ORDER_STATUS_CANCELED) not in harness.of("ks-1"):
            assert asyncio.get_running_loop().time() < deadline, "the engage command was never acted on"
            await harness.kafka.publish(channel("ops.commands"), command)
            await asyncio.sleep(1.0)
        await harness.streams.publish(channel("execution.orders"), order_request("ks-2"))
        await until(lambda: harness.of("ks-2"))
        assert harness.of("ks-2") == [(1, Status.ORDER_STATUS_REJECTED)]
        rows = await db.fetch("SELECT client_order_id, status, reason_code FROM trading.orders ORDER BY 1")
        assert [tuple(r) for r in rows] == [
            ("ks-1", "CANCELED", "EXECUTION_REASON_KILL_SWITCH"),
            ("ks-2", "REJECTED", "EXECUTION_REASON_KILL_SWITCH"),
        ]
    finally:
        await harness.streams.client.delete(switch.key)
        await db.close()
