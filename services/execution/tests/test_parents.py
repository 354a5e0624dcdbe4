"""Parent orders end to end on in-memory fakes: intake, the runner's children, paper fills, reports."""

from __future__ import annotations

from decimal import Decimal

from kestrel_contracts.registry import channel
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReason, ExecutionReport
from kestrel_contracts.v1.execution_report_pb2 import OrderStatus as Status
from kestrel_contracts.v1.order_request_pb2 import AlgorithmSpec, ExecutionAlgorithm
from kestrel_execution.handlers import ExecutionContext, OrdersHandler
from kestrel_execution.idempotency import MemoryIdempotency
from kestrel_execution.outbox import ReportOutbox
from kestrel_execution.paper_venue import BarsHandler, PaperVenue, to_domain_bar
from kestrel_execution.parents import ParentRunner
from kestrel_execution.testing import (
    MINUTE_NS,
    FakeKillSwitch,
    InMemoryExecutionStore,
    bar,
    memory_controller,
    order_request,
)
from kestrel_messaging import Delivery, InMemoryBus
from kestrel_platform.control_store import InMemoryControl
from kestrel_trading.catalog import InstrumentCatalog
from kestrel_trading.paper import PaperConfig

TWAP = AlgorithmSpec(
    algorithm=ExecutionAlgorithm.EXECUTION_ALGORITHM_TWAP, duration_ns=4 * MINUTE_NS, slices=4
)


class Rig:
    def __init__(self) -> None:
        self.bus, self.store, self.kill_switch = InMemoryBus(), InMemoryExecutionStore(), FakeKillSwitch()
        outbox = ReportOutbox(self.store, self.bus, channel("execution.reports"))
        venue = PaperVenue(PaperConfig(slippage_bps=Decimal(0)))
        self.control = InMemoryControl()
        ctx = ExecutionContext(
            self.store, outbox, venue, InstrumentCatalog.builtin(), self.kill_switch, "1m", "USD",
            memory_controller(self.bus, self.control),
        )  # fmt: skip
        self.orders, self.bars, self.runner = (
            OrdersHandler(ctx, MemoryIdempotency()),
            BarsHandler(ctx, venue),
            ParentRunner(ctx),
        )

    async def order(self, **fields: object) -> None:
        request = order_request("twap-1", **fields)
        await self.orders(
            [Delivery(channel("execution.orders"), request, None, {}, request.SerializeToString(), "0")]
        )

    async def bar(self, index: int, price: str) -> None:
        """Bar `index` closes: stored (the market clock moves), consumed, then the runner's round."""
        message = bar(index, price, price, price, price)
        self.store.bars.setdefault(("BTC/USDT", "1m"), []).append(to_domain_bar(message))
        await self.bars(Delivery(channel("market.bars"), message, None, {}, message.SerializeToString(), "0"))
        await self.runner.work()

    def reports(self, client_order_id: str | None = None) -> list[ExecutionReport]:
        found = [ExecutionReport.FromString(r.data) for r in self.bus.records(channel("execution.reports"))]
        return [r for r in found if client_order_id in (None, r.client_order_id)]


