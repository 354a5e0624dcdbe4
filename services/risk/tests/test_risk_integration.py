"""The risk service in-process (`serve`) on REAL Kafka, Redis and PostgreSQL.

Channels live in a per-test namespace (KESTREL_CHANNEL_NAMESPACE), the database is fresh and
migrated, so tests run in parallel with each other and with a live deployment.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal

import asyncpg
import pytest
import redis.asyncio as aioredis
from google.protobuf.message import Message
from prometheus_client import REGISTRY

from kestrel_contracts.events import ns_to_datetime
from kestrel_contracts.registry import NAMESPACE_ENV, channel
from kestrel_contracts.v1.audit_event_pb2 import AuditEvent
from kestrel_contracts.v1.operator_command_pb2 import Flatten, OperatorCommand
from kestrel_contracts.v1.order_request_pb2 import ORDER_ORIGIN_SIGNAL, OrderRequest
from kestrel_contracts.v1.risk_decision_pb2 import RiskDecision, RiskReason
from kestrel_messaging import Delivery, connect
from kestrel_messaging.router import TransportRouter
from kestrel_platform.control import Action, Process
from kestrel_platform.control_store import RedisControl, control_key
from kestrel_platform.kill_switch import KillSwitch
from kestrel_risk.service import serve
from kestrel_risk.settings import RiskSettings
from kestrel_risk.testing import T0, fill_report, make_signal
from kestrel_store.migrate import apply_migrations
from kestrel_store.pool import create_pool

pytestmark = pytest.mark.integration


@dataclass
class Rig:
    settings: RiskSettings
    pool: asyncpg.Pool
    bus: TransportRouter
    redis: aioredis.Redis
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    seen: dict[type[Message], list[Message]] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def got(self, kind: type[Message]) -> list[Message]:
        return self.seen.setdefault(kind, [])

    async def collect(self, delivery: Delivery) -> None:
        self.got(type(delivery.message)).append(delivery.message)

    async def start_service(self) -> asyncio.Event:
        stop = asyncio.Event()
        self.tasks.append(asyncio.create_task(serve(self.settings, stop)))
        return stop


async def until(condition: Callable[[], Awaitable[bool] | bool], what: str, within_s: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        done = condition()
        if done if isinstance(done, bool) else await done:
            return
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def fills_applied() -> float:
    return REGISTRY.get_sample_value("risk_fills_applied_total", {"source": "report"}) or 0.0


def gave_up_waiting() -> float:
    labels = {"reason": "timeout"}
    return REGISTRY.get_sample_value("risk_signals_decided_with_due_orders_total", labels) or 0.0


@pytest.fixture
async def rig(
    kafka_bootstrap: str,
    redis_url: str,
    fresh_database_url: str,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Rig]:
    monkeypatch.setenv(NAMESPACE_ENV, f"test-risk-{unique}")
    await apply_migrations(fresh_database_url)
    settings = RiskSettings(
        http_port=0,
        kafka_bootstrap=kafka_bootstrap,
        redis_url=redis_url,
        database_url=fresh_database_url,
        risk_signals_group=f"risk-signals-{unique}",
        risk_reports_group=f"risk-reports-{unique}",
        risk_commands_group=f"risk-commands-{unique}",
        risk_max_gross_exposure=Decimal(50_000),
        risk_fill_wait_s=1.0,  # the real wait, shorter: some tests leave an order unanswered
    )
    bus = connect(kafka_bootstrap, redis_url)
    names = ("trading.signals", "execution.reports", "risk.decisions", "audit.logs", "execution.orders")
    for name in (*names, "ops.commands"):
        await bus.ensure_channel(channel(name))
    pool = await create_pool(fresh_database_url, max_size=2)
    client = aioredis.from_url(redis_url)
    made = Rig(settings, pool, bus, client)
    for name in ("risk.decisions", "audit.logs", "execution.orders"):
        subscription = bus.subscribe(channel(name), group=f"test-{unique}", consumer="test")
        made.tasks.append(asyncio.create_task(subscription.run(made.collect, made.stop)))
    try:
        yield made
    finally:
        made.stop.set()
        for task in made.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 30)
        await client.delete(KillSwitch(client).key)
        await client.aclose()
        await bus.close()
        await pool.close()


async def test_signals_become_orders_fills_move_positions_and_the_kill_switch_stops_orders(rig: Rig) -> None:
    service_stop = await rig.start_service()
    try:
        signals = channel("trading.signals")
        first = make_signal(price="100", ts_event=T0)
        await rig.bus.publish(signals, first)
        await until(lambda: len(rig.got(OrderRequest)) == 1, "the first order on execution.orders")
        [order] = rig.got(OrderRequest)
        assert isinstance(order, OrderRequest)
        assert (order.quantity, order.origin, order.signal_event_id) == (
            "100",
            ORDER_ORIGIN_SIGNAL,
            first.event_id,
        )
        row = await rig.pool.fetchrow(
            "SELECT outcome, quantity, origin, side, signal_event_id::text AS sig "
            "FROM trading.risk_decisions WHERE client_order_id = $1",
            order.client_order_id,
        )
        assert row is not None
        assert dict(row) == {
            "outcome": "APPROVED",
            "quantity": Decimal(100),
            "origin": "SIGNAL",
            "side": "BUY",
            "sig": first.event_id,
        }
        assert (
            await rig.pool.fetchval("SELECT action FROM trading.signals WHERE event_id = $1", first.event_id)
            == "BUY"
        )
        account = await rig.pool.fetchrow(
            "SELECT initial_cash, quote_asset FROM trading.accounts WHERE account = 'paper'"
        )
        assert account is not None and (account["initial_cash"], account["quote_asset"]) == (
            Decimal(100_000),
            "USD",
        )

        # Execution filled 60 of it: the next BUY only tops the position up to the 100-unit target.
        before = fills_applied()
        await rig.bus.publish(
            channel("execution.reports"), fill_report(quantity="60", fill_id=f"{order.client_order_id}:1")
        )
        await until(lambda: fills_applied() > before, "the fill applied")
        await rig.bus.publish(signals, make_signal(ts_event=T0 + 86_400 * 10**9))
        await until(lambda: len(rig.got(OrderRequest)) == 2, "the second order")
        assert rig.got(OrderRequest)[1].quantity == "40"  # type: ignore[attr-defined]

        await KillSwitch(rig.redis).set(True, actor="test", reason="integration test")
        killed = make_signal(ts_event=T0 + 2 * 86_400 * 10**9)
        await rig.bus.publish(signals, killed)
        await until(lambda: len(rig.got(AuditEvent)) == 1, "the rejection's audit event")
        [audit] = rig.got(AuditEvent)
        assert isinstance(audit, AuditEvent)
        assert (audit.action, audit.attributes["reason"]) == (
            "risk.order_rejected",
            "RISK_REASON_KILL_SWITCH",
        )
        assert audit.causation_event_id == killed.event_id
        await until(lambda: len(rig.got(RiskDecision)) == 3, "three decisions")
        decisions = [d for d in rig.got(RiskDecision) if isinstance(d, RiskDecision)]
        assert RiskReason.Name(decisions[-1].reason) == "RISK_REASON_KILL_SWITCH"
        assert len(rig.got(OrderRequest)) == 2
        stored = await rig.pool.fetchval(
            "SELECT reason FROM trading.risk_decisions WHERE signal_event_id = $1", uuid.UUID(killed.event_id)
        )
        assert stored == "RISK_REASON_KILL_SWITCH"
    finally:
        service_stop.set()


async def _store_fill(pool: asyncpg.Pool, client_order_id: str, quantity: str, price: str) -> None:
    """What execution writes for a filled order: its trading.orders row and one trading.fills row."""
    order_id = await pool.fetchval(
        "INSERT INTO trading.orders (client_order_id, account, symbol, side, order_type, quantity, "
        "status, filled_quantity, venue, request_event_id, ts_event) "
        "VALUES ($1, 'paper', 'BTC/USDT', 'BUY', 'MARKET', $2, 'FILLED', $2, 'test', gen_random_uuid(), $3) "
        "RETURNING order_id",
        client_order_id,
        Decimal(quantity),
        ns_to_datetime(T0),
    )
    await pool.execute(
        "INSERT INTO trading.fills (order_id, trade_id, ts, account, symbol, side, quantity, price, fee, "
        "fee_asset, report_event_id) "
        "VALUES ($1, $2, $3, 'paper', 'BTC/USDT', 'BUY', $4, $5, 0, 'USD', gen_random_uuid())",
        order_id,
        f"{client_order_id}:1",
        ns_to_datetime(T0),
        Decimal(quantity),
        Decimal(price),
    )


async def test_a_restart_rebuilds_positions_from_the_stored_fills(rig: Rig) -> None:
    await _store_fill(rig.pool, "earlier-order", "70", "100")
    # The same fill also arrives on execution.reports: applied once, not twice.
    await rig.bus.publish(channel("execution.reports"), fill_report(quantity="70", fill_id="earlier-order:1"))
    service_stop = await rig.start_service()
    try:
        await rig.bus.publish(
            channel("trading.signals"), make_signal(price="100", ts_event=T0 + 86_400 * 10**9)
        )
        await until(lambda: len(rig.got(OrderRequest)) == 1, "the order after the restart")
        assert rig.got(OrderRequest)[0].quantity == "30"  # type: ignore[attr-defined]  # 100 target - 70 held
    finally:
        service_stop.set()


async def test_a_restart_remembers_orders_execution_has_not_finished(rig: Rig) -> None:
    """An approved order still in the stream (no trading.orders row) counts after a restart: no rebuy."""
    service_stop = await rig.start_service()
    try:
        await rig.bus.publish(channel("trading.signals"), make_signal(price="100", ts_event=T0))
        await until(lambda: len(rig.got(OrderRequest)) == 1, "the first order")
    finally:
        service_stop.set()
        await asyncio.wait_for(rig.tasks.pop(), 30)
    service_stop = await rig.start_service()
    waits = gave_up_waiting()
    try:
        again = make_signal(price="100", ts_event=T0 + 86_400 * 10**9)
        await rig.bus.publish(channel("trading.signals"), again)
        await until(lambda: len(rig.got(RiskDecision)) == 2, "the decision after the restart")
        decision = rig.got(RiskDecision)[-1]
        assert isinstance(decision, RiskDecision)
        assert RiskReason.Name(decision.reason) == "RISK_REASON_ZERO_QUANTITY"
        assert len(rig.got(OrderRequest)) == 1
        assert gave_up_waiting() == waits + 1  # the reloaded order kept its bar: the signal awaited it
    finally:
        service_stop.set()


async def test_side_by_side_accounts_each_trade_only_their_strategy_s_signals(rig: Rig) -> None:
    """Two risk instances, one account and one consumer group each, read the one signals topic."""
    stops = []
    for account, strategies in (("acct-sma", "sma_cross"), ("acct-rsi", 'rsi_reversion:{"period":14}')):
        settings = rig.settings.model_copy(
            update={
                "risk_account": account,
                "risk_strategies": strategies,
                "risk_signals_group": f"{rig.settings.risk_signals_group}-{account}",
                "risk_reports_group": f"{rig.settings.risk_reports_group}-{account}",
                "risk_commands_group": f"{rig.settings.risk_commands_group}-{account}",
            }
        )
        stop = asyncio.Event()
        rig.tasks.append(asyncio.create_task(serve(settings, stop)))
        stops.append(stop)
    try:
        sent = {}
        for strategy_id in ('sma_cross:{"fast":10,"slow":50}', 'rsi_reversion:{"period":14}', "macd:{}"):
            signal = make_signal(seed=strategy_id)
            signal.strategy_id = strategy_id
            await rig.bus.publish(channel("trading.signals"), signal)
            sent[strategy_id] = signal.event_id
        await until(lambda: len(rig.got(OrderRequest)) >= 2, "an order from each account")
        await asyncio.sleep(1.0)  # room for a wrong third order to show up
        orders = {o.account: o.signal_event_id for o in rig.got(OrderRequest) if isinstance(o, OrderRequest)}
        assert len(rig.got(OrderRequest)) == 2
        assert orders == {
            "acct-sma": sent['sma_cross:{"fast":10,"slow":50}'],
            "acct-rsi": sent['rsi_reversion:{"period":14}'],
        }
        stored = await rig.pool.fetch("SELECT event_id::text AS id FROM trading.signals")
        assert sorted(r["id"] for r in stored) == sorted(orders.values()), "macd's signal is no one's"
    finally:
        for stop in stops:
            stop.set()


async def test_the_controller_pauses_the_account_and_a_flatten_still_closes_it(rig: Rig) -> None:
    control = RedisControl(rig.redis)
    service_stop = await rig.start_service()
    try:
        signals = channel("trading.signals")
        await rig.bus.publish(signals, make_signal(price="100", ts_event=T0))
        await until(lambda: len(rig.got(OrderRequest)) == 1, "the first order")
        [order] = rig.got(OrderRequest)
        assert isinstance(order, OrderRequest)
        await rig.bus.publish(
            channel("execution.reports"), fill_report(quantity="100", fill_id=f"{order.client_order_id}:1")
        )
        await control.apply(Process.RISK, "paper", Action.PAUSE, actor="ops", reason="maintenance")
        await rig.bus.publish(signals, make_signal(price="100", ts_event=T0 + 86_400 * 10**9))
        await until(lambda: len(rig.got(RiskDecision)) == 2, "the paused decision")
        paused = rig.got(RiskDecision)[1]
        assert isinstance(paused, RiskDecision)
        assert RiskReason.Name(paused.reason) == "RISK_REASON_TRADING_PAUSED"
        assert paused.reason_text == "risk for paper is paused: maintenance"

        flatten = OperatorCommand(
            event_id=str(uuid.uuid4()), ts_event=T0 + 86_400 * 10**9, actor="ops", reason="close it all",
            flatten=Flatten(account="paper"),
        )  # fmt: skip
        await rig.bus.publish(channel("ops.commands"), flatten)
        await until(lambda: len(rig.got(OrderRequest)) == 2, "the flatten order")
        closing = rig.got(OrderRequest)[1]
        assert isinstance(closing, OrderRequest)
        assert (closing.side, closing.quantity, closing.requested_by) == (2, "100", "ops")
        stored = await rig.pool.fetchval(
            "SELECT outcome FROM trading.risk_decisions WHERE client_order_id = $1", closing.client_order_id
        )
        assert stored == "APPROVED"
    finally:
        service_stop.set()
        keys = await rig.redis.keys(control_key("*"))
        if keys:
            await rig.redis.delete(*keys)
