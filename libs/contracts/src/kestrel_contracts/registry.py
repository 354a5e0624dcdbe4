"""The one registry of every Kafka topic and Redis stream Kestrel uses.

Producers and consumers look channels up here instead of spelling topic names, so a name, key,
partition count, retention or message type is decided in exactly one place (and `make topics`
creates exactly these).

Partitioning: every symbol-keyed topic has the same partition count, so the topics are
co-partitioned: a symbol lands in the same partition number everywhere, one partition orders one
symbol, and a service joining two topics (risk: signals + execution reports) scales out with the
range assignor while each instance keeps the state of its own symbols. Six partitions let 1, 2, 3 or 6
replicas share the load evenly and cost little on a one-node development broker. Raising the count
later re-maps keys to partitions (breaking per-symbol order across the change), so it is chosen up
front rather than grown.
"""

from __future__ import annotations

import difflib
import enum
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from google.protobuf.message import Message

from kestrel_contracts.v1.audit_event_pb2 import AuditEvent
from kestrel_contracts.v1.backtest_job_pb2 import BacktestJob
from kestrel_contracts.v1.backtest_result_pb2 import BacktestProgress, BacktestResult
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_contracts.v1.dead_letter_pb2 import DeadLetter
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_contracts.v1.feature_vector_pb2 import FeatureVector
from kestrel_contracts.v1.operator_command_pb2 import OperatorCommand
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_contracts.v1.risk_decision_pb2 import RiskDecision
from kestrel_contracts.v1.signal_pb2 import Signal
from kestrel_contracts.v1.tick_pb2 import Tick

HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS
DLQ_SUFFIX = ".dlq"
SYMBOL_PARTITIONS = 6
DLQ_RETENTION_MS = 30 * DAY_MS
DLQ_STREAM_MAX_LEN = 10_000


class Transport(enum.StrEnum):
    KAFKA = "kafka"
    REDIS_STREAM = "redis_stream"


@dataclass(frozen=True, slots=True)
class Channel:
    """A named, typed message channel.

    `key` names the message field that keys a message: the partition key on Kafka (so one partition
    orders one key), an entry field naming the message on a Redis stream; None when the channel has no
    natural key. `retention_ms` is Kafka retention; for Redis streams `max_len` caps the stream
    (approximate trimming on XADD; None leaves it untrimmed, fine for tests, not for registered
    streams).
    """

    name: str
    transport: Transport
    message_type: type[Message]
    key: str | None = "symbol"
    partitions: int = SYMBOL_PARTITIONS
    retention_ms: int = 7 * DAY_MS
    max_len: int | None = None
    description: str = ""

    def __post_init__(self) -> None:
        # Fail at import time, not at the first message, when an entry is wrong.
        if self.partitions < 1:
            raise ValueError(f"channel {self.name}: partitions must be >= 1, got {self.partitions}")
        if self.retention_ms < 1:
            raise ValueError(f"channel {self.name}: retention_ms must be >= 1, got {self.retention_ms}")
        if self.max_len is not None and self.max_len < 1:
            raise ValueError(f"channel {self.name}: max_len must be >= 1 or None, got {self.max_len}")
        # A singular string field reads as str on a fresh message; a missing or repeated one does not.
        if self.key is not None and not isinstance(getattr(self.message_type(), self.key, None), str):
            raise ValueError(
                f"channel {self.name}: key {self.key!r} is not a string field of "
                f"{self.message_type.DESCRIPTOR.full_name}"
            )

    @property
    def is_dlq(self) -> bool:
        return self.name.endswith(DLQ_SUFFIX)

    @property
    def dlq(self) -> Channel:
        """The dead-letter channel for this one: same transport, `<name>.dlq`, payload DeadLetter.

        One partition: dead letters are rare, and one partition keeps them in the order they failed.
        """
        return Channel(
            name=f"{self.name}{DLQ_SUFFIX}",
            transport=self.transport,
            message_type=DeadLetter,
            key=None,
            partitions=1,
            retention_ms=DLQ_RETENTION_MS,
            max_len=DLQ_STREAM_MAX_LEN if self.transport is Transport.REDIS_STREAM else None,
            description=f"Messages from {self.name} that could not be parsed or processed.",
        )

    @property
    def topic_config(self) -> dict[str, str]:
        """Kafka topic configuration for creating this channel (empty for a Redis stream)."""
        if self.transport is not Transport.KAFKA:
            return {}
        return {"cleanup.policy": "delete", "retention.ms": str(self.retention_ms)}

    def key_of(self, message: Message) -> str | None:
        """The key of a message on this channel, read from the field `key` names; None when empty."""
        if self.key is None:
            return None
        value = getattr(message, self.key, None)
        return str(value) if value not in (None, "") else None


