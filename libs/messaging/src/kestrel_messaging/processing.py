"""The transport-independent part of consuming: decode, trace, retry, dead-letter.

Kafka, Redis Streams and the in-memory fake differ only in how they fetch records and how they mark
them done (commit an offset, XACK, advance a cursor). Everything that decides what happens to one
record lives here once, so the three transports behave the same and one contract suite proves it.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from opentelemetry.trace import SpanKind, Status, StatusCode

from kestrel_contracts.events import new_event_id, now_ns
from kestrel_contracts.registry import Channel
from kestrel_contracts.v1.dead_letter_pb2 import DeadLetter, DeadLetterStage
from kestrel_messaging import codec
from kestrel_messaging.envelope import ConsumerOptions, DecodeError, Delivery, Handler, PermanentError
from kestrel_messaging.metrics import DLQ_MESSAGES, HANDLER_RETRIES, HANDLER_SECONDS, MESSAGES_CONSUMED
from kestrel_platform.logging import get_logger
from kestrel_platform.tracing import extract_context, get_tracer

_log = get_logger(__name__)
_tracer = get_tracer("kestrel.messaging")


@dataclass(frozen=True, slots=True)
class Record:
    """A raw record as fetched from a transport, before decoding."""

    data: bytes
    key: str | None
    headers: Mapping[str, str]
    position: str


DeadLetterSink = Callable[[Channel, DeadLetter], Awaitable[None]]


def _stage(error: BaseException) -> DeadLetterStage:
    if isinstance(error, DecodeError):
        return DeadLetterStage.DEAD_LETTER_STAGE_DECODE
    if isinstance(error, PermanentError):
        return DeadLetterStage.DEAD_LETTER_STAGE_VALIDATE
    return DeadLetterStage.DEAD_LETTER_STAGE_HANDLE


def dead_letter_for(
    channel: Channel, group: str, record: Record, error: BaseException, attempts: int
) -> DeadLetter:
    """The DLQ message for a record: the original bytes and headers plus what went wrong."""
    letter = DeadLetter(
        event_id=new_event_id(),
        ts_event=now_ns(),
        ts_init=now_ns(),
        source_channel=channel.name,
        key=record.key or "",
        payload=record.data,
        error_type=type(error).__name__,
        error_message=str(error)[:4000],
        consumer_group=group,
        attempts=attempts,
        source_position=record.position,
        source_message_type=channel.message_type.DESCRIPTOR.full_name,
        stage=_stage(error),
    )
    letter.headers.update(record.headers)
    return letter


async def process_record(
    channel: Channel,
    group: str,
    record: Record,
    handler: Handler,
    *,
    dead_letter: DeadLetterSink,
    options: ConsumerOptions,
) -> str:
    """Run one record through the handler; return "ok" or "dlq".

    Returns only once the outcome is durable (the handler finished, or the dead letter was
    published), so the caller may then commit/ack. A handler exception is retried up to
    `options.max_attempts`; a PermanentError (including DecodeError) is dead-lettered at once.
    Cancellation propagates untouched: the record stays uncommitted and will be redelivered.
    """
    parent = extract_context(record.headers)
    started = time.perf_counter()
    with _tracer.start_as_current_span(
        f"{channel.name} process",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": channel.transport.value,
            "messaging.destination.name": channel.name,
            "messaging.consumer.group.name": group,
            "messaging.message.id": record.position,
        },
    ) as span:
        attempt = 0
        error: BaseException | None = None
        try:
            message = codec.decode(channel, record.data)
        except PermanentError as exc:
            error = exc
        else:
            while attempt < options.max_attempts:
                attempt += 1
                delivery = Delivery(
                    channel, message, record.key, record.headers, record.data, record.position, attempt
                )
                try:
                    await handler(delivery)
                except PermanentError as exc:
                    error = exc
                    break
                except Exception as exc:
                    error = exc
                    _log.warning(
                        "handler failed",
                        channel=channel.name,
                        group=group,
                        position=record.position,
                        attempt=attempt,
                        error=repr(exc),
                    )
                    if attempt < options.max_attempts:
                        HANDLER_RETRIES.labels(channel.name, group).inc()
                        await asyncio.sleep(options.retry_backoff_s * 2 ** (attempt - 1))
                else:
                    error = None
                    break
        HANDLER_SECONDS.labels(channel.name, group).observe(time.perf_counter() - started)
        if error is None:
            MESSAGES_CONSUMED.labels(channel.name, group, "ok").inc()
            return "ok"
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        _log.error(
            "dead-lettering message",
            channel=channel.name,
            group=group,
            position=record.position,
            error=repr(error),
            trace="".join(traceback.format_exception(error))[-2000:],
        )
        await dead_letter(channel.dlq, dead_letter_for(channel, group, record, error, max(attempt, 1)))
        DLQ_MESSAGES.labels(channel.name, group, type(error).__name__).inc()
        MESSAGES_CONSUMED.labels(channel.name, group, "dlq").inc()
        return "dlq"
