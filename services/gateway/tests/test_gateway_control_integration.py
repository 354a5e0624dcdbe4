"""The production controller's API on the real gateway: Redis first, then ops.commands + audit.logs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from kestrel_contracts.registry import channel
from kestrel_contracts.v1.audit_event_pb2 import AuditEvent
from kestrel_contracts.v1.operator_command_pb2 import (
    CONTROL_ACTION_PAUSE,
    CONTROL_PROCESS_RISK,
    CONTROL_STATE_PAUSED,
    CONTROL_STATE_RUNNING,
    INSTRUMENT_MODE_CLOSE_ONLY,
    INSTRUMENT_MODE_REDUCE_ONLY,
    OperatorCommand,
)
from kestrel_gateway.keys import Role
from kestrel_gateway.testing import Gateway, gateway_without_kafka
from kestrel_messaging import ConsumerOptions
from kestrel_messaging.kafka import KafkaBus
from kestrel_platform.control import Mode, Process, State
from kestrel_platform.control_store import RedisControl
from kestrel_testing.messaging import consume_until

pytestmark = pytest.mark.integration


async def _published(bootstrap: str, name: str, count: int, unique: str) -> list[Any]:
    bus = KafkaBus(bootstrap, client_id=f"test-{unique}")
    try:
        subscription = bus.subscribe(
            channel(name), group=f"test-{name}-{unique}", consumer="test", options=ConsumerOptions()
        )
        return [d.message for d in await consume_until(subscription, count, within_s=30)]
    finally:
        await bus.close()


@pytest.fixture
async def control(redis_url: str, gateway: Gateway) -> AsyncIterator[RedisControl]:
    """The board as risk and execution read it: the namespaced keys (the gateway fixture set the
    namespace before this is built)."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield RedisControl(client)
    finally:
        await client.aclose()


async def _call(
    http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str], body: Any = None
) -> tuple[int, Any]:
    async with http.request(method, url, json=body, headers=headers) as response:
        return response.status, await response.json()


async def test_pausing_risk_for_an_account_is_stored_published_audited_and_shown(
    gateway: Gateway, http: aiohttp.ClientSession, control: RedisControl, kafka_bootstrap: str, unique: str
) -> None:
    admin, admin_id = gateway.headers(Role.ADMIN), gateway.key_ids[Role.ADMIN]
    body = {"action": "pause", "account": "acct-1", "reason": "investigating fills"}
    status, answer = await _call(http, "POST", f"{gateway.url}/api/control/processes/risk", admin, body)
    assert status == 200, answer
    assert answer["change"]["before"] == "running" and answer["change"]["after"] == "paused"
    assert answer["effective"] == {
        "state": "paused",
        "reason": "risk for acct-1 is paused: investigating fills",
    }
    assert answer["published"] == {"command": True, "audit": True}

    record = (await control.board()).record(Process.RISK, "acct-1")
    assert (record.state, record.actor, record.reason) == (State.PAUSED, admin_id, "investigating fills")

    [command] = await _published(kafka_bootstrap, "ops.commands", 1, unique)
    assert isinstance(command, OperatorCommand) and command.WhichOneof("command") == "process_control"
    control_msg = command.process_control
    assert (control_msg.process, control_msg.scope, control_msg.action) == (
        CONTROL_PROCESS_RISK,
        "acct-1",
        CONTROL_ACTION_PAUSE,
    )
    assert (control_msg.before, control_msg.after, control_msg.automated) == (
        CONTROL_STATE_RUNNING,
        CONTROL_STATE_PAUSED,
        False,
    )
    assert (command.event_id, command.actor) == (answer["command_event_id"], admin_id)
    [audit] = await _published(kafka_bootstrap, "audit.logs", 1, unique)
    assert isinstance(audit, AuditEvent)
    assert (audit.action, audit.actor, audit.account, audit.causation_event_id) == (
        "control.paused",
        admin_id,
        "acct-1",
        command.event_id,
    )

    status, board = await _call(http, "GET", f"{gateway.url}/api/control", gateway.headers(Role.VIEWER))
    assert status == 200
    risk = next(p for p in board["processes"] if p["process"] == "risk")
    assert risk["records"]["acct-1"]["state"] == "paused"
    assert risk["effective"]["acct-1"] == {
        "state": "paused",
        "reason": "risk for acct-1 is paused: investigating fills",
    }
    assert risk["effective"]["*"]["state"] == "running"

    status, history = await _call(
        http, "GET", f"{gateway.url}/api/control/history?limit=5", gateway.headers(Role.VIEWER)
    )
    assert status == 200
    assert [(c["process"], c["scope"], c["after"]) for c in history["history"]] == [
        ("risk", "acct-1", "paused")
    ]


