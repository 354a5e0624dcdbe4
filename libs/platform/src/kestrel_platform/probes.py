"""Readiness probes for the infrastructure a service depends on: Kafka, Redis, PostgreSQL, HTTP.

Each factory returns a `ReadinessCheck` for `HealthServer`: an async callable that returns when the
dependency answered a real request (metadata, PING, `SELECT 1`, a REST call) and raises when it did
not. Every call opens its own short-lived connection and closes it, so a probe holds nothing between
calls and needs no shutdown; readiness is polled every few seconds, where a connection costs nothing
worth keeping. Each probe has its own timeout, shorter than the HealthServer's, so a hung dependency
never leaves a thread or a socket behind after /ready has answered.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import redis.asyncio as aioredis
from confluent_kafka.admin import AdminClient

from kestrel_platform.health import DEFAULT_CHECK_TIMEOUT_S, ReadinessCheck

__all__ = ["PROBE_TIMEOUT_S", "http_probe", "kafka_probe", "mlflow_probe", "postgres_probe", "redis_probe"]

# Below the HealthServer's own timeout, so the probe reports its dependency's error, not a timeout.
PROBE_TIMEOUT_S = DEFAULT_CHECK_TIMEOUT_S * 0.75

# librdkafka logs every refused connection (dozens a second) straight to stderr, bypassing our JSON
# logs; the probe's exception already says the broker is unreachable, so keep only critical logs.
_RDKAFKA_LOG_CRITICAL = 2


def kafka_probe(bootstrap: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> ReadinessCheck:
    """Passes when a broker of `bootstrap` answers a metadata request (and lists at least one broker)."""

    def fetch_metadata() -> None:
        admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": _RDKAFKA_LOG_CRITICAL})
        metadata = admin.list_topics(timeout=timeout_s)
        if not metadata.brokers:
            raise RuntimeError(f"Kafka at {bootstrap} returned metadata without brokers")

    async def check() -> None:
        # list_topics blocks in librdkafka; a thread keeps the event loop (and /health) responsive.
        await asyncio.to_thread(fetch_metadata)

    return check


def redis_probe(url: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> ReadinessCheck:
    """Passes when the Redis server at `url` answers PING."""

    async def check() -> None:
        client = aioredis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        try:
            if not await client.ping():
                raise RuntimeError(f"Redis at {_without_password(url)} did not answer PONG")
        finally:
            await client.aclose()

    return check


def postgres_probe(dsn: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> ReadinessCheck:
    """Passes when PostgreSQL at `dsn` accepts a connection and runs `SELECT 1`."""

    async def check() -> None:
        connection = await asyncpg.connect(dsn, timeout=timeout_s)
        try:
            value = await connection.fetchval("SELECT 1", timeout=timeout_s)
        finally:
            await connection.close(timeout=timeout_s)
        if value != 1:
            raise RuntimeError(f"PostgreSQL at {_without_password(dsn)} answered {value!r} to SELECT 1")

    return check


def http_probe(url: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> ReadinessCheck:
    """Passes when GET `url` answers with a status below 400."""

    async def check() -> None:
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
            if response.status >= 400:
                raise RuntimeError(f"GET {url} answered HTTP {response.status}")

    return check


def mlflow_probe(tracking_uri: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> ReadinessCheck:
    """Passes when the MLflow tracking server answers a REST call that reads its backend store.

    MLflow's /health answers even when the backend store is down or the Host header is rejected,
    so the probe searches experiments instead: that is what a client will do next.
    """
    if urlsplit(tracking_uri).scheme not in {"http", "https"}:
        raise ValueError(f"MLflow readiness needs a tracking server URL (http/https), got {tracking_uri!r}")
    base = tracking_uri.rstrip("/")
    return http_probe(f"{base}/api/2.0/mlflow/experiments/search?max_results=1", timeout_s=timeout_s)


def _without_password(url: str) -> str:
    """`url` with any password masked, for error messages that end up in /ready and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
