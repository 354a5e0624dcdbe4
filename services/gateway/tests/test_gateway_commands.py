"""The messages a manual order and the kill switch publish (pure)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kestrel_contracts.events import is_event_id
from kestrel_contracts.v1.audit_event_pb2 import AUDIT_SEVERITY_CRITICAL
from kestrel_contracts.v1.common_pb2 import SIDE_SELL
from kestrel_contracts.v1.order_request_pb2 import (
    EXECUTION_ALGORITHM_ICEBERG,
    EXECUTION_ALGORITHM_TWAP,
    ORDER_ORIGIN_MANUAL,
    ORDER_TYPE_LIMIT,
    TIME_IN_FORCE_IOC,
)
from kestrel_gateway.commands import (
    audit_event,
    client_order_id,
    kill_switch_command,
    submit_order_command,
    valid_idempotency_key,
)
from kestrel_gateway.models import OrderIn


def test_an_idempotency_key_always_names_the_same_order_for_the_same_api_key() -> None:
    same = client_order_id("key1", "req-42")
    assert same == client_order_id("key1", "req-42")
    assert same != client_order_id("key2", "req-42")
    assert same != client_order_id("key1", "req-43")
    assert len(same) <= 36 and same.startswith("m-")


def test_without_an_idempotency_key_every_order_is_new() -> None:
    assert client_order_id("key1", None) != client_order_id("key1", None)


def test_idempotency_keys_must_be_short_and_printable() -> None:
    assert valid_idempotency_key("order-2024-01-01#1")
    assert not valid_idempotency_key("")
    assert not valid_idempotency_key("x" * 129)
    assert not valid_idempotency_key("bad\nkey")


def test_a_manual_order_becomes_a_submit_order_command_for_risk() -> None:
    order = OrderIn.model_validate(
        {
            "symbol": "ETH/USDT",
            "side": "SELL",
            "quantity": "1.50",
            "order_type": "LIMIT",
            "limit_price": "2500.10",
            "time_in_force": "IOC",
        }
    )
    command = submit_order_command(order, account="paper", order_id="m-abc", requested_by="key1", now_ns=5)
    request = command.submit_order
    assert command.WhichOneof("command") == "submit_order"
    assert (command.actor, request.requested_by, request.origin) == ("key1", "key1", ORDER_ORIGIN_MANUAL)
    assert (request.client_order_id, request.account, request.symbol) == ("m-abc", "paper", "ETH/USDT")
    assert (request.side, request.order_type, request.time_in_force) == (
        SIDE_SELL,
        ORDER_TYPE_LIMIT,
        TIME_IN_FORCE_IOC,
    )
    assert (request.quantity, request.limit_price, request.reference_price) == ("1.5", "2500.1", "")
    assert is_event_id(command.event_id) and is_event_id(request.event_id)
    # Same order id -> same event ids: a retried request is a recognisable repeat downstream.
    again = submit_order_command(order, account="paper", order_id="m-abc", requested_by="key1", now_ns=9)
    assert (again.event_id, again.submit_order.event_id) == (command.event_id, request.event_id)


def test_a_manual_order_with_an_algorithm_is_a_parent_and_a_spec_without_its_parameters_is_refused() -> None:
    base = {"symbol": "BTC/USDT", "side": "BUY", "quantity": "1"}
    twap = OrderIn.model_validate(base | {"algorithm": {"name": "TWAP", "duration_s": 1.5, "slices": 3}})
    spec = submit_order_command(
        twap, account="a", order_id="m-t", requested_by="k", now_ns=1
    ).submit_order.algorithm
    assert (spec.algorithm, spec.duration_ns, spec.slices) == (EXECUTION_ALGORITHM_TWAP, 1_500_000_000, 3)
    iceberg = OrderIn.model_validate(base | {"algorithm": {"name": "ICEBERG", "display_quantity": "0.25"}})
    spec = submit_order_command(
        iceberg, account="a", order_id="m-i", requested_by="k", now_ns=1
    ).submit_order.algorithm
    assert (spec.algorithm, spec.display_quantity) == (EXECUTION_ALGORITHM_ICEBERG, "0.25")
    plain = submit_order_command(
        OrderIn.model_validate(base), account="a", order_id="m", requested_by="k", now_ns=1
    )
    assert not plain.submit_order.HasField("algorithm")
    for bad in (
        {"name": "TWAP", "slices": 3},
        {"name": "ICEBERG"},
        {"name": "VWAP"},
        {"name": "TWAP", "duration_s": 1, "slices": 1},
    ):
        with pytest.raises(ValidationError):
            OrderIn.model_validate(base | {"algorithm": bad})


def test_the_kill_switch_command_and_its_audit_event() -> None:
    command = kill_switch_command(True, "runaway model", "key9", now_ns=7)
    audit = audit_event(command, now_ns=8)
    assert command.kill_switch.engaged and command.reason == "runaway model" and command.actor == "key9"
    assert (audit.action, audit.severity, audit.actor) == (
        "kill_switch.engaged",
        AUDIT_SEVERITY_CRITICAL,
        "key9",
    )
    assert audit.causation_event_id == command.event_id and audit.message == "runaway model"
    released = audit_event(kill_switch_command(False, "fixed", "key9", now_ns=9), now_ns=10)
    assert released.action == "kill_switch.released"
