"""Consumers of trading.signals, ops.commands and execution.reports.

Signals come in batches (one fetch): every BUY/SELL is decided in order against the book, then the
signals and decisions are written in ONE PostgreSQL transaction, then orders (Redis stream
execution.orders), decisions (risk.decisions) and rejection audits (audit.logs) are published, each
continuing the trace of the signal it came from; only then does the consumer commit the offsets. If
any step fails the book is put back as it was before the batch, so the per-message retry that
follows decides each signal against the same state (and the same client_order_id) as before.
Before all that, a batch waits for execution's reports of orders decided on earlier bars
(`fill_wait.py`), so live sizing sees the fills an exact-mode backtest has applied by then.

The kill switch is read from Redis for every decision: no cache, so an engaged switch stops the
next signal, and it survives restarts of every service.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

from kestrel_contracts.decimals import from_wire
from kestrel_contracts.events import derived_event_id, now_ns
from kestrel_contracts.registry import Channel, channel
from kestrel_contracts.v1.audit_event_pb2 import AUDIT_SEVERITY_CRITICAL, AUDIT_SEVERITY_INFO, AuditEvent
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport, OrderStatus
from kestrel_contracts.v1.operator_command_pb2 import OperatorCommand
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_contracts.v1.signal_pb2 import SIGNAL_ACTION_HOLD, Signal, SignalAction
from kestrel_messaging import Delivery, MessageBus, PermanentError
from kestrel_platform.logging import get_logger
from kestrel_risk import metrics
from kestrel_risk.controls import RiskControls, flatten_requests, gate_for
from kestrel_risk.execution_plan import ExecutionPlan
from kestrel_risk.fill_wait import FillWait
from kestrel_risk.ownership import StrategyFilter
from kestrel_risk.store import RiskStore
from kestrel_riskengine.engine import RiskEngine
from kestrel_riskengine.judgement import (
    Judgement,
    origin_name,
    to_audit,
    to_decision,
    to_manual_order,
    to_order,
)
from kestrel_store.fills import fill_key
from kestrel_trading.commissions import position_fills
from kestrel_trading.domain import Fill, Liquidity, Side
from kestrel_trading.orders import OrderStatus as TradingOrderStatus

_LOGGER = "kestrel.risk.handler"
_log = get_logger(_LOGGER)


class KillSwitchReader(Protocol):
    async def engaged(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class RiskChannels:
    orders: Channel
    decisions: Channel
    audit: Channel

    @classmethod
    def registered(cls) -> RiskChannels:
        """The registry's channels in the current namespace (KESTREL_CHANNEL_NAMESPACE)."""
        return cls(channel("execution.orders"), channel("risk.decisions"), channel("audit.logs"))


@dataclass(frozen=True, slots=True)
class _Decided:
    headers: Mapping[str, str]
    judgement: Judgement
    request: OrderRequest | None = None  # the manual order, forwarded when approved


class DecisionPublisher:
    """Orders, decisions and rejection audits of decided items, each continuing its input's trace."""

    def __init__(self, bus: MessageBus, channels: RiskChannels, plan: ExecutionPlan | None = None) -> None:
        self._bus, self._channels, self._plan = bus, channels, plan or ExecutionPlan()

    def _signal_order(self, judgement: Judgement) -> OrderRequest:
        return self._plan.apply(to_order(judgement))

    async def publish_audit(self, event: AuditEvent) -> None:
        await self._bus.publish(self._channels.audit, event)

    async def publish(self, decided: Sequence[_Decided]) -> None:
        approved = [d for d in decided if d.judgement.approved]
        rejected = [d for d in decided if not d.judgement.approved]
        if approved:
            orders = [
                to_manual_order(d.judgement, d.request)
                if d.request is not None
                else self._signal_order(d.judgement)
                for d in approved
            ]
            await self._bus.publish_batch(
                self._channels.orders, orders, parents=[d.headers for d in approved]
            )
        await self._bus.publish_batch(
            self._channels.decisions,
            [to_decision(d.judgement) for d in decided],
            parents=[d.headers for d in decided],
        )
        if rejected:
            await self._bus.publish_batch(
                self._channels.audit,
                [to_audit(d.judgement) for d in rejected],
                parents=[d.headers for d in rejected],
            )


def _count(judgements: Sequence[Judgement]) -> None:
    for j in judgements:
        if j.approved:
            metrics.ORDERS_APPROVED.labels(origin_name(j.origin)).inc()
        else:
            metrics.ORDERS_REJECTED.labels(j.reason or "").inc()


class _Deciding:
    """What both deciding consumers (signals, manual orders) need."""

    def __init__(
        self,
        engine: RiskEngine,
        store: RiskStore,
        publisher: DecisionPublisher,
        kill_switch: KillSwitchReader,
        *,
        clock: Callable[[], int] = now_ns,
        controls: RiskControls = RiskControls(),  # noqa: B008 (frozen, shared safely)
    ) -> None:
        self._engine, self._store, self._publisher = engine, store, publisher
        self._kill_switch, self._clock, self._controls = kill_switch, clock, controls


