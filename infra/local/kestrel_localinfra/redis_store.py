"""Redis 7 with an append-only file in its own directory."""

from __future__ import annotations

import shutil

import redis

from . import install
from .base import Server
from .render import redis_conf
from .settings import InfraError


class RedisStore(Server):
    name = "redis"
    port_fields = ("redis",)
    ready_timeout = 30.0

    def missing_packages(self) -> list[str]:
        return install.missing_commands({"redis-server": "redis-server"})

    def prepare(self) -> None:
        super().prepare()
        (self.data_dir / "redis.conf").write_text(redis_conf(self.cfg, self.data_dir))

    def command(self) -> list[str]:
        return [shutil.which("redis-server") or "redis-server", str(self.data_dir / "redis.conf")]

    def probe(self) -> None:
        client = redis.Redis(
            host=self.cfg.host, port=self.cfg.ports.redis, socket_timeout=2, socket_connect_timeout=2
        )
        try:
            if client.ping() is not True:  # answers LOADING (an error) while it replays the AOF
                raise InfraError("PING did not answer PONG")
        finally:
            client.close()
