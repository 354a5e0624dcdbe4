"""OrderRequest -> accepted Order or a rejection with the matching ExecutionReason."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kestrel_execution.intake import Accepted, Rejected, intake
from kestrel_execution.testing import order_request
from kestrel_trading.catalog import InstrumentCatalog
from kestrel_trading.orders import OrderType, TimeInForce

# BTC/USDT: ticks of 0.01, lots of 0.001, notional >= 10; no default: other symbols are unknown.
CATALOG = InstrumentCatalog.from_mapping(
    {
        "symbols": {
            "BTC/USDT": {
                "tick_size": "0.01",
                "step_size": "0.001",
                "min_qty": "0.001",
                "max_qty": "100",
                "min_notional": "10",
            }
        }
    }
)


def test_a_valid_market_order_is_accepted_with_the_contract_default_time_in_force() -> None:
    outcome = intake(
        order_request(time_in_force="TIME_IN_FORCE_UNSPECIFIED"), CATALOG, kill_switch_engaged=False
    )
    assert isinstance(outcome, Accepted)
    assert outcome.order.order_type is OrderType.MARKET
    assert outcome.order.quantity == Decimal("0.5")
    assert outcome.order.time_in_force is TimeInForce.IOC  # market default per the contract


def test_a_valid_limit_order_is_accepted_gtc_by_default() -> None:
    request = order_request(
        order_type="ORDER_TYPE_LIMIT", limit_price="99.5", time_in_force="TIME_IN_FORCE_UNSPECIFIED"
    )
    outcome = intake(request, CATALOG, kill_switch_engaged=False)
    assert isinstance(outcome, Accepted)
    assert outcome.order.limit_price == Decimal("99.5")
    assert outcome.order.time_in_force is TimeInForce.GTC


@pytest.mark.parametrize(
    ("fields", "reason", "text"),
    [
        ({"symbol": "DOGE/USDT"}, "EXECUTION_REASON_UNKNOWN_SYMBOL", "DOGE/USDT"),
        ({"quantity": "0"}, "EXECUTION_REASON_MALFORMED_ORDER", "quantity must be > 0"),
        ({"quantity": "abc"}, "EXECUTION_REASON_MALFORMED_ORDER", "quantity"),
        ({"side": "SIDE_UNSPECIFIED"}, "EXECUTION_REASON_MALFORMED_ORDER", "side is not set"),
        ({"order_type": "ORDER_TYPE_UNSPECIFIED"}, "EXECUTION_REASON_MALFORMED_ORDER", "order_type"),
        ({"event_id": "not-a-uuid"}, "EXECUTION_REASON_MALFORMED_ORDER", "event_id"),
        ({"order_type": "ORDER_TYPE_LIMIT"}, "EXECUTION_REASON_MALFORMED_ORDER", "limit_price"),
        ({"limit_price": "100"}, "EXECUTION_REASON_MALFORMED_ORDER", "market order takes no limit_price"),
        ({"quantity": "0.0005"}, "EXECUTION_REASON_INVALID_QUANTITY", "below the minimum 0.001"),
        ({"quantity": "0.5005"}, "EXECUTION_REASON_INVALID_QUANTITY", "step size 0.001"),
        (
            {"order_type": "ORDER_TYPE_LIMIT", "limit_price": "99.555"},
            "EXECUTION_REASON_INVALID_PRICE",
            "tick size 0.01",
        ),
        ({"quantity": "0.05"}, "EXECUTION_REASON_MIN_NOTIONAL", "notional 5.00 is below the minimum 10"),
    ],
)
def test_bad_requests_are_rejected_with_the_matching_reason(
    fields: dict[str, Any], reason: str, text: str
) -> None:
    outcome = intake(order_request(**fields), CATALOG, kill_switch_engaged=False)
    assert isinstance(outcome, Rejected)
    assert outcome.reason == reason
    assert text in outcome.text


def test_a_market_order_off_the_tick_grid_reference_price_is_still_accepted() -> None:
    # The reference price is risk's sizing price, not an order price: only lot and notional apply.
    outcome = intake(order_request(reference_price="100.123456"), CATALOG, kill_switch_engaged=False)
    assert isinstance(outcome, Accepted)


def test_without_a_reference_price_a_market_order_is_judged_on_its_lot_only() -> None:
    assert isinstance(
        intake(order_request(quantity="0.001", reference_price=""), CATALOG, kill_switch_engaged=False),
        Accepted,
    )
    rejected = intake(
        order_request(quantity="0.0015", reference_price=""), CATALOG, kill_switch_engaged=False
    )
    assert isinstance(rejected, Rejected) and rejected.reason == "EXECUTION_REASON_INVALID_QUANTITY"


def test_the_engaged_kill_switch_rejects_new_orders() -> None:
    outcome = intake(order_request(), CATALOG, kill_switch_engaged=True)
    assert isinstance(outcome, Rejected)
    assert outcome.reason == "EXECUTION_REASON_KILL_SWITCH"