class SignalsHandler(_Deciding):
    """Batch handler of trading.signals (see the module docstring)."""

    def __init__(
        self,
        engine: RiskEngine,
        store: RiskStore,
        publisher: DecisionPublisher,
        kill_switch: KillSwitchReader,
        *,
        clock: Callable[[], int] = now_ns,
        fill_wait: FillWait | None = None,  # None: decide at once
        strategies: StrategyFilter = StrategyFilter(),  # noqa: B008 (frozen, shared safely)
        controls: RiskControls = RiskControls(),  # noqa: B008 (frozen, shared safely)
    ) -> None:
        super().__init__(engine, store, publisher, kill_switch, clock=clock, controls=controls)
        self._fill_wait, self._strategies = fill_wait, strategies

    async def __call__(self, deliveries: Sequence[Delivery]) -> None:
        if not self._strategies.everything:
            deliveries = [d for d in deliveries if self._owned(d)]
            if not deliveries:
                return
        if self._fill_wait is not None:
            await self._fill_wait.until_answered(_first_bar(deliveries))
        saved = self._engine.book.snapshot()
        try:
            signals, decided = await self._decide(deliveries)
            await self._store.save(signals, [d.judgement for d in decided])
            await self._publisher.publish(decided)
        except BaseException:
            self._engine.book.restore(saved)
            raise
        for signal in signals:
            metrics.SIGNALS_RECEIVED.labels(_action(signal)).inc()
        _count([d.judgement for d in decided])
        metrics.EQUITY.set(float(self._engine.book.equity()))
        if self._controls.stale is not None:
            self._controls.stale.arrived([s.ts_event for s in signals])
        await self._controls.after_fills()  # the marks moved: the drawdown may have reached the breaker

    def _owned(self, delivery: Delivery) -> bool:
        """Another account's strategy: skipped (counted); anything not a Signal stays, to be refused."""
        signal = delivery.message
        if not isinstance(signal, Signal) or self._strategies.owns(signal.strategy_id):
            return True
        metrics.SIGNALS_NOT_OWNED.inc()
        return False

    async def _decide(self, deliveries: Sequence[Delivery]) -> tuple[list[Signal], list[_Decided]]:
        signals: list[Signal] = []
        decided: list[_Decided] = []
        board = await self._controls.board()  # once per batch: one Redis round trip
        debug = logging.getLogger(_LOGGER).isEnabledFor(logging.DEBUG)  # the stdlib logger structlog ends in
        for delivery in deliveries:
            signal = delivery.message
            if not isinstance(signal, Signal):
                raise PermanentError(f"expected a Signal, got {type(signal).__name__}")
            signals.append(signal)
            if signal.action == SIGNAL_ACTION_HOLD:
                self._engine.mark_signal(signal)
                continue
            started = time.perf_counter()
            engaged = await self._kill_switch.engaged()
            gate = gate_for(board, self._engine.account, signal.symbol, signal.ts_event)
            judgement = self._engine.decide_signal(
                signal, kill_switch=engaged, now_ns=self._clock(), gate=gate
            )
            metrics.DECISION_TIME_MS.observe((time.perf_counter() - started) * 1000)
            decided.append(_Decided(delivery.headers, judgement))
            if debug:  # per signal: only when asked for (rendering it costs more than deciding)
                _log.debug(
                    "signal.decided",
                    symbol=signal.symbol,
                    client_order_id=judgement.client_order_id,
                    reason=judgement.reason or "APPROVED",
                )
        return signals, decided


def _first_bar(deliveries: Sequence[Delivery]) -> int:
    """ts_event of the batch's first timed signal (0: none, nothing to wait for). HOLDs count too:
    the order of marks and fills moves the equity peak the drawdown limit reads."""
    return next(
        (d.message.ts_event for d in deliveries if isinstance(d.message, Signal) and d.message.ts_event > 0),
        0,
    )


def _action(signal: Signal) -> str:
    if signal.action in SignalAction.values():
        return SignalAction.Name(signal.action).removeprefix("SIGNAL_ACTION_")
    return "UNKNOWN"


