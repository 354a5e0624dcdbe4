"""What a consumer hands to a handler, and the errors a handler may raise."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from google.protobuf.message import Message

from kestrel_contracts.registry import Channel


@dataclass(frozen=True, slots=True)
class Delivery:
    """One decoded message as delivered to a handler.

    `position` names where the message sits in its channel ("partition:offset" on Kafka, the entry id
    on a Redis stream) so a handler can log it; `attempt` counts deliveries of this message to this
    handler within the current process (1 on the first try).
    """

    channel: Channel
    message: Message
    key: str | None
    headers: Mapping[str, str]
    raw: bytes
    position: str
    attempt: int = 1


Handler = Callable[[Delivery], Awaitable[None]]
# Gets the decoded deliveries of one fetch, in order; its effect must be durable when it returns.
BatchHandler = Callable[[Sequence[Delivery]], Awaitable[None]]


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help (bad content): the message goes straight to the DLQ."""


class DecodeError(PermanentError):
    """The bytes on the channel are not a valid message of the channel's type."""


@dataclass(frozen=True, slots=True)
class ConsumerOptions:
    """How a consumer retries, batches and reclaims.

    `max_attempts` bounds in-process retries of a failing handler before the message is dead-lettered;
    `reclaim_idle_ms` is how long a Redis stream entry may sit unacknowledged with a dead consumer
    before another consumer of the group claims it.
    """

    max_attempts: int = 3
    retry_backoff_s: float = 0.05
    batch_size: int = 100
    poll_timeout_ms: int = 200
    reclaim_idle_ms: int = 30_000
    start_from_beginning: bool = True
    extra: Mapping[str, object] = field(default_factory=dict)
    # Asked before every fetch: while it answers True nothing is fetched (a paused process keeps its
    # place in the group; the backlog waits). None: never held.
    hold: Callable[[], Awaitable[bool]] | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