async def test_a_twap_parent_sends_one_child_per_slice_and_reports_its_progress_without_fills() -> None:
    rig = Rig()
    await rig.order(quantity="1", algorithm=TWAP, reference_price="100")  # decided at bar 0's close
    (new,) = rig.reports("twap-1")
    assert (new.status, new.algorithm, new.arrival_price) == (Status.ORDER_STATUS_NEW, TWAP.algorithm, "100")
    assert rig.store.orders == {}  # nothing at the venue before the market clock reaches a slice
    await rig.bar(0, "100")  # the clock reaches arrival: slice 0 (due T0+1m) is sent
    assert sorted(rig.store.orders) == ["twap-1.0"]
    for index, price in ((1, "101"), (2, "102"), (3, "103"), (4, "104"), (5, "105")):
        await rig.bar(index, price)
    children = {coid: s.working.order for coid, s in rig.store.orders.items()}
    assert sorted(children) == ["twap-1.0", "twap-1.1", "twap-1.2", "twap-1.3"]
    # Each child fills at the open of the bar after its slice's instant: bars 1, 2, 3, 4.
    prices = [children[f"twap-1.{k}"].average_price for k in range(4)]
    assert prices == [Decimal(101), Decimal(102), Decimal(103), Decimal(104)]
    assert all(children[f"twap-1.{k}"].filled_quantity == Decimal("0.25") for k in range(4))
    parent = rig.reports("twap-1")
    assert [r.sequence for r in parent] == list(range(1, len(parent) + 1))
    assert all(not r.fills for r in parent)  # the fills are the children's: counted once downstream
    final = parent[-1]
    assert (final.status, final.cumulative_quantity, final.average_price) == (
        Status.ORDER_STATUS_FILLED,
        "1",
        "102.5",
    )
    assert final.slippage_bps == "250"  # bought at 102.5 on average against 100 at arrival
    child_reports = [r for r in rig.reports() if r.client_order_id.startswith("twap-1.")]
    assert {r.parent_client_order_id for r in child_reports} == {"twap-1"}
    assert sum(Decimal(f.quantity) for r in child_reports for f in r.fills) == Decimal(1)


async def test_a_runner_round_repeated_or_a_redelivered_parent_sends_nothing_twice() -> None:
    rig = Rig()
    await rig.order(quantity="1", algorithm=TWAP)
    await rig.bar(0, "100")
    await rig.runner.work()
    await rig.runner.work()
    await rig.order(quantity="1", algorithm=TWAP)  # the same entry delivered again
    assert sorted(rig.store.orders) == ["twap-1.0"]
    assert len(rig.reports("twap-1")) == 1 and len(rig.reports("twap-1.0")) == 1


async def test_the_kill_switch_stops_a_parent_and_cancels_it_once_nothing_works() -> None:
    rig = Rig()
    await rig.order(quantity="1", algorithm=TWAP)
    await rig.bar(0, "100")
    await rig.bar(1, "101")  # child 0 filled; child 1 sent
    rig.kill_switch.is_engaged = True
    await rig.bar(2, "102")  # the paper venue cancels child 1 at this bar; no child 2
    assert sorted(rig.store.orders) == ["twap-1.0", "twap-1.1"]
    final = rig.reports("twap-1")[-1]
    assert (final.status, final.cumulative_quantity) == (Status.ORDER_STATUS_CANCELED, "0.25")
    assert final.reason == ExecutionReason.EXECUTION_REASON_KILL_SWITCH


async def test_a_bad_algorithm_is_rejected_with_a_reason_and_an_iceberg_works_its_display_size() -> None:
    rig = Rig()
    bad = AlgorithmSpec(algorithm=ExecutionAlgorithm.EXECUTION_ALGORITHM_TWAP, slices=3)
    await rig.order(quantity="1", algorithm=bad)
    (rejected,) = rig.reports("twap-1")
    assert rejected.status == Status.ORDER_STATUS_REJECTED and "duration_ns" in rejected.reason_text
    assert rejected.reason == ExecutionReason.EXECUTION_REASON_MALFORMED_ORDER
    rig = Rig()
    iceberg = AlgorithmSpec(algorithm=ExecutionAlgorithm.EXECUTION_ALGORITHM_ICEBERG, display_quantity="0.4")
    await rig.order(quantity="1", algorithm=iceberg)
    for index in range(5):
        await rig.bar(index, "100")
    quantities = {c: s.working.order.quantity for c, s in rig.store.orders.items()}
    assert quantities == {"twap-1.0": Decimal("0.4"), "twap-1.1": Decimal("0.4"), "twap-1.2": Decimal("0.2")}
    assert rig.reports("twap-1")[-1].status == Status.ORDER_STATUS_FILLED
