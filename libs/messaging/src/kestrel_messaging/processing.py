"""The transport-independent part of consuming: decode, trace, retry, dead-letter.

Kafka, Redis Streams and the in-memory fake differ only in how they fetch records and how they mark
them done (commit an offset, XACK, advance a cursor). Everything that decides what happens to one
record lives here once, so the three transports behave the same and one contract suite proves it.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from opentelemetry.trace import Link, SpanKind, Status, StatusCode, get_current_span

from kestrel_contracts.events import new_event_id, now_ns
from kestrel_contracts.registry import Channel
from kestrel_contracts.v1.dead_letter_pb2 import DeadLetter, DeadLetterStage
from kestrel_messaging import codec
from kestrel_messaging.envelope import (
    BatchHandler,
    ConsumerOptions,
    DecodeError,
    Delivery,
    Handler,
    PermanentError,
)
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
# Told the index (in the fetch) of each record whose outcome is durable, in order: the transport
# may then commit/ack it.
Done = Callable[[int], None]


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


async def process_each(
    channel: Channel,
    group: str,
    records: Sequence[Record],
    handler: Handler,
    *,
    dead_letter: DeadLetterSink,
    options: ConsumerOptions,
    done: Done,
    stop: asyncio.Event,
) -> None:
    """Records of one fetch one by one, in order; on `stop` the rest of the fetch is left unhandled."""
    for index, record in enumerate(records):
        await process_record(channel, group, record, handler, dead_letter=dead_letter, options=options)
        done(index)
        if stop.is_set():
            break


async def process_batch(
    channel: Channel,
    group: str,
    records: Sequence[Record],
    handler: BatchHandler,
    *,
    dead_letter: DeadLetterSink,
    options: ConsumerOptions,
    done: Done,
) -> None:
    """Records of one fetch as one batch (see `Subscription.run_batches`); `done` only once all are.

    Undecodable records are dead-lettered first; `done` is then called for every record in order,
    only after the handler returned, so an offset is never committed past an unhandled record. If
    the batch handler raises, each decoded record goes through `process_record` with a batch of one.
    """
    decoded: list[tuple[Record, Delivery]] = []
    for record in records:
        try:
            message = codec.decode(channel, record.data)
        except PermanentError:
            # process_record decodes again, fails the same way and dead-letters it (metrics, log).
            await process_record(
                channel, group, record, _one(handler), dead_letter=dead_letter, options=options
            )
            continue
        delivery = Delivery(channel, message, record.key, record.headers, record.data, record.position)
        decoded.append((record, delivery))
    if len(decoded) > 1 and await _batch_succeeded(channel, group, decoded, handler):
        for index in range(len(records)):
            done(index)
        return
    # One message, or a failed batch: the per-message path, retries and DLQ included.
    handled = {id(record) for record, _ in decoded}
    for index, record in enumerate(records):
        if id(record) in handled:
            await process_record(
                channel, group, record, _one(handler), dead_letter=dead_letter, options=options
            )
        done(index)


def _one(handler: BatchHandler) -> Handler:
    async def single(delivery: Delivery) -> None:
        await handler([delivery])

    return single


async def _batch_succeeded(
    channel: Channel, group: str, decoded: Sequence[tuple[Record, Delivery]], handler: BatchHandler
) -> bool:
    """Run the batch handler once, in a span linked to each message's trace; False if it raised."""
    links = [
        Link(get_current_span(extract_context(record.headers)).get_span_context()) for record, _ in decoded
    ]
    started = time.perf_counter()
    with _tracer.start_as_current_span(
        f"{channel.name} process batch",
        kind=SpanKind.CONSUMER,
        links=[link for link in links if link.context.is_valid],
        attributes={
            "messaging.system": channel.transport.value,
            "messaging.destination.name": channel.name,
            "messaging.consumer.group.name": group,
            "messaging.batch.message_count": len(decoded),
        },
    ) as span:
        try:
            await handler([delivery for _, delivery in decoded])
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            _log.warning(
                "batch handler failed, handling its messages one by one",
                channel=channel.name,
                group=group,
                first=decoded[0][0].position,
                size=len(decoded),
                error=repr(exc),
            )
            return False
    HANDLER_SECONDS.labels(channel.name, group).observe(time.perf_counter() - started)
    MESSAGES_CONSUMED.labels(channel.name, group, "ok").inc(len(decoded))
    return True