async def test_refusals_conflict_role_key_window_and_process_name(
    gateway: Gateway, http: aiohttp.ClientSession, control: RedisControl
) -> None:
    admin = gateway.headers(Role.ADMIN)
    resume = {"action": "resume", "reason": "all clear"}
    status, answer = await _call(
        http, "POST", f"{gateway.url}/api/control/processes/execution", admin, resume
    )
    assert status == 409
    assert answer == {
        "error": "invalid_transition",
        "detail": "cannot resume execution while it is running (scope *)",
    }

    pause = {"action": "pause", "reason": "x"}
    url = f"{gateway.url}/api/control/processes/risk"
    assert (await _call(http, "POST", url, gateway.headers(Role.VIEWER), pause))[0] == 403
    assert (await _call(http, "POST", url, gateway.headers(Role.TRADER), pause))[0] == 403
    status, answer = await _call(http, "POST", url, {}, pause)
    assert status == 401 and answer["error"] == "unauthorized"
    assert (await _call(http, "GET", f"{gateway.url}/api/control", {}))[0] == 401

    status, answer = await _call(http, "POST", f"{gateway.url}/api/control/processes/pricing", admin, pause)
    assert status == 422 and answer["detail"][0]["loc"] == ["path", "process"]

    bad = {"window": "weekdays 09:00-17:00", "reason": "office hours"}
    status, answer = await _call(http, "PUT", f"{url}/window", admin, bad)
    assert status == 422 and answer["error"] == "invalid_request"
    assert answer["detail"][0]["loc"] == ["body", "window"]
    assert "'weekdays' is not a day or a day range" in answer["detail"][0]["msg"]

    board = await control.board()  # nothing refused reached the board
    assert board.records == {} and board.windows == {}


async def test_a_window_is_stored_shown_and_audited_and_cleared_by_the_empty_window(
    gateway: Gateway, http: aiohttp.ClientSession, control: RedisControl, kafka_bootstrap: str, unique: str
) -> None:
    url, admin = f"{gateway.url}/api/control/processes/signals/window", gateway.headers(Role.ADMIN)
    status, answer = await _call(http, "PUT", url, admin, {"window": "Mon-Fri 13:30-20:00", "reason": "US"})
    assert status == 200, answer
    assert (answer["window"], answer["always"], answer["published"]) == (
        "mon-fri 13:30-20:00",
        False,
        {"audit": True},
    )
    assert (await control.board()).windows[Process.SIGNALS].text == "mon-fri 13:30-20:00"
    status, board = await _call(http, "GET", f"{gateway.url}/api/control", gateway.headers(Role.VIEWER))
    assert board["windows"] == {"signals": "mon-fri 13:30-20:00"}

    status, answer = await _call(http, "PUT", url, admin, {"window": "", "reason": "24/7 from now on"})
    assert status == 200 and answer["always"] is True
    assert (await control.board()).windows == {}
    audits = await _published(kafka_bootstrap, "audit.logs", 2, unique)
    # audit.logs has several partitions: no order across them
    assert sorted((a.action, a.attributes["window"]) for a in audits) == [
        ("control.window", ""),
        ("control.window", "mon-fri 13:30-20:00"),
    ]