class CommandsHandler(_Deciding):
    """ops.commands: manual orders are decided like signals (without sizing), a flatten becomes one
    closing order per symbol held (decided even while risk is paused or halted: it reduces risk);
    kill switch commands are only audited, since the gateway already set the switch in Redis, and
    controller changes need nothing here: every batch reads the board afresh."""

    async def __call__(self, delivery: Delivery) -> None:
        command = delivery.message
        if not isinstance(command, OperatorCommand):
            raise PermanentError(f"expected an OperatorCommand, got {type(command).__name__}")
        which = command.WhichOneof("command")
        if which == "kill_switch":
            await self._publisher.publish_audit(_kill_switch_audit(command, self._clock()))
        elif which == "submit_order":
            await self._submit(delivery, command, [command.submit_order], unblocked=False)
        elif which == "flatten":
            if command.flatten.account == self._engine.account:
                await self._submit(delivery, command, flatten_requests(self._engine, command), unblocked=True)
        elif which in ("process_control", "instrument_override"):
            return
        else:
            raise PermanentError(f"operator command {command.event_id} carries no command")

    async def _submit(
        self,
        delivery: Delivery,
        command: OperatorCommand,
        requests: Sequence[OrderRequest],
        *,
        unblocked: bool,
    ) -> None:
        saved = self._engine.book.snapshot()
        decided: list[_Decided] = []
        try:
            board = await self._controls.board()
            for request in requests:
                started = time.perf_counter()
                engaged = await self._kill_switch.engaged()
                gate = gate_for(
                    board, self._engine.account, request.symbol, command.ts_event or self._clock()
                )
                judgement = self._engine.decide_manual(
                    request,
                    actor=command.actor,
                    causation=command.event_id,
                    kill_switch=engaged,
                    now_ns=command.ts_event or self._clock(),
                    gate=gate.unblocked() if unblocked else gate,
                )
                metrics.DECISION_TIME_MS.observe((time.perf_counter() - started) * 1000)
                decided.append(_Decided(delivery.headers, judgement, request))
            if decided:
                await self._store.save([], [d.judgement for d in decided])
                await self._publisher.publish(decided)
        except BaseException:
            self._engine.book.restore(saved)
            raise
        _count([d.judgement for d in decided])


def _kill_switch_audit(command: OperatorCommand, now: int) -> AuditEvent:
    engaged = command.kill_switch.engaged
    verb = "engaged" if engaged else "released"
    return AuditEvent(
        event_id=derived_event_id("risk.kill_switch", command.event_id),
        ts_event=command.ts_event or now,
        ts_init=now,
        service="risk",
        action=f"risk.kill_switch_{verb}",
        severity=AUDIT_SEVERITY_CRITICAL if engaged else AUDIT_SEVERITY_INFO,
        actor=command.actor,
        subject_type="kill_switch",
        subject_id="global",
        message=f"kill switch {verb} by {command.actor or 'unknown'}: {command.reason or 'no reason given'}",
        attributes={"engaged": str(engaged).lower(), "reason": command.reason},
        causation_event_id=command.event_id,
    )


class ReportsHandler:
    """execution.reports: every fill of this account applied to the book once (by fill_id)."""

    def __init__(
        self,
        engine: RiskEngine,
        fill_wait: FillWait | None = None,
        controls: RiskControls = RiskControls(),  # noqa: B008 (frozen, shared safely)
    ) -> None:
        self._engine, self._fill_wait, self._controls = engine, fill_wait, controls

    async def __call__(self, delivery: Delivery) -> None:
        report = delivery.message
        if not isinstance(report, ExecutionReport):
            raise PermanentError(f"expected an ExecutionReport, got {type(report).__name__}")
        if report.account != self._engine.account:
            return
        # All parse before any applies; a commission in the base asset moves the position too.
        fills = [part for i in range(len(report.fills)) for part in _position_fills(report, i)]
        for fill in fills:
            if self._engine.book.apply_fill(fill):
                metrics.FILLS_APPLIED.labels("report").inc()
        self._engine.book.working.on_report(report.client_order_id, _status(report), _cumulative(report))
        if self._fill_wait is not None:
            self._fill_wait.report_applied()
        if fills:
            metrics.EQUITY.set(float(self._engine.book.equity()))
            await self._controls.after_fills()


def _status(report: ExecutionReport) -> TradingOrderStatus | None:
    """The report's order status (None when unset or unknown: the order stays working)."""
    try:
        return TradingOrderStatus(OrderStatus.Name(report.status))
    except ValueError:
        return None


def _cumulative(report: ExecutionReport) -> Decimal | None:
    try:
        return from_wire(report.cumulative_quantity) if report.cumulative_quantity else None
    except (ValueError, InvalidOperation):
        return None  # the fills still applied; the order stays working until a terminal report


def _position_fills(report: ExecutionReport, index: int) -> list[Fill]:
    fill, wire = _fill(report, index), report.fills[index]
    return position_fills(fill, fill.fee, wire.fee_asset)


def _fill(report: ExecutionReport, index: int) -> Fill:
    wire = report.fills[index]
    side = {1: Side.BUY, 2: Side.SELL}.get(report.side)
    try:
        if side is None or not wire.fill_id:
            raise ValueError("a fill needs the report's side and its own fill_id")
        return Fill(
            fill_id=fill_key(report.client_order_id, wire.fill_id),
            client_order_id=report.client_order_id,
            symbol=report.symbol,
            side=side,
            price=from_wire(wire.price),
            quantity=from_wire(wire.quantity),
            fee=from_wire(wire.fee) if wire.fee else Decimal(0),
            ts_ns=wire.ts_event or report.ts_event,
            liquidity=Liquidity.MAKER if wire.liquidity == 1 else Liquidity.TAKER,
        )
    except (ValueError, InvalidOperation) as exc:
        raise PermanentError(f"fill {index} of report {report.event_id}: {exc}") from None
