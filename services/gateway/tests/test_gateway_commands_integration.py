"""What the gateway publishes: the kill switch (Redis + ops.commands + audit.logs) and manual orders."""

from __future__ import annotations

import aiohttp
import pytest
import redis.asyncio as aioredis

from kestrel_contracts.registry import channel
from kestrel_contracts.v1.audit_event_pb2 import AuditEvent
from kestrel_contracts.v1.operator_command_pb2 import OperatorCommand
from kestrel_contracts.v1.order_request_pb2 import ORDER_ORIGIN_MANUAL
from kestrel_gateway.keys import Role
from kestrel_gateway.testing import Gateway
from kestrel_messaging import ConsumerOptions, Delivery
from kestrel_messaging.kafka import KafkaBus
from kestrel_platform.kill_switch import KillSwitch
from kestrel_testing.messaging import consume_until

pytestmark = pytest.mark.integration


async def _published(bootstrap: str, name: str, count: int, unique: str) -> list[Delivery]:
    bus = KafkaBus(bootstrap, client_id=f"test-{unique}")
    try:
        subscription = bus.subscribe(
            channel(name), group=f"test-{name}-{unique}", consumer="test", options=ConsumerOptions()
        )
        return await consume_until(subscription, count, within_s=30)
    finally:
        await bus.close()


async def test_the_kill_switch_sets_redis_then_publishes_the_command_and_an_audit_event(
    gateway: Gateway, http: aiohttp.ClientSession, redis_url: str, kafka_bootstrap: str, unique: str
) -> None:
    body = {"engaged": True, "reason": "runaway model"}
    async with http.post(
        f"{gateway.url}/api/risk/kill-switch", json=body, headers=gateway.headers(Role.ADMIN)
    ) as response:
        assert response.status == 200
        answer = await response.json()
    admin_id = gateway.key_ids[Role.ADMIN]
    assert answer["engaged"] is True and answer["published"] == {"command": True, "audit": True}

    client = aioredis.Redis.from_url(redis_url)
    try:
        state = await KillSwitch(client).state()  # the namespaced key risk reads
    finally:
        await client.aclose()
    assert (state.engaged, state.actor, state.reason) == (True, admin_id, "runaway model")

    async with http.get(
        f"{gateway.url}/api/risk/kill-switch", headers=gateway.headers(Role.VIEWER)
    ) as response:
        assert (await response.json())["engaged"] is True

    [command_delivery] = await _published(kafka_bootstrap, "ops.commands", 1, unique)
    command = command_delivery.message
    assert isinstance(command, OperatorCommand)
    assert command.WhichOneof("command") == "kill_switch" and command.kill_switch.engaged
    assert (command.actor, command.reason, command.event_id) == (
        admin_id,
        "runaway model",
        answer["command_event_id"],
    )
    [audit_delivery] = await _published(kafka_bootstrap, "audit.logs", 1, unique)
    audit = audit_delivery.message
    assert isinstance(audit, AuditEvent)
    assert (audit.action, audit.actor, audit.causation_event_id) == (
        "kill_switch.engaged",
        admin_id,
        command.event_id,
    )


async def test_a_manual_order_is_published_to_risk_as_an_operator_command(
    gateway: Gateway, http: aiohttp.ClientSession, kafka_bootstrap: str, unique: str
) -> None:
    order = {"symbol": "BTC/USDT", "side": "BUY", "quantity": "0.25", "reference_price": "30000.5"}
    headers = {**gateway.headers(Role.TRADER), "Idempotency-Key": "order-1"}
    answers = []
    for _ in range(2):  # a retried request names the same order
        async with http.post(f"{gateway.url}/api/orders", json=order, headers=headers) as response:
            assert response.status == 202
            answers.append(await response.json())
    assert answers[0]["client_order_id"] == answers[1]["client_order_id"]
    assert answers[0]["account"] == "paper"

    commands = await _published(kafka_bootstrap, "ops.commands", 2, unique)
    requests = [d.message.submit_order for d in commands if isinstance(d.message, OperatorCommand)]
    assert len(requests) == 2
    request = requests[0]
    assert request.client_order_id == answers[0]["client_order_id"]
    assert (request.origin, request.requested_by) == (ORDER_ORIGIN_MANUAL, gateway.key_ids[Role.TRADER])
    assert (request.symbol, request.quantity, request.reference_price, request.account) == (
        "BTC/USDT",
        "0.25",
        "30000.5",
        "paper",
    )
    assert requests[1].event_id == request.event_id  # the repeat is recognisable downstream
