"""The production controller's board in Redis, and an in-memory twin for unit tests.

Redis is the authority, like the kill switch: the gateway writes a command there before it answers,
so whatever a process decides afterwards sees it, and the state survives restarts of every service.
A change is a WATCHed read-modify-write (an operator's resume racing an automated halt cannot both
win), and each lands in a capped history stream as it is made. Keys carry the channel namespace so
deployments sharing one Redis never steer each other.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from kestrel_contracts.registry import namespace
from kestrel_platform.control import (
    Action,
    Board,
    Change,
    Mode,
    Override,
    Process,
    ProcessRecord,
    RunWindow,
    State,
    TransitionError,
    transition,
)

HISTORY_LENGTH = 1000


class ControlStore(Protocol):
    async def board(self) -> Board: ...

    async def apply(
        self,
        process: Process,
        scope: str,
        action: Action,
        *,
        actor: str,
        reason: str,
        automated: bool = False,
    ) -> Change: ...

    async def halt(self, process: Process, scope: str, *, actor: str, reason: str) -> Change | None: ...

    async def set_window(self, process: Process, window: RunWindow) -> None: ...

    async def set_mode(
        self, account: str, symbol: str, mode: Mode, *, actor: str, reason: str
    ) -> Override: ...

    async def history(self, limit: int = 100) -> list[Change]: ...


def control_key(name: str) -> str:
    ns = namespace()
    return f"{ns}.kestrel:control:{name}" if ns else f"kestrel:control:{name}"


def _field(a: str, b: str) -> str:
    return f"{a}|{b}"


def record_json(record: ProcessRecord) -> str:
    return json.dumps(
        {"state": record.state.value, "actor": record.actor, "reason": record.reason,
         "changed_at_ns": record.changed_at_ns, "automated": record.automated}
    )  # fmt: skip


def _record(field: str, raw: str) -> ProcessRecord:
    process, _, scope = field.partition("|")
    data = json.loads(raw)
    return ProcessRecord(
        Process(process), scope, State(data["state"]), data["actor"], data["reason"],
        int(data["changed_at_ns"]), bool(data["automated"]),
    )  # fmt: skip


def _override(field: str, raw: str) -> Override:
    account, _, symbol = field.partition("|")
    data = json.loads(raw)
    return Override(
        account, symbol, Mode(data["mode"]), data["actor"], data["reason"], int(data["changed_at_ns"])
    )


def override_json(override: Override) -> str:
    return json.dumps(
        {"mode": override.mode.value, "actor": override.actor, "reason": override.reason,
         "changed_at_ns": override.changed_at_ns}
    )  # fmt: skip


def change_json(change: Change) -> str:
    return json.dumps(
        {"process": change.process.value, "scope": change.scope, "action": change.action.value,
         "before": change.before.value, "after": change.after.value, "actor": change.actor,
         "reason": change.reason, "at_ns": change.at_ns, "automated": change.automated}
    )  # fmt: skip


def _change(raw: str) -> Change:
    d = json.loads(raw)
    return Change(
        Process(d["process"]), d["scope"], Action(d["action"]), State(d["before"]), State(d["after"]),
        d["actor"], d["reason"], int(d["at_ns"]), bool(d["automated"]),
    )  # fmt: skip


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _board(processes: dict[Any, Any], windows: dict[Any, Any], overrides: dict[Any, Any]) -> Board:
    records = [_record(_text(k), _text(v)) for k, v in processes.items()]
    modes = [_override(_text(k), _text(v)) for k, v in overrides.items()]
    return Board(
        {(r.process, r.scope): r for r in records},
        {Process(_text(k)): RunWindow.parse(_text(v)) for k, v in windows.items()},
        {(o.account, o.symbol): o for o in modes if o.mode is not Mode.NORMAL},
    )


class _HaltsOnce:
    """What both boards do alike, on top of their own `board`, `apply` and `_put_mode`."""

    _clock: Callable[[], int]

    async def board(self) -> Board:
        raise NotImplementedError

    async def apply(
        self,
        process: Process,
        scope: str,
        action: Action,
        *,
        actor: str,
        reason: str,
        automated: bool = False,
    ) -> Change:
        raise NotImplementedError

    async def _put_mode(self, field: str, raw: str) -> None:
        raise NotImplementedError

    async def halt(self, process: Process, scope: str, *, actor: str, reason: str) -> Change | None:
        """An automated halt, once: None when already halted (the first reason stands)."""
        if (await self.board()).record(process, scope).state is State.HALTED:
            return None
        try:
            return await self.apply(process, scope, Action.HALT, actor=actor, reason=reason, automated=True)
        except TransitionError:
            if (await self.board()).record(process, scope).state is State.HALTED:
                return None  # halted by someone else in the meantime
            raise

    async def set_mode(self, account: str, symbol: str, mode: Mode, *, actor: str, reason: str) -> Override:
        override = Override(account, symbol, mode, actor, reason, self._clock())
        await self._put_mode(_field(account, symbol), override_json(override))
        return override


class RedisControl(_HaltsOnce):
    def __init__(self, client: aioredis.Redis, *, clock: Callable[[], int] = time.time_ns) -> None:
        self._client, self._clock = client, clock
        self._processes, self._windows = control_key("processes"), control_key("windows")
        self._overrides, self._history = control_key("overrides"), control_key("history")

    @classmethod
    def from_url(cls, url: str) -> RedisControl:
        """A board on its own connection (close it with `aclose`)."""
        return cls(aioredis.from_url(url))

    async def aclose(self) -> None:
        await self._client.aclose()

    async def board(self) -> Board:
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._processes)
            pipe.hgetall(self._windows)
            pipe.hgetall(self._overrides)
            processes, windows, overrides = await pipe.execute()
        return _board(processes, windows, overrides)

    async def apply(
        self,
        process: Process,
        scope: str,
        action: Action,
        *,
        actor: str,
        reason: str,
        automated: bool = False,
    ) -> Change:
        field = _field(process.value, scope)
        while True:
            async with self._client.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(self._processes)
                    raw = await pipe.hget(self._processes, field)
                    current = _record(field, _text(raw)) if raw else ProcessRecord(process, scope)
                    updated, change = transition(
                        current, action, actor=actor, reason=reason, at_ns=self._clock(), automated=automated
                    )
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.hset(self._processes, field, record_json(updated))
                    pipe.xadd(
                        self._history,
                        {"change": change_json(change)},
                        maxlen=HISTORY_LENGTH,
                        approximate=True,
                    )
                    await pipe.execute()
                    return change
                except WatchError:
                    continue  # another change landed between the read and the write: judge again

    async def set_window(self, process: Process, window: RunWindow) -> None:
        if window.always:
            await self._client.hdel(self._windows, process.value)
        else:
            await self._client.hset(self._windows, process.value, window.text)

    async def _put_mode(self, field: str, raw: str) -> None:
        await self._client.hset(self._overrides, field, raw)

    async def history(self, limit: int = 100) -> list[Change]:
        entries = await self._client.xrevrange(self._history, count=limit) or []
        texts = [{_text(k): _text(v) for k, v in (fields or {}).items()} for _, fields in entries]
        return [_change(fields["change"]) for fields in texts if "change" in fields]


class InMemoryControl(_HaltsOnce):
    """The same board in a dict, for unit tests (it passes the Redis adapter's contract tests)."""

    def __init__(self, *, clock: Callable[[], int] = time.time_ns) -> None:
        self._clock = clock
        self._processes: dict[str, str] = {}
        self._windows: dict[str, str] = {}
        self._overrides: dict[str, str] = {}
        self._history: list[str] = []

    async def board(self) -> Board:
        return _board(self._processes, self._windows, self._overrides)

    async def apply(
        self,
        process: Process,
        scope: str,
        action: Action,
        *,
        actor: str,
        reason: str,
        automated: bool = False,
    ) -> Change:
        field = _field(process.value, scope)
        raw = self._processes.get(field)
        current = _record(field, raw) if raw else ProcessRecord(process, scope)
        updated, change = transition(
            current, action, actor=actor, reason=reason, at_ns=self._clock(), automated=automated
        )
        self._processes[field] = record_json(updated)
        self._history = [*self._history, change_json(change)][-HISTORY_LENGTH:]
        return change

    async def set_window(self, process: Process, window: RunWindow) -> None:
        if window.always:
            self._windows.pop(process.value, None)
        else:
            self._windows[process.value] = window.text

    async def _put_mode(self, field: str, raw: str) -> None:
        self._overrides[field] = raw

    async def history(self, limit: int = 100) -> list[Change]:
        return [_change(raw) for raw in reversed(self._history[-limit:])]