async def test_an_override_and_a_flatten_set_the_mode_and_publish_their_commands(
    gateway: Gateway, http: aiohttp.ClientSession, control: RedisControl, kafka_bootstrap: str, unique: str
) -> None:
    admin = gateway.headers(Role.ADMIN)
    override = {"account": "acct-1", "symbol": "ETH/USDT", "mode": "reduce_only", "reason": "too large"}
    status, answer = await _call(http, "POST", f"{gateway.url}/api/control/overrides", admin, override)
    assert status == 200, answer
    assert (answer["mode"], answer["published"]) == ("reduce_only", {"command": True, "audit": True})

    flatten = {"account": "acct-1", "symbol": "BTC/USDT", "reason": "model misbehaving"}
    answers = []
    for _ in range(2):  # a retry with the same Idempotency-Key is the same command
        status, flat = await _call(
            http,
            "POST",
            f"{gateway.url}/api/control/flatten",
            {**admin, "Idempotency-Key": "flat-1"},
            flatten,
        )
        assert status == 202, flat
        answers.append(flat)
    assert answers[0]["command_event_id"] == answers[1]["command_event_id"]
    assert answers[0]["published"] == {
        "close_only_command": True,
        "close_only_audit": True,
        "command": True,
        "audit": True,
    }
    status, everything = await _call(
        http,
        "POST",
        f"{gateway.url}/api/control/flatten",
        admin,
        {"account": "acct-2", "reason": "close all"},
    )
    assert status == 202 and everything["published"] == {"command": True, "audit": True}

    board = await control.board()
    assert board.mode("acct-1", "ETH/USDT") is Mode.REDUCE_ONLY
    assert board.mode("acct-1", "BTC/USDT") is Mode.CLOSE_ONLY
    assert board.overrides.keys() == {("acct-1", "ETH/USDT"), ("acct-1", "BTC/USDT")}  # none for acct-2

    # override, then (close-only, flatten) twice, then the flatten of every symbol of acct-2
    commands = await _published(kafka_bootstrap, "ops.commands", 6, unique)
    kinds = [c.WhichOneof("command") for c in commands]
    assert kinds == ["instrument_override", *["instrument_override", "flatten"] * 2, "flatten"]
    assert [c.instrument_override.mode for c in commands if c.HasField("instrument_override")] == [
        INSTRUMENT_MODE_REDUCE_ONLY,
        INSTRUMENT_MODE_CLOSE_ONLY,
        INSTRUMENT_MODE_CLOSE_ONLY,
    ]
    flattens = [c for c in commands if c.HasField("flatten")]
    assert [(c.flatten.account, c.flatten.symbol) for c in flattens] == [
        ("acct-1", "BTC/USDT"),
        ("acct-1", "BTC/USDT"),
        ("acct-2", ""),
    ]
    assert [c.event_id for c in flattens] == [
        answers[0]["command_event_id"],
        answers[0]["command_event_id"],
        everything["command_event_id"],
    ]
    audits = await _published(kafka_bootstrap, "audit.logs", 6, unique)
    assert sorted(a.action for a in audits) == [  # audit.logs has several partitions: no order across them
        *["control.flatten"] * 3,
        *["control.mode_close_only"] * 2,
        "control.mode_reduce_only",
    ]
    flatten_audits = [a for a in audits if a.action == "control.flatten"]
    assert sorted(a.causation_event_id for a in flatten_audits) == sorted(c.event_id for c in flattens)

    status, shown = await _call(http, "GET", f"{gateway.url}/api/control", gateway.headers(Role.VIEWER))
    assert [(o["account"], o["symbol"], o["mode"]) for o in shown["overrides"]] == [
        ("acct-1", "BTC/USDT", "close_only"),
        ("acct-1", "ETH/USDT", "reduce_only"),
    ]


async def test_when_kafka_fails_a_change_still_stands_and_a_flatten_is_503(
    migrated_database_url: str, redis_url: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KESTREL_CHANNEL_NAMESPACE", f"test-gateway-{unique}")
    async with gateway_without_kafka(migrated_database_url, redis_url, Role.ADMIN) as (base, key, client):
        url, headers = f"{base}/api/control", {"X-API-Key": key}
        async with aiohttp.ClientSession() as http:
            halt = {"action": "halt", "reason": "venue errors"}
            status, answer = await _call(http, "POST", f"{url}/processes/execution", headers, halt)
            assert status == 200 and answer["published"] == {"command": False, "audit": False}
            flatten = {"account": "acct-1", "symbol": "BTC/USDT", "reason": "exit"}
            status, refused = await _call(http, "POST", f"{url}/flatten", headers, flatten)
        assert status == 503 and refused["error"] == "publish_failed"
        assert "Idempotency-Key" in refused["detail"] and "stays close-only" in refused["detail"]
        board = await RedisControl(client).board()  # Redis is the authority: both changes stand
        assert board.record(Process.EXECUTION, "*").state is State.HALTED
        assert board.mode("acct-1", "BTC/USDT") is Mode.CLOSE_ONLY
