"""The library's enum values must be the proto enum names, so services map them 1:1."""

from enum import StrEnum

import pytest

from kestrel_contracts.v1 import common_pb2, execution_report_pb2, order_request_pb2, risk_decision_pb2
from kestrel_trading import paper
from kestrel_trading.domain import Liquidity, Side
from kestrel_trading.orders import OrderStatus, OrderType, TimeInForce
from kestrel_trading.risk import RiskReason

PAIRS = [
    (Side, common_pb2.Side),
    (Liquidity, execution_report_pb2.Liquidity),
    (OrderStatus, execution_report_pb2.OrderStatus),
    (OrderType, order_request_pb2.OrderType),
    (TimeInForce, order_request_pb2.TimeInForce),
    (RiskReason, risk_decision_pb2.RiskReason),
]


@pytest.mark.parametrize(("ours", "proto"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_every_value_is_a_proto_enum_name(ours: type[StrEnum], proto: object) -> None:
    names = proto.keys()  # type: ignore[attr-defined]
    for member in ours:
        assert member.value in names


def test_risk_reasons_are_declared_in_proto_number_order() -> None:
    numbers = [risk_decision_pb2.RiskReason.Value(r.value) for r in RiskReason]
    assert numbers == sorted(numbers)


def test_paper_reasons_are_execution_reason_names() -> None:
    names = execution_report_pb2.ExecutionReason.keys()
    assert paper.REASON_EXPIRED in names
    assert paper.REASON_TIME_IN_FORCE in names
