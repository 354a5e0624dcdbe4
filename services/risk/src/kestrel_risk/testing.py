"""Builders and fakes for tests of the risk service (unit and integration)."""

from __future__ import annotations

from collections.abc import Sequence

from kestrel_contracts.events import derived_event_id
from kestrel_contracts.v1.execution_report_pb2 import ORDER_STATUS_FILLED, ExecutionReport
from kestrel_contracts.v1.execution_report_pb2 import Fill as FillProto
from kestrel_contracts.v1.signal_pb2 import SIGNAL_ACTION_BUY, Signal, SignalAction
from kestrel_riskengine.judgement import Judgement

T0 = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z, in ns


def make_signal(
    action: SignalAction = SIGNAL_ACTION_BUY,
    *,
    symbol: str = "BTC/USDT",
    price: str = "100",
    ts_event: int = T0,
    volatility: float = 0.01,
    seed: str = "",
) -> Signal:
    """A well-formed signal; its event id depends on symbol, time and `seed` (like inference's)."""
    return Signal(
        event_id=derived_event_id("test-signal", symbol, str(ts_event), seed),
        ts_event=ts_event,
        ts_init=ts_event + 1,
        symbol=symbol,
        venue="test",
        timeframe="1d",
        strategy_id="test-strategy",
        model_name="test-model",
        model_version="1",
        feature_set_version="fs-1",
        action=action,
        probabilities={"up": 0.7, "down": 0.3},
        confidence=0.7,
        reference_price=price,
        volatility=volatility,
    )


def fill_report(
    *,
    account: str = "paper",
    symbol: str = "BTC/USDT",
    side: str = "SIDE_BUY",
    price: str = "100",
    quantity: str = "10",
    fee: str = "0",
    fill_id: str = "order-1:1",
    ts_event: int = T0,
) -> ExecutionReport:
    """A FILLED report carrying one fill."""
    return ExecutionReport(
        event_id=derived_event_id("test-report", fill_id),
        ts_event=ts_event,
        ts_init=ts_event + 1,
        client_order_id=fill_id.split(":", maxsplit=1)[0],
        account=account,
        strategy_id="test-strategy",
        symbol=symbol,
        venue="test",
        side=side,  # the enum name, which protobuf accepts
        status=ORDER_STATUS_FILLED,
        quantity=quantity,
        cumulative_quantity=quantity,
        leaves_quantity="0",
        average_price=price,
        fills=[FillProto(fill_id=fill_id, ts_event=ts_event, price=price, quantity=quantity, fee=fee)],
        sequence=2,
        broker="paper",
    )


class FakeStore:
    """Records what would be written; `fail` makes the next save raise (a database outage)."""

    def __init__(self) -> None:
        self.signals: list[Signal] = []
        self.judgements: list[Judgement] = []
        self.fail: Exception | None = None

    async def save(self, signals: Sequence[Signal], judgements: Sequence[Judgement]) -> None:
        if self.fail is not None:
            error, self.fail = self.fail, None
            raise error
        self.signals.extend(signals)
        self.judgements.extend(judgements)


class FakeKillSwitch:
    def __init__(self, engaged: bool = False) -> None:
        self.is_engaged = engaged
        self.reads = 0

    async def engaged(self) -> bool:
        self.reads += 1
        return self.is_engaged
