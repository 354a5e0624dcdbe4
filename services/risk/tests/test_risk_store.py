"""Rows for trading.signals and trading.risk_decisions, as the gateway reads them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from kestrel_contracts.events import ns_to_datetime
from kestrel_contracts.v1.signal_pb2 import SIGNAL_ACTION_EXIT, SIGNAL_ACTION_HOLD, SIGNAL_ACTION_UNSPECIFIED
from kestrel_risk.store import decision_row, signal_row, storable
from kestrel_risk.testing import T0, make_signal
from kestrel_riskengine.engine import RiskEngine


def test_a_signal_row_keeps_the_action_name_and_exact_price() -> None:
    signal = make_signal(SIGNAL_ACTION_HOLD, price="101.25")
    row = signal_row(signal)
    assert row[0] == signal.event_id and row[1] == ns_to_datetime(T0)
    assert row[8] == "HOLD" and row[10] == {"up": 0.7, "down": 0.3} and row[11] == Decimal("101.25")


def test_only_well_formed_signals_are_storable() -> None:
    assert storable(make_signal())
    assert storable(make_signal(SIGNAL_ACTION_EXIT))  # a strategy turning flat is a signal to keep
    assert signal_row(make_signal(SIGNAL_ACTION_EXIT))[8] == "EXIT"
    assert not storable(make_signal(SIGNAL_ACTION_UNSPECIFIED))
    assert not storable(make_signal(price="1e5"))
    assert not storable(make_signal(ts_event=0))


def test_decision_rows_of_approval_and_rejection(make_engine: Callable[..., RiskEngine]) -> None:
    engine = make_engine()
    approved = engine.decide_signal(make_signal(), kill_switch=False, now_ns=T0)
    rejected = engine.decide_signal(make_signal(seed="2"), kill_switch=True, now_ns=T0)
    a, r = decision_row(approved), decision_row(rejected)
    assert (a[8], a[9], a[10], a[12], a[14], a[15]) == ("BUY", "APPROVED", None, 100, 10_000, "SIGNAL")
    assert a[17] is not None and r[17] is None  # order_event_id only for approvals
    assert (r[9], r[10]) == ("REJECTED", "RISK_REASON_KILL_SWITCH")
    checks: Any = r[16]
    assert checks[0] == {
        "name": "kill_switch",
        "passed": False,
        "limit": "",
        "observed": "True",
        "detail": "kill switch engaged",
    }
