"""The order and bar handlers end to end on in-memory fakes: bus, store, idempotency, kill switch."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from google.protobuf.message import Message

from kestrel_contracts.events import new_event_id
from kestrel_contracts.registry import Channel, channel
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReason, ExecutionReport, Liquidity
from kestrel_contracts.v1.execution_report_pb2 import OrderStatus as Status
from kestrel_contracts.v1.operator_command_pb2 import KillSwitch, OperatorCommand
from kestrel_execution.commands import CommandsHandler
from kestrel_execution.handlers import ExecutionContext, OrdersHandler
from kestrel_execution.idempotency import MemoryIdempotency
from kestrel_execution.outbox import ReportOutbox
from kestrel_execution.paper_venue import BarsHandler, PaperVenue, to_domain_bar
from kestrel_execution.testing import (
    FakeKillSwitch,
    InMemoryExecutionStore,
    bar,
    memory_controller,
    order_request,
)
from kestrel_execution.venue import VenueState
from kestrel_messaging import Delivery, InMemoryBus, PermanentError
from kestrel_platform.control_store import InMemoryControl
from kestrel_platform.tracing import get_tracer
from kestrel_trading.catalog import InstrumentCatalog
from kestrel_trading.paper import PaperConfig

CATALOG = InstrumentCatalog.builtin()
ORDERS, BARS, REPORTS, COMMANDS = "execution.orders", "market.bars", "execution.reports", "ops.commands"


class FlakyBus(InMemoryBus):
    """Fails the next `failures` publishes, as if the process died right after the commit."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    async def _send(self, channel: Channel, data: bytes, key: str | None, headers: dict[str, str]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("kafka went away")
        await super()._send(channel, data, key, headers)


@dataclass
class Rig:
    config: PaperConfig = field(default_factory=lambda: PaperConfig(slippage_bps=Decimal(10)))
    bus: FlakyBus = field(default_factory=FlakyBus)
    store: InMemoryExecutionStore = field(default_factory=InMemoryExecutionStore)
    kill_switch: FakeKillSwitch = field(default_factory=FakeKillSwitch)
    idempotency: MemoryIdempotency = field(default_factory=MemoryIdempotency)
    control: InMemoryControl = field(default_factory=InMemoryControl)

    def __post_init__(self) -> None:
        outbox = ReportOutbox(self.store, self.bus, channel(REPORTS))
        venue = PaperVenue(self.config)
        controller = memory_controller(self.bus, self.control)
        context = ExecutionContext(
            self.store, outbox, venue, CATALOG, self.kill_switch, "1m", "USD", controller
        )
        self.orders = OrdersHandler(context, self.idempotency)
        self.bars = BarsHandler(context, venue)
        self.commands = CommandsHandler(context)

    async def order(self, message: Message) -> None:
        await self.orders([_delivery(ORDERS, message)])

    async def bar(self, message: Message) -> None:
        await self.bars(_delivery(BARS, message))

    async def command(self, message: Message) -> None:
        await self.commands(_delivery(COMMANDS, message))

    def reports(self) -> list[ExecutionReport]:
        return [ExecutionReport.FromString(r.data) for r in self.bus.records(channel(REPORTS))]


def _delivery(name: str, message: Message) -> Delivery:
    return Delivery(channel(name), message, None, {}, message.SerializeToString(), "0")


async def test_a_market_order_is_new_then_filled_at_the_next_bar_open_with_slippage_and_fee() -> None:
    rig = Rig()
    await rig.order(order_request("m-1"))
    await rig.bar(bar(0, "99", "101", "98", "100"))  # the signal bar itself: never fills
    await rig.bar(bar(1, "100", "102", "99", "101"))
    new, filled = rig.reports()
    assert (new.status, new.sequence, new.leaves_quantity, new.broker) == (
        Status.ORDER_STATUS_NEW,
        1,
        "0.5",
        "paper",
    )
    assert filled.status == Status.ORDER_STATUS_FILLED and filled.sequence == 2
    (fill,) = filled.fills
    # 100 x (1 + 10 bps) = 100.1 (already on the 1e-5 tick); fee 10 bps of 50.05 = 0.05005.
    assert (fill.price, fill.quantity, fill.fee, fill.fee_asset) == ("100.1", "0.5", "0.05005", "USDT")
    assert fill.fill_id == f"m-1:{bar(1, '1', '1', '1', '1').ts_open}"
    assert fill.ts_event == bar(1, "1", "1", "1", "1").ts_open
    assert (filled.cumulative_quantity, filled.leaves_quantity, filled.average_price) == ("0.5", "0", "100.1")
    position = rig.store.positions[("paper-1", "BTC/USDT")]
    assert position.quantity == Decimal("0.5") and position.fees == Decimal("0.05005")


