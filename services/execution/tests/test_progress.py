"""The one order state machine every venue's events go through (`progress.apply_events`)."""

from __future__ import annotations

from decimal import Decimal

from kestrel_contracts.v1.execution_report_pb2 import ExecutionReason
from kestrel_contracts.v1.execution_report_pb2 import OrderStatus as Status
from kestrel_execution.progress import OrderChange, StoredOrder, apply_events
from kestrel_execution.reports import OrderMeta
from kestrel_execution.venue import Acked, Canceled, Expired, Traded, VenueRejected, VenueState
from kestrel_trading.domain import Fill, Liquidity, Side
from kestrel_trading.orders import Order, OrderStatus, OrderType
from kestrel_trading.paper import WorkingOrder

META = OrderMeta("c-1", "acct", "s", "BTC/USDT", "BINANCE", "1m", "binance", "e", "", "USDT")


def stored(quantity: str = "1", status: OrderStatus = OrderStatus.NEW) -> StoredOrder:
    order = Order(
        "c-1", "BTC/USDT", Side.BUY, OrderType.LIMIT, Decimal(quantity), Decimal(100), status=status
    )
    return StoredOrder("row-1", META, WorkingOrder(order, 0), 1, VenueState.PENDING)


def traded(trade_id: int, qty: str, price: str = "100", commission: str = "0.001") -> Traded:
    fill = Fill(
        f"binance:BTC/USDT:{trade_id}",
        "c-1",
        "BTC/USDT",
        Side.BUY,
        Decimal(price),
        Decimal(qty),
        Decimal(commission) * Decimal(price),
        1_000 + trade_id,
        Liquidity.MAKER,
    )
    return Traded(fill, Decimal(commission), "BTC", str(trade_id))


def test_an_ack_records_the_venue_id_without_a_report() -> None:
    change = apply_events(stored(), [Acked(5, "778")])
    assert change is not None and change.report is None
    assert (change.meta.venue_order_id, change.venue_state) == ("778", VenueState.ACKED)
    assert apply_events(change_as_stored(change), [Acked(6, "778")]) is None  # known: nothing new


def change_as_stored(change: OrderChange) -> StoredOrder:
    return StoredOrder("row-1", change.meta, change.working, change.sequence, change.venue_state)


def test_trades_fill_partially_then_fully_and_a_repeated_trade_is_dropped() -> None:
    first = apply_events(stored(), [Acked(1, "9"), traded(1, "0.4")])
    assert first is not None and first.report is not None
    assert (first.report.status, first.report.cumulative_quantity, first.report.venue_order_id) == (
        Status.ORDER_STATUS_PARTIALLY_FILLED,
        "0.4",
        "9",
    )
    # The report carries the commission as charged (in BTC), the order's fees in quote terms.
    assert (first.report.fills[0].fee, first.report.fills[0].fee_asset) == ("0.001", "BTC")
    assert first.working.order.fees == Decimal("0.100")
    again = apply_events(change_as_stored(first), [traded(1, "0.4")])
    assert again is None
    done = apply_events(change_as_stored(first), [traded(1, "0.4"), traded(2, "0.6")])
    assert done is not None and done.report is not None
    assert done.working.order.status is OrderStatus.FILLED and len(done.fills) == 1
    assert done.sequence == first.sequence + 1


def test_a_late_cancel_or_expiry_of_a_final_order_changes_nothing() -> None:
    filled = apply_events(stored(), [traded(1, "1")])
    assert filled is not None
    for late in (Canceled(9, "EXECUTION_REASON_KILL_SWITCH"), Expired(9, "EXECUTION_REASON_EXPIRED")):
        assert apply_events(change_as_stored(filled), [late]) is None


def test_cancel_and_expiry_carry_their_reason_and_text() -> None:
    change = apply_events(stored(), [traded(1, "0.25"), Expired(50, "EXECUTION_REASON_TIME_IN_FORCE", "ioc")])
    assert change is not None and change.report is not None
    assert change.report.status == Status.ORDER_STATUS_EXPIRED
    assert (change.report.reason, change.report.reason_text) == (
        ExecutionReason.EXECUTION_REASON_TIME_IN_FORCE,
        "ioc",
    )
    assert change.report.ts_event == 1_001  # the fill's time: what the report is mostly about


def test_a_venue_rejection_rejects_a_new_order_only() -> None:
    change = apply_events(stored(), [VenueRejected(3, "EXECUTION_REASON_INSUFFICIENT_BALANCE", "-2010")])
    assert change is not None and change.report is not None
    assert (change.report.status, change.report.reason_text) == (Status.ORDER_STATUS_REJECTED, "-2010")
    partly = apply_events(stored(), [traded(1, "0.5")])
    assert partly is not None
    # Once something filled the venue accepted the order: a rejection after that is refused.
    late = [VenueRejected(4, "EXECUTION_REASON_VENUE_REJECTED", "x")]
    assert apply_events(change_as_stored(partly), late) is None


def test_a_trade_past_the_quantity_is_refused_not_applied() -> None:
    change = apply_events(stored("1"), [traded(1, "0.7"), traded(2, "0.7")])
    assert change is not None and change.working.order.filled_quantity == Decimal("0.7")
    assert [t.venue_trade_id for t in change.fills] == ["1"]
