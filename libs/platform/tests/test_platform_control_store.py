"""One contract for the controller's board: Redis (the real adapter) and the in-memory twin."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from kestrel_platform.control import ALL, Action, Mode, Process, RunWindow, State, TransitionError
from kestrel_platform.control_store import ControlStore, InMemoryControl, RedisControl


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
async def control(
    request: pytest.FixtureRequest, unique: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ControlStore]:
    ticks = itertools.count(1_000)
    if request.param == "memory":
        yield InMemoryControl(clock=lambda: next(ticks))
        return
    monkeypatch.setenv("KESTREL_CHANNEL_NAMESPACE", f"t{unique}")
    client = aioredis.Redis.from_url(request.getfixturevalue("redis_url"))
    try:
        yield RedisControl(client, clock=lambda: next(ticks))
    finally:
        keys = await client.keys(f"t{unique}.kestrel:control:*")
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_a_fresh_board_runs_everything(control: ControlStore) -> None:
    board = await control.board()
    assert board.effective(Process.RISK, "acct", 0).running and await control.history() == []


async def test_changes_are_stored_in_order_and_read_back(control: ControlStore) -> None:
    await control.apply(Process.RISK, "acct", Action.PAUSE, actor="ops", reason="drill")
    await control.apply(Process.RISK, "acct", Action.RESUME, actor="ops", reason="done")
    halted = await control.apply(Process.INGESTION, ALL, Action.HALT, actor="ops", reason="bad feed")
    board = await control.board()
    assert board.record(Process.RISK, "acct").state is State.RUNNING
    ingestion = board.record(Process.INGESTION, ALL)
    assert (ingestion.state, ingestion.actor, ingestion.reason) == (State.HALTED, "ops", "bad feed")
    assert board.effective(Process.SIGNALS, "acct", 0).state is State.HALTED
    history = await control.history()
    assert [c.action for c in history] == [Action.HALT, Action.RESUME, Action.PAUSE]
    assert history[0] == halted and [c.at_ns for c in history] == sorted(
        (c.at_ns for c in history), reverse=True
    )
    assert len(await control.history(limit=1)) == 1


async def test_a_refused_action_changes_nothing(control: ControlStore) -> None:
    with pytest.raises(TransitionError):
        await control.apply(Process.RISK, "acct", Action.RESUME, actor="ops", reason="x")
    assert (await control.board()).records == {} and await control.history() == []


async def test_an_automated_halt_happens_once_and_keeps_its_first_reason(control: ControlStore) -> None:
    first = await control.halt(Process.EXECUTION, ALL, actor="execution.controller", reason="venue errors")
    again = await control.halt(Process.EXECUTION, ALL, actor="execution.controller", reason="more errors")
    assert first is not None and first.automated and again is None
    record = (await control.board()).record(Process.EXECUTION, ALL)
    assert (record.state, record.reason, record.automated) == (State.HALTED, "venue errors", True)
    assert len(await control.history()) == 1


async def test_concurrent_halts_of_one_process_leave_one_change(control: ControlStore) -> None:
    results = await asyncio.gather(
        *(control.halt(Process.RISK, "acct", actor="bot", reason=f"r{i}") for i in range(5))
    )
    assert sum(r is not None for r in results) == 1 and len(await control.history()) == 1


async def test_windows_and_modes_are_stored_and_cleared(control: ControlStore) -> None:
    await control.set_window(Process.RISK, RunWindow.parse("mon-fri 13:30-20:00"))
    override = await control.set_mode("acct", "BTCUSDT", Mode.REDUCE_ONLY, actor="ops", reason="news")
    board = await control.board()
    assert board.windows[Process.RISK].text == "mon-fri 13:30-20:00"
    assert board.mode("acct", "BTCUSDT") is Mode.REDUCE_ONLY and override.actor == "ops"
    assert board.overrides[("acct", "BTCUSDT")].reason == "news"
    await control.set_window(Process.RISK, RunWindow.parse(""))
    await control.set_mode("acct", "BTCUSDT", Mode.NORMAL, actor="ops", reason="calm")
    board = await control.board()
    assert Process.RISK not in board.windows and board.mode("acct", "BTCUSDT") is Mode.NORMAL
