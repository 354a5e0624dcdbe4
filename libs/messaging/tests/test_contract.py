"""The messaging contract, asserted identically on the fake, Kafka and Redis Streams."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence

import pytest

from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_contracts.v1.dead_letter_pb2 import DeadLetter
from kestrel_messaging import ConsumerOptions, Delivery, PermanentError, Subscription
from kestrel_testing.messaging import BusCase, bar, consume_until

FAST = ConsumerOptions(max_attempts=3, retry_backoff_s=0.01, poll_timeout_ms=100, reclaim_idle_ms=300)


async def test_every_message_arrives_once_in_key_order_with_key_and_trace(case: BusCase) -> None:
    sent = [bar(symbol, seq) for seq in range(15) for symbol in ("BTCUSDT", "ETHUSDT")]
    for message in sent:
        await case.bus.publish(case.channel, message)

    got = await consume_until(
        case.bus.subscribe(case.channel, group=case.group("a"), consumer="c1", options=FAST), len(sent)
    )

    assert sorted(d.message.event_id for d in got) == sorted(m.event_id for m in sent)  # type: ignore[attr-defined]
    by_symbol: dict[str, list[int]] = defaultdict(list)
    for delivery in got:
        assert isinstance(delivery.message, Bar)
        assert delivery.key == delivery.message.symbol
        assert delivery.headers["traceparent"].startswith("00-")
        by_symbol[delivery.message.symbol].append(delivery.message.ts_event)
    assert all(series == sorted(series) for series in by_symbol.values())


async def test_malformed_message_goes_to_dlq_and_consumer_goes_on(case: BusCase) -> None:
    await case.bus.publish(case.channel, bar("BTCUSDT", 1))
    await case.bus.publish_raw(case.channel, b"\xff\xfe definitely not protobuf", key="BTCUSDT")
    await case.bus.publish(case.channel, bar("BTCUSDT", 2))

    got = await consume_until(
        case.bus.subscribe(case.channel, group=case.group("a"), consumer="c1", options=FAST), 2
    )
    letters = await consume_until(
        case.bus.subscribe(case.channel.dlq, group=case.group("dlq"), consumer="c1", options=FAST), 1
    )

    assert [d.message.ts_event for d in got] == [bar("X", 1).ts_event, bar("X", 2).ts_event]  # type: ignore[attr-defined]
    letter = letters[0].message
    assert isinstance(letter, DeadLetter)
    assert letter.payload == b"\xff\xfe definitely not protobuf"
    assert letter.source_channel == case.channel.name
    assert letter.error_type == "DecodeError"
    assert "kestrel.v1.Bar" in letter.error_message
    assert letter.key == "BTCUSDT"


async def test_failing_handler_is_retried_then_dead_lettered(case: BusCase) -> None:
    poison = bar("ETHUSDT", 7, event_id="11111111-1111-4111-8111-111111111111")
    await case.bus.publish(case.channel, poison)
    await case.bus.publish(case.channel, bar("ETHUSDT", 8))
    attempts: list[int] = []

    async def handler(delivery: Delivery) -> None:
        if delivery.message.event_id == poison.event_id:  # type: ignore[attr-defined]
            attempts.append(delivery.attempt)
            raise RuntimeError("database said no")

    got = await consume_until(
        case.bus.subscribe(case.channel, group=case.group("a"), consumer="c1", options=FAST),
        1,
        handler=handler,
    )
    letters = await consume_until(
        case.bus.subscribe(case.channel.dlq, group=case.group("dlq"), consumer="c1", options=FAST), 1
    )

    assert attempts == [1, 2, 3]
    assert got[0].message.ts_event == bar("X", 8).ts_event  # type: ignore[attr-defined]
    letter = letters[0].message
    assert isinstance(letter, DeadLetter)
    assert (letter.error_type, letter.error_message, letter.attempts) == (
        "RuntimeError",
        "database said no",
        3,
    )
    assert Bar.FromString(letter.payload) == poison


async def test_transient_failure_is_retried_and_not_dead_lettered(case: BusCase) -> None:
    await case.bus.publish(case.channel, bar("SOLUSDT", 1))
    calls: list[int] = []

    async def flaky(delivery: Delivery) -> None:
        calls.append(delivery.attempt)
        if delivery.attempt == 1:
            raise ConnectionError("blip")

    got = await consume_until(
        case.bus.subscribe(case.channel, group=case.group("a"), consumer="c1", options=FAST), 1, handler=flaky
    )
    assert calls == [1, 2]
    assert got[0].attempt == 2


async def test_permanent_error_skips_retries(case: BusCase) -> None:
    await case.bus.publish(case.channel, bar("SOLUSDT", 1))
    calls: list[int] = []

    async def reject(delivery: Delivery) -> None:
        calls.append(delivery.attempt)
        raise PermanentError("price below tick size")

    stop = asyncio.Event()
    consumer = case.bus.subscribe(case.channel, group=case.group("a"), consumer="c1", options=FAST)
    running = asyncio.create_task(consumer.run(reject, stop))
    letters = await consume_until(
        case.bus.subscribe(case.channel.dlq, group=case.group("dlq"), consumer="c1", options=FAST), 1
    )
    stop.set()
    await asyncio.wait_for(running, 15)
    assert calls == [1]
    assert letters[0].message.error_message == "price below tick size"  # type: ignore[attr-defined]


async def test_message_of_a_dead_consumer_is_redelivered_to_another(case: BusCase) -> None:
    await case.bus.publish(case.channel, bar("BTCUSDT", 1))
    entered = asyncio.Event()

    async def hang(_: Delivery) -> None:
        entered.set()
        await asyncio.Event().wait()  # never finishes: the effect never becomes durable

    first = case.bus.subscribe(case.channel, group=case.group("a"), consumer="dies", options=FAST)
    task = asyncio.create_task(first.run(hang, asyncio.Event()))
    await asyncio.wait_for(entered.wait(), 30)
    task.cancel()  # the consumer dies mid-message, before any commit/ack
    await asyncio.gather(task, return_exceptions=True)

    second = case.bus.subscribe(case.channel, group=case.group("a"), consumer="survivor", options=FAST)
    got = await consume_until(second, 1)
    assert got[0].message.ts_event == bar("X", 1).ts_event  # type: ignore[attr-defined]


async def test_graceful_stop_commits_what_was_handled(case: BusCase) -> None:
    for seq in (1, 2):
        await case.bus.publish(case.channel, bar("BTCUSDT", seq))

    first = await consume_until(
        case.bus.subscribe(case.channel, group=case.group("a"), consumer="c1", options=FAST), 1
    )
    rest = await consume_until(
        case.bus.subscribe(case.channel, group=case.group("a"), consumer="c2", options=FAST), 1
    )
    assert [d.message.ts_event for d in first + rest] == [bar("X", 1).ts_event, bar("X", 2).ts_event]  # type: ignore[attr-defined]


async def test_each_group_receives_everything(case: BusCase) -> None:
    for seq in range(5):
        await case.bus.publish(case.channel, bar("BTCUSDT", seq))
    for group in ("risk", "gateway"):
        got = await consume_until(
            case.bus.subscribe(case.channel, group=case.group(group), consumer="c1", options=FAST), 5
        )
        assert len({d.message.event_id for d in got}) == 5  # type: ignore[attr-defined]


async def test_publishing_the_wrong_type_is_refused(case: BusCase) -> None:
    with pytest.raises(TypeError, match=r"kestrel\.v1\.Bar"):
        await case.bus.publish(case.channel, DeadLetter(event_id="x"))


async def test_a_batch_arrives_whole_in_order_each_message_with_its_own_trace(case: BusCase) -> None:
    sent = [bar("BTCUSDT", seq) for seq in range(40)]
    await case.bus.publish_batch(case.channel, sent, trace_per_message=True)

    got = await consume_until(
        case.bus.subscribe(case.channel, group=case.group("a"), consumer="c1", options=FAST), len(sent)
    )

    assert [d.message.ts_event for d in got] == [m.ts_event for m in sent]  # type: ignore[attr-defined]
    assert all(d.key == "BTCUSDT" for d in got)
    trace_ids = {d.headers["traceparent"].split("-")[1] for d in got}
    assert len(trace_ids) == len(sent)


async def _consume_batches(
    sub: Subscription,
    count: int,
    handler: Callable[[Sequence[Delivery]], Awaitable[None]] | None = None,
) -> list[list[Delivery]]:
    """Run `sub.run_batches` until batches holding `count` deliveries were handled (30 s at most)."""
    batches: list[list[Delivery]] = []
    stop = asyncio.Event()

    async def collect(deliveries: Sequence[Delivery]) -> None:
        if handler is not None:
            await handler(deliveries)
        batches.append(list(deliveries))
        if sum(len(b) for b in batches) >= count:
            stop.set()

    task = asyncio.create_task(sub.run_batches(collect, stop))
    try:
        await asyncio.wait_for(asyncio.shield(stop.wait()), 30)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
    return batches


async def test_batches_arrive_whole_and_in_order(case: BusCase) -> None:
    sent = [bar("BTCUSDT", seq) for seq in range(30)]
    await case.bus.publish_batch(case.channel, sent)

    batches = await _consume_batches(
        case.bus.subscribe(case.channel, group=case.group("a"), consumer="c1", options=FAST), len(sent)
    )

    got = [d.message.ts_event for batch in batches for d in batch]  # type: ignore[attr-defined]
    assert got == [m.ts_event for m in sent]
    assert max(len(batch) for batch in batches) > 1  # a fetch is handed over as one batch


async def test_a_poison_message_in_a_batch_is_dead_lettered_and_the_others_handled(case: BusCase) -> None:
    poison = bar("ETHUSDT", 3, event_id="22222222-2222-4222-8222-222222222222")
    sent = [bar("ETHUSDT", 1), bar("ETHUSDT", 2), poison, bar("ETHUSDT", 4)]
    await case.bus.publish_batch(case.channel, sent[:2])
    await case.bus.publish_raw(case.channel, b"\xff\xfe not a bar", key="ETHUSDT")
    await case.bus.publish_batch(case.channel, sent[2:])
    calls: list[int] = []

    async def reject_poison(deliveries: Sequence[Delivery]) -> None:
        calls.append(len(deliveries))
        if any(d.message.event_id == poison.event_id for d in deliveries):  # type: ignore[attr-defined]
            raise RuntimeError("poison")

    batches = await _consume_batches(
        case.bus.subscribe(case.channel, group=case.group("a"), consumer="c1", options=FAST),
        3,
        handler=reject_poison,
    )
    letters = await consume_until(
        case.bus.subscribe(case.channel.dlq, group=case.group("dlq"), consumer="c1", options=FAST), 2
    )

    handled = [d.message.ts_event for batch in batches for d in batch]  # type: ignore[attr-defined]
    assert handled == [m.ts_event for m in sent if m is not poison]
    by_type = {d.message.error_type: d.message for d in letters if isinstance(d.message, DeadLetter)}
    assert set(by_type) == {"DecodeError", "RuntimeError"}
    assert Bar.FromString(by_type["RuntimeError"].payload) == poison
    assert by_type["RuntimeError"].attempts == FAST.max_attempts
    assert by_type["DecodeError"].payload == b"\xff\xfe not a bar"


async def test_batch_of_a_consumer_cancelled_mid_batch_is_redelivered(case: BusCase) -> None:
    sent = [bar("SOLUSDT", seq) for seq in range(12)]
    await case.bus.publish_batch(case.channel, sent)
    entered = asyncio.Event()

    async def hang(_: Sequence[Delivery]) -> None:
        entered.set()
        await asyncio.Event().wait()  # dies before the batch's effect is durable

    first = case.bus.subscribe(case.channel, group=case.group("a"), consumer="dies", options=FAST)
    task = asyncio.create_task(first.run_batches(hang, asyncio.Event()))
    await asyncio.wait_for(entered.wait(), 30)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    second = case.bus.subscribe(case.channel, group=case.group("a"), consumer="survivor", options=FAST)
    batches = await _consume_batches(second, len(sent))
    got = [d.message.ts_event for batch in batches for d in batch]  # type: ignore[attr-defined]
    assert got == [m.ts_event for m in sent]


async def test_a_held_consumer_fetches_nothing_then_resumes_where_it_stopped(case: BusCase) -> None:
    held = True

    async def hold() -> bool:
        return held

    options = ConsumerOptions(max_attempts=3, retry_backoff_s=0.01, poll_timeout_ms=100, hold=hold)
    subscription = case.bus.subscribe(case.channel, group=case.group("a"), consumer="c1", options=options)
    got: list[Delivery] = []
    all_in = asyncio.Event()

    async def handler(delivery: Delivery) -> None:
        got.append(delivery)
        if len(got) == 5:
            all_in.set()

    stop = asyncio.Event()
    task = asyncio.create_task(subscription.run(handler, stop))
    try:
        sent = [bar("BTCUSDT", seq) for seq in range(5)]
        for message in sent:
            await case.bus.publish(case.channel, message)
        await asyncio.sleep(1.5)  # long enough for the consumer to have joined and fetched, if it would
        assert got == []
        held = False
        await asyncio.wait_for(all_in.wait(), 30)
        assert [d.message.event_id for d in got] == [m.event_id for m in sent]  # type: ignore[attr-defined]
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
