"""The execution service in-process for integration tests and benches: start / stop it with any
venue, and collect every execution report it publishes (the `harness` fixture builds one on the
real Redis, Kafka and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_execution.paper_venue import PaperVenue
from kestrel_execution.service import serve
from kestrel_execution.settings import ExecutionSettings
from kestrel_execution.venue import Venue
from kestrel_messaging import Delivery
from kestrel_messaging.kafka import KafkaBus
from kestrel_messaging.redis_streams import RedisStreamBus
from kestrel_platform.control_store import RedisControl


async def until(condition: Callable[[], object], timeout_s: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout_s}s")


class Harness:
    """Start/stop the service, publish orders and bars, collect every report."""

    def __init__(self, settings: ExecutionSettings, kafka: KafkaBus, streams: RedisStreamBus) -> None:
        self.settings, self.kafka, self.streams = settings, kafka, streams
        self.reports: list[ExecutionReport] = []
        self._service: tuple[asyncio.Event, asyncio.Task[None]] | None = None

    async def collect(self, delivery: Delivery) -> None:
        assert isinstance(delivery.message, ExecutionReport)
        self.reports.append(delivery.message)

    @property
    def control(self) -> RedisControl:
        """The production controller's board the service obeys (the test's channel namespace)."""
        return RedisControl(self.streams.client)

    def of(self, client_order_id: str) -> list[tuple[int, int]]:
        return [(r.sequence, r.status) for r in self.reports if r.client_order_id == client_order_id]

    def start(self, venue: Venue | None = None) -> None:
        stop = asyncio.Event()
        chosen = venue or PaperVenue(self.settings.paper_config(), self.settings.bars_consumer_group)
        self._service = (stop, asyncio.create_task(serve(self.settings, stop, chosen)))

    async def stop(self) -> None:
        assert self._service is not None
        stop, task = self._service
        stop.set()
        await asyncio.wait_for(task, 30)  # a graceful stop returns (raises if the service crashed)
        self._service = None
