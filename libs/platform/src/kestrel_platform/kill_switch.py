"""The global kill switch: one Redis hash that the gateway writes and risk (and execution) read.

It lives in Redis, not in a process, so it survives restarts of every service and all replicas of
risk see the same state. The gateway sets it synchronously before answering, so once
`POST /api/risk/kill-switch` returned, every signal risk decides afterwards sees it engaged: new
orders stop within one bar. The key carries the channel namespace so parallel deployments (and
tests) sharing one Redis do not stop each other.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from kestrel_contracts.registry import namespace


def kill_switch_key() -> str:
    ns = namespace()
    return f"{ns}.kestrel:risk:kill_switch" if ns else "kestrel:risk:kill_switch"


@dataclass(frozen=True, slots=True)
class KillSwitchState:
    engaged: bool
    actor: str = ""
    reason: str = ""
    changed_at_ns: int = 0


class KillSwitch:
    """Read and set the switch. Absent key = released (a fresh deployment trades)."""

    def __init__(self, client: aioredis.Redis, key: str | None = None) -> None:
        self._client = client
        self.key = key or kill_switch_key()

    async def state(self) -> KillSwitchState:
        raw = await self._client.hgetall(self.key)
        if not raw:
            return KillSwitchState(engaged=False)
        fields = {_text(k): _text(v) for k, v in raw.items()}
        return KillSwitchState(
            engaged=fields.get("engaged") == "1",
            actor=fields.get("actor", ""),
            reason=fields.get("reason", ""),
            changed_at_ns=int(fields.get("changed_at_ns", "0")),
        )

    async def engaged(self) -> bool:
        return await self._client.hget(self.key, "engaged") in (b"1", "1")

    async def set(self, engaged: bool, actor: str, reason: str) -> KillSwitchState:
        state = KillSwitchState(engaged, actor, reason, time.time_ns())
        mapping: dict[Any, Any] = {
            "engaged": "1" if engaged else "0",
            "actor": actor,
            "reason": reason,
            "changed_at_ns": str(state.changed_at_ns),
        }
        await self._client.hset(self.key, mapping=mapping)
        return state


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