async def test_an_order_arriving_after_its_next_bars_catches_up_on_the_stored_bars() -> None:
    """A replay published bars 0-2 before the order came: it fills at bar 1's open, once."""
    rig = Rig()
    stored = [to_domain_bar(bar(i, o, "200", "50", o)) for i, o in ((0, "99"), (1, "110"), (2, "120"))]
    rig.store.bars[("BTC/USDT", "1m")] = stored
    await rig.order(order_request("late-1"))
    new, filled = rig.reports()
    assert (new.status, filled.status) == (Status.ORDER_STATUS_NEW, Status.ORDER_STATUS_FILLED)
    (fill,) = filled.fills
    assert (fill.price, fill.ts_event) == ("110.11", stored[1].ts_open_ns)  # bar 1 open + 10 bps
    await rig.bar(bar(1, "110", "200", "50", "110"))  # the bar consumer sees the same bars later
    await rig.bar(bar(2, "120", "200", "50", "120"))
    assert len(rig.reports()) == 2 and len(rig.store.fills) == 1


async def test_a_redelivered_order_or_bar_never_trades_twice() -> None:
    rig = Rig()
    await rig.order(order_request("d-1"))
    await rig.order(order_request("d-1"))
    await rig.bar(bar(1, "100", "102", "99", "101"))
    await rig.bar(bar(1, "100", "102", "99", "101"))
    await rig.order(order_request("d-1"))
    assert [(r.client_order_id, r.sequence) for r in rig.reports()] == [("d-1", 1), ("d-1", 2)]
    assert len(rig.store.fills) == 1
    assert rig.store.positions[("paper-1", "BTC/USDT")].quantity == Decimal("0.5")


async def test_redis_saying_seen_with_nothing_stored_still_places_the_order() -> None:
    rig = Rig()
    rig.idempotency.seen.add("lost-1")  # the key was set, then the process died before the commit
    await rig.order(order_request("lost-1"))
    assert [r.status for r in rig.reports()] == [Status.ORDER_STATUS_NEW]
    assert await rig.store.existing(["lost-1"]) == {"lost-1"}


async def test_a_report_lost_between_commit_and_publish_goes_out_on_redelivery() -> None:
    rig = Rig()
    rig.bus.failures = 1
    with pytest.raises(ConnectionError):
        await rig.order(order_request("crash-1"))
    assert rig.reports() == [] and await rig.store.existing(["crash-1"]) == {"crash-1"}
    await rig.order(order_request("crash-1"))  # the stream entry was never acked: redelivered
    assert [(r.client_order_id, r.status, r.sequence) for r in rig.reports()] == [
        ("crash-1", Status.ORDER_STATUS_NEW, 1)
    ]
    assert await rig.store.unpublished() == []


async def test_a_filter_violating_order_is_rejected_stored_and_reported() -> None:
    rig = Rig()
    await rig.order(order_request("tiny-1", quantity="0.01"))  # 0.01 x 100 = 1 < min notional 10
    (report,) = rig.reports()
    assert report.status == Status.ORDER_STATUS_REJECTED
    assert report.reason == ExecutionReason.EXECUTION_REASON_MIN_NOTIONAL
    assert "below the minimum 10" in report.reason_text
    assert rig.store.rejected["tiny-1"].reason == "EXECUTION_REASON_MIN_NOTIONAL"
    await rig.bar(bar(1, "100", "102", "99", "101"))
    assert len(rig.reports()) == 1 and rig.store.fills == {}


async def test_a_malformed_order_is_rejected_and_one_without_an_id_is_dead_lettered() -> None:
    rig = Rig()
    await rig.order(order_request("bad-1", side="SIDE_UNSPECIFIED"))
    (report,) = rig.reports()
    assert report.reason == ExecutionReason.EXECUTION_REASON_MALFORMED_ORDER and "side" in report.reason_text
    with pytest.raises(PermanentError):
        await rig.order(order_request(""))


async def test_a_limit_order_fills_in_parts_under_the_volume_cap() -> None:
    rig = Rig(PaperConfig(max_volume_share=Decimal("0.001")))
    request = order_request("lim-1", order_type="ORDER_TYPE_LIMIT", limit_price="99", quantity="0.5")
    await rig.order(request)
    await rig.bar(bar(1, "100", "101", "99.5", "100", volume="300"))  # never below 99: no fill
    await rig.bar(bar(2, "100", "101", "98", "99", volume="300"))  # through 99: 0.3 of 0.5
    await rig.bar(bar(3, "100", "101", "98", "99", volume="300"))  # the remaining 0.2
    statuses = [(r.sequence, r.status, r.cumulative_quantity, r.leaves_quantity) for r in rig.reports()]
    assert statuses == [
        (1, Status.ORDER_STATUS_NEW, "0", "0.5"),
        (2, Status.ORDER_STATUS_PARTIALLY_FILLED, "0.3", "0.2"),
        (3, Status.ORDER_STATUS_FILLED, "0.5", "0"),
    ]
    fills = [f for r in rig.reports() for f in r.fills]
    assert [(f.price, f.liquidity) for f in fills] == [("99", Liquidity.LIQUIDITY_MAKER)] * 2


