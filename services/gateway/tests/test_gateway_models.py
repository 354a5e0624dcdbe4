"""Request validation: decimal strings only, LIMIT needs a price, no unknown fields (pure)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from kestrel_gateway.models import KillSwitchIn, OrderIn, OrderType


def _order(**overrides: Any) -> OrderIn:
    return OrderIn.model_validate({"symbol": "BTC/USDT", "side": "BUY", "quantity": "0.5", **overrides})


def test_a_minimal_order_is_a_market_gtc_order_with_an_exact_quantity() -> None:
    order = _order()
    assert (order.order_type, order.time_in_force.value, order.quantity) == (
        OrderType.MARKET,
        "GTC",
        Decimal("0.5"),
    )
    assert order.account is None and order.strategy_id == "manual"


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("quantity", 0.5, "decimal string"),  # a JSON number: may already have been a float
        ("quantity", "1e3", "plain decimal"),
        ("quantity", "NaN", "NaN"),
        ("quantity", "0", "greater than 0"),
        ("quantity", "-1", "greater than 0"),
        ("side", "HOLD", "BUY"),
        ("symbol", "BTC USDT", "pattern"),
        ("unexpected", "x", "Extra inputs"),
    ],
)
def test_invalid_fields_are_refused_with_a_reason(field: str, value: Any, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _order(**{field: value})
    errors = caught.value.errors()
    assert errors[0]["loc"][0] == field
    assert says in errors[0]["msg"]


def test_limit_price_is_required_for_limit_orders_and_refused_for_market_orders() -> None:
    with pytest.raises(ValidationError, match="needs limit_price"):
        _order(order_type="LIMIT")
    with pytest.raises(ValidationError, match="takes no limit_price"):
        _order(limit_price="100")
    assert _order(order_type="LIMIT", limit_price="100.25").limit_price == Decimal("100.25")


def test_kill_switch_needs_a_real_boolean_and_a_reason() -> None:
    assert KillSwitchIn.model_validate({"engaged": True, "reason": "fat finger"}).engaged
    for body in (
        {"engaged": "yes", "reason": "x"},
        {"engaged": True, "reason": ""},
        {"engaged": True, "reason": "  "},
    ):
        with pytest.raises(ValidationError):
            KillSwitchIn.model_validate(body)
