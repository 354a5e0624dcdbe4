"""The channel registry: names, keys, partitions and message types that producers and consumers share."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pool

from kestrel_contracts.events import derived_event_id
from kestrel_contracts.registry import (
    CHANNELS,
    SYMBOL_PARTITIONS,
    Channel,
    Transport,
    all_channels_with_dlq,
    channel,
    consumer_group,
)
from kestrel_contracts.v1.bar_pb2 import Bar
from kestrel_contracts.v1.dead_letter_pb2 import DeadLetter
from kestrel_contracts.v1.operator_command_pb2 import OperatorCommand

DESIGN_KAFKA_TOPICS = {
    "market.bars",
    "market.ticks",
    "features.vectors",
    "trading.signals",
    "execution.reports",
    "audit.logs",
    "backtest.jobs",
    "backtest.results",
    "backtest.progress",  # design-notes: backtest.* (the job progress the gateway relays to /ws)
    "risk.decisions",
    "ops.commands",
}
DESIGN_REDIS_STREAMS = {"execution.orders"}


def test_every_channel_the_design_names_is_registered_on_its_transport() -> None:
    kafka = {n for n, c in CHANNELS.items() if c.transport is Transport.KAFKA}
    redis = {n for n, c in CHANNELS.items() if c.transport is Transport.REDIS_STREAM}
    assert kafka == DESIGN_KAFKA_TOPICS
    assert redis == DESIGN_REDIS_STREAMS


def test_names_are_unique_and_match_their_keys() -> None:
    names = [c.name for c in all_channels_with_dlq()]
    assert len(names) == len(set(names)) == 2 * len(CHANNELS)
    assert all(name == c.name for name, c in CHANNELS.items())


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_message_type_is_a_registered_kestrel_event(name: str) -> None:
    descriptor = CHANNELS[name].message_type.DESCRIPTOR
    assert descriptor.file.package == "kestrel.v1"
    assert descriptor_pool.Default().FindMessageTypeByName(descriptor.full_name) is descriptor
    assert {"event_id", "ts_event", "ts_init"} <= set(descriptor.fields_by_name)


@pytest.mark.parametrize("name", sorted(n for n, c in CHANNELS.items() if c.key is not None))
def test_key_field_exists_on_the_message_type(name: str) -> None:
    registered = CHANNELS[name]
    assert registered.key is not None
    field = registered.message_type.DESCRIPTOR.fields_by_name.get(registered.key)
    assert field is not None, f"{name}: {registered.message_type.__name__} has no field {registered.key}"
    assert isinstance(getattr(registered.message_type(), registered.key), str)


def test_symbol_keyed_topics_are_co_partitioned() -> None:
    symbol_keyed = [c for c in CHANNELS.values() if c.transport is Transport.KAFKA and c.key == "symbol"]
    assert {"market.bars", "features.vectors", "trading.signals", "execution.reports"} <= {
        c.name for c in symbol_keyed
    }
    assert {c.partitions for c in symbol_keyed} == {SYMBOL_PARTITIONS}


def test_unkeyed_kafka_topics_have_one_partition_to_keep_order() -> None:
    assert CHANNELS["ops.commands"].key is None
    assert all(c.partitions == 1 for c in CHANNELS.values() if c.key is None)


def test_redis_streams_are_capped_and_kafka_topics_are_not() -> None:
    for c in all_channels_with_dlq():
        if c.transport is Transport.REDIS_STREAM:
            assert c.max_len is not None and c.max_len >= 1_000, c.name
            assert c.topic_config == {}
        else:
            assert c.max_len is None, c.name
            assert c.topic_config == {"cleanup.policy": "delete", "retention.ms": str(c.retention_ms)}


def test_every_channel_is_described() -> None:
    assert all(len(c.description) > 20 for c in all_channels_with_dlq())


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_dlq_naming_and_payload(name: str) -> None:
    original = CHANNELS[name]
    dlq = original.dlq
    assert dlq.name == f"{name}.dlq"
    assert dlq.is_dlq and not original.is_dlq
    assert dlq.transport is original.transport
    assert dlq.message_type is DeadLetter
    assert dlq.key is None and dlq.partitions == 1
    assert channel(f"{name}.dlq") == dlq


def test_all_channels_with_dlq_yields_each_channel_then_its_dlq() -> None:
    listed = list(all_channels_with_dlq())
    assert listed[0::2] == list(CHANNELS.values())
    assert listed[1::2] == [c.dlq for c in CHANNELS.values()]


def test_lookup_by_name_and_a_clear_error_for_unknown_names() -> None:
    assert channel("market.bars").message_type is Bar
    with pytest.raises(KeyError, match=r"unknown channel 'market\.bar' \(did you mean 'market\.bars'\?\)"):
        channel("market.bar")
    with pytest.raises(KeyError, match=r"known channels: .*trading\.signals"):
        channel("nope.dlq")


def test_key_of_reads_the_key_field() -> None:
    bars = channel("market.bars")
    assert bars.key_of(Bar(event_id=derived_event_id("t"), symbol="BTC/USDT")) == "BTC/USDT"
    assert bars.key_of(Bar()) is None
    assert channel("ops.commands").key_of(OperatorCommand(actor="x")) is None


def test_a_wrong_registry_entry_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="not a string field"):
        Channel("x", Transport.KAFKA, Bar, key="no_such_field")
    with pytest.raises(ValueError, match="not a string field"):
        Channel("x", Transport.KAFKA, Bar, key="flags")  # repeated
    with pytest.raises(ValueError, match="partitions"):
        Channel("x", Transport.KAFKA, Bar, partitions=0)
    with pytest.raises(ValueError, match="max_len"):
        Channel("x", Transport.REDIS_STREAM, Bar, max_len=0)


def test_a_namespace_prefixes_every_channel_and_its_dlq(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESTREL_CHANNEL_NAMESPACE", "run42")
    assert channel("market.bars").name == "run42.market.bars"
    assert channel("market.bars.dlq").name == "run42.market.bars.dlq"
    assert channel("market.bars").dlq.name == "run42.market.bars.dlq"
    names = [c.name for c in all_channels_with_dlq()]
    assert names and all(name.startswith("run42.") for name in names)
    assert consumer_group("features") == "run42.features"  # Kafka groups are per broker, not per topic
    assert consumer_group("run42.features") == "run42.features"
    monkeypatch.delenv("KESTREL_CHANNEL_NAMESPACE")
    assert channel("market.bars").name == "market.bars"
    assert consumer_group("features") == "features"