def _kafka(
    name: str,
    message_type: type[Message],
    description: str,
    *,
    key: str | None = "symbol",
    partitions: int = SYMBOL_PARTITIONS,
    retention_ms: int = 7 * DAY_MS,
) -> Channel:
    return Channel(name, Transport.KAFKA, message_type, key, partitions, retention_ms, None, description)


_ALL = (
    _kafka("market.bars", Bar, "Closed OHLCV bars from ingestion; input of features and the paper broker."),
    _kafka("market.ticks", Tick, "Trade prints from ingestion, for live views.", retention_ms=1 * DAY_MS),
    _kafka("features.vectors", FeatureVector, "Feature vectors per symbol and bar from features."),
    _kafka("trading.signals", Signal, "Model signals from inference; risk turns them into orders."),
    _kafka(
        "risk.decisions",
        RiskDecision,
        "Risk's approve/reject verdict on every signal and manual order, with reason codes.",
        retention_ms=30 * DAY_MS,
    ),
    _kafka(
        "execution.reports",
        ExecutionReport,
        "Order state changes and fills from execution; risk keeps positions and P&L from them.",
        retention_ms=30 * DAY_MS,
    ),
    _kafka(
        "audit.logs",
        AuditEvent,
        "The audit trail of every service (keyed by symbol when one is involved).",
        retention_ms=30 * DAY_MS,
    ),
    _kafka(
        "ops.commands",
        OperatorCommand,
        "Operator commands from the gateway (kill switch, manual orders); one partition keeps them in order.",
        key=None,
        partitions=1,
        retention_ms=30 * DAY_MS,
    ),
    _kafka(
        "backtest.jobs",
        BacktestJob,
        "Backtest requests from the gateway; keyed by job id so a job goes to one worker.",
        key="job_id",
        partitions=3,
    ),
    _kafka(
        "backtest.results",
        BacktestResult,
        "Backtest summaries from the backtest service.",
        key="job_id",
        partitions=3,
        retention_ms=30 * DAY_MS,
    ),
    _kafka(
        "backtest.progress",
        BacktestProgress,
        "How far running backtest jobs are (informational; the result is the final word).",
        key="job_id",
        partitions=3,
        retention_ms=DAY_MS,
    ),
    # XADD's MAXLEN trims the oldest entries even while they are still pending (unacknowledged), so the
    # cap sits far above any backlog execution could build up; trimmed entries are already in
    # trading.orders once acknowledged.
    Channel(
        "execution.orders",
        Transport.REDIS_STREAM,
        OrderRequest,
        key="client_order_id",
        partitions=1,
        max_len=100_000,
        description="Approved orders from risk to execution (consumer group; ack after the fill is stored).",
    ),
)

CHANNELS: Mapping[str, Channel] = MappingProxyType({c.name: c for c in _ALL})
if len(CHANNELS) != len(_ALL):
    raise RuntimeError("duplicate channel name in the registry")


NAMESPACE_ENV = "KESTREL_CHANNEL_NAMESPACE"


def namespace() -> str:
    """The deployment's channel namespace (KESTREL_CHANNEL_NAMESPACE), "" when unset.

    With a namespace `ns`, channel `market.bars` is the topic `ns.market.bars`: several Kestrel
    deployments (or test runs) share one Kafka and one Redis without seeing each other's messages.
    """
    return os.environ.get(NAMESPACE_ENV, "").strip().strip(".")


def _in_namespace(registered: Channel) -> Channel:
    ns = namespace()
    return replace(registered, name=f"{ns}.{registered.name}") if ns else registered


def consumer_group(group: str) -> str:
    """A Kafka consumer group id in the current namespace (`ns.features`): groups are global to a
    broker, so two deployments sharing one must not join each other's groups."""
    ns = namespace()
    return f"{ns}.{group}" if ns and not group.startswith(f"{ns}.") else group


def channel(name: str) -> Channel:
    """The channel called `name` (in the current namespace); `<name>.dlq` gives its dead-letter channel."""
    found = CHANNELS.get(name)
    if found is not None:
        return _in_namespace(found)
    if name.endswith(DLQ_SUFFIX) and name.removesuffix(DLQ_SUFFIX) in CHANNELS:
        return _in_namespace(CHANNELS[name.removesuffix(DLQ_SUFFIX)]).dlq
    close = difflib.get_close_matches(name, list(CHANNELS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise KeyError(f"unknown channel {name!r}{hint}; known channels: {', '.join(sorted(CHANNELS))}")


def all_channels_with_dlq() -> Iterator[Channel]:
    """Every registered channel, each followed by its dead-letter channel: what `make topics` creates."""
    for registered in CHANNELS.values():
        placed = _in_namespace(registered)
        yield placed
        yield placed.dlq
