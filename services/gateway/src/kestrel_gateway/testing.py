"""Helpers for the gateway's integration tests (and anyone driving a gateway in-process)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kestrel_gateway.keys import Role
from kestrel_gateway.settings import GatewaySettings

__all__ = ["Gateway", "free_port", "until"]


@dataclass
class Gateway:
    """A running gateway: its base URL, settings, and one full key (and its id) per role."""

    url: str
    settings: GatewaySettings
    keys: dict[Role, str]
    key_ids: dict[Role, str]

    def headers(self, role: Role) -> dict[str, str]:
        return {"X-API-Key": self.keys[role]}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def until(condition: Callable[[], Awaitable[bool]], timeout_s: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout_s}s")