async def test_the_kill_switch_cancels_working_orders_at_the_next_bar() -> None:
    rig = Rig()
    await rig.order(order_request("k-1"))
    rig.kill_switch.is_engaged = True
    await rig.bar(bar(1, "100", "102", "99", "101"))
    _new, canceled = rig.reports()
    assert canceled.status == Status.ORDER_STATUS_CANCELED
    assert canceled.reason == ExecutionReason.EXECUTION_REASON_KILL_SWITCH
    assert canceled.leaves_quantity == "0" and not canceled.fills and rig.store.fills == {}


async def test_an_impossible_bar_is_a_permanent_error() -> None:
    rig = Rig()
    with pytest.raises(PermanentError, match="inconsistent bar"):
        await rig.bar(bar(1, "100", "99", "98", "100"))  # open above high


async def test_the_report_continues_the_trace_of_the_order_entry(tracing: None) -> None:
    rig = Rig()
    orders = channel(ORDERS)
    with get_tracer("test.risk").start_as_current_span("risk decides") as span:
        await rig.bus.publish(orders, order_request("t-1"))
    trace_id = format(span.get_span_context().trace_id, "032x")
    stop = asyncio.Event()
    task = asyncio.create_task(
        rig.bus.subscribe(orders, group="execution", consumer="c").run_batches(rig.orders, stop)
    )
    for _ in range(100):
        if rig.reports():
            break
        await asyncio.sleep(0.01)
    stop.set()
    await task
    (record,) = rig.bus.records(channel(REPORTS))
    assert record.headers["traceparent"].split("-")[1] == trace_id
    assert record.key == "BTC/USDT"


def _engage(engaged: bool) -> OperatorCommand:
    return OperatorCommand(
        event_id=new_event_id(), ts_event=123, actor="ops", kill_switch=KillSwitch(engaged=engaged)
    )


async def test_an_engage_command_cancels_every_working_order_at_once() -> None:
    rig = Rig()
    await rig.order(order_request("c-1"))
    await rig.order(order_request("c-2", symbol="ETH/USDT"))
    await rig.order(order_request("c-done"))
    await rig.bar(bar(1, "100", "102", "99", "101"))  # fills c-1 and c-done, both BTC/USDT
    await rig.order(order_request("c-3"))
    rig.kill_switch.is_engaged = True
    await rig.command(_engage(True))
    canceled = [r for r in rig.reports() if r.status == Status.ORDER_STATUS_CANCELED]
    assert sorted(r.client_order_id for r in canceled) == ["c-2", "c-3"]
    assert all(
        r.reason == ExecutionReason.EXECUTION_REASON_KILL_SWITCH and r.ts_event == 123 for r in canceled
    )
    assert {r.sequence for r in canceled} == {2}


async def test_a_stale_or_unrelated_command_cancels_nothing() -> None:
    rig = Rig()
    await rig.order(order_request("s-1"))
    await rig.command(_engage(True))  # the switch was released since: Redis says not engaged
    await rig.command(_engage(False))
    await rig.command(OperatorCommand(actor="ops", submit_order=order_request("manual-1")))
    assert [r.status for r in rig.reports()] == [Status.ORDER_STATUS_NEW]


async def test_a_batch_stores_each_order_once_rejects_what_it_must_and_acks_the_rest() -> None:
    rig = Rig()
    batch = [
        order_request("b-1"),
        order_request("b-1"),  # the same entry twice in one fetch (a redelivery)
        order_request("b-tiny", quantity="0.01"),  # notional 1 < 10
        order_request("b-2", side="SIDE_SELL"),
    ]
    await rig.orders([_delivery(ORDERS, message) for message in batch])
    reports = rig.reports()
    assert [(r.client_order_id, r.sequence, r.status) for r in reports] == [
        ("b-1", 1, Status.ORDER_STATUS_NEW),
        ("b-tiny", 1, Status.ORDER_STATUS_REJECTED),
        ("b-2", 1, Status.ORDER_STATUS_NEW),
    ]
    # Both accepted orders went to the venue and were acknowledged in the same pass.
    acked = {coid: s.venue_state for coid, s in rig.store.orders.items()}
    assert acked == {"b-1": VenueState.ACKED, "b-2": VenueState.ACKED}
    assert rig.store.orders["b-1"].meta.venue_order_id == "b-1"
    await rig.orders([_delivery(ORDERS, order_request("b-2"))])  # later redelivery: nothing new
    assert len(rig.reports()) == 3
