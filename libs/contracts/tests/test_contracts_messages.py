"""Rules every message in kestrel.v1 keeps, checked by introspecting the descriptors."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator

import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    EnumDescriptorProto,
    FieldDescriptorProto,
    FileDescriptorProto,
)
from google.protobuf.message import Message

from kestrel_contracts import codegen, v1
from kestrel_contracts.catalog import message_type, message_types
from kestrel_contracts.v1.execution_report_pb2 import OrderStatus
from kestrel_contracts.v1.operator_command_pb2 import OperatorCommand

# Rules are checked on descriptor *protos* (CopyToProto): their shape is the same in every protobuf
# release, unlike the runtime descriptor classes and their stubs.
Field = FieldDescriptorProto

# Messages that only travel inside an event; everything else top-level is an event.
VALUE_TYPES = {
    "kestrel.v1.Fill",
    "kestrel.v1.RiskCheck",
    "kestrel.v1.KillSwitch",
    "kestrel.v1.AlgorithmSpec",
    "kestrel.v1.ProcessControl",
    "kestrel.v1.InstrumentOverride",
    "kestrel.v1.Flatten",
}
EVENTS = sorted(set(message_types()) - VALUE_TYPES)
# Messages that carry prices, quantities or money: no binary float anywhere inside them.
MONEY_BEARING = [
    "kestrel.v1.Bar",
    "kestrel.v1.Tick",
    "kestrel.v1.OrderRequest",
    "kestrel.v1.ExecutionReport",
    "kestrel.v1.Fill",
    "kestrel.v1.Position",
    "kestrel.v1.RiskDecision",
    "kestrel.v1.RiskCheck",
    "kestrel.v1.BacktestJob",
]
# A field whose name says it holds an amount must be a decimal string in every message.
MONEY_NAME = re.compile(r"price|quantity|qty|notional|pnl|equity|cash|fee|balance|volume|amount|limit")
FLOATS = {Field.TYPE_DOUBLE, Field.TYPE_FLOAT}


def _proto(full_name: str) -> DescriptorProto:
    proto = DescriptorProto()
    message_type(full_name).DESCRIPTOR.CopyToProto(proto)
    return proto


def _nested(proto: DescriptorProto, full_name: str, field: Field) -> DescriptorProto | None:
    """The nested message (e.g. a map entry) a field refers to, if it is nested in `proto`."""
    by_name = {f".{full_name}.{n.name}": n for n in proto.nested_type}
    return by_name.get(field.type_name)


def _fields(full_name: str, proto: DescriptorProto | None = None) -> Iterator[tuple[str, Field]]:
    """(qualified name, field) of every field of a message and, recursively, of the messages inside."""
    proto = proto or _proto(full_name)
    for field in proto.field:
        yield f"{full_name}.{field.name}", field
        if field.type != Field.TYPE_MESSAGE:
            continue
        nested = _nested(proto, full_name, field)
        if nested is not None:
            yield from _fields(field.type_name.lstrip("."), nested)
        elif field.type_name.lstrip(".") != full_name:
            yield from _fields(field.type_name.lstrip("."))


def test_the_catalogue_holds_every_message_the_design_names() -> None:
    design = {"Bar", "Tick", "FeatureVector", "Signal", "OrderRequest", "ExecutionReport", "Position"}
    design |= {"RiskDecision", "AuditEvent", "BacktestJob", "BacktestResult", "DeadLetter", "Fill"}
    assert {f"kestrel.v1.{name}" for name in design} <= set(message_types())


@pytest.mark.parametrize("full_name", EVENTS)
def test_every_event_starts_with_event_id_ts_event_ts_init(full_name: str) -> None:
    fields = {f.number: f for f in _proto(full_name).field}
    expected = {
        1: ("event_id", Field.TYPE_STRING),
        2: ("ts_event", Field.TYPE_INT64),
        3: ("ts_init", Field.TYPE_INT64),
    }
    for number, (name, kind) in expected.items():
        assert number in fields, f"{full_name} lacks field {number} ({name})"
        assert (fields[number].name, fields[number].type) == (name, kind)
        assert fields[number].label == Field.LABEL_OPTIONAL


@pytest.mark.parametrize("full_name", MONEY_BEARING)
def test_money_bearing_messages_have_no_binary_float(full_name: str) -> None:
    floats = [name for name, field in _fields(full_name) if field.type in FLOATS]
    assert floats == []


def test_amount_fields_are_decimal_strings_everywhere() -> None:
    wrong = [
        name
        for message in message_types()
        for name, field in _fields(message)
        if MONEY_NAME.search(field.name) and field.type != Field.TYPE_STRING
    ]
    assert wrong == []


def test_order_status_has_the_lifecycle_states() -> None:
    names = {v.name.removeprefix("ORDER_STATUS_") for v in OrderStatus.DESCRIPTOR.values}
    assert names == {"UNSPECIFIED", "NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "REJECTED", "EXPIRED"}


def _enums() -> Iterator[EnumDescriptorProto]:
    for module in pkgutil.iter_modules(v1.__path__):
        file = FileDescriptorProto()
        importlib.import_module(f"{v1.__name__}.{module.name}").DESCRIPTOR.CopyToProto(file)
        yield from file.enum_type
        for message in file.message_type:
            yield from message.enum_type


ENUMS = sorted(_enums(), key=lambda e: e.name)


def test_every_enum_is_checked() -> None:
    assert {"Side", "OrderStatus", "RiskReason", "ExecutionReason", "SignalAction"} <= {e.name for e in ENUMS}


@pytest.mark.parametrize("enum", ENUMS, ids=[e.name for e in ENUMS])
def test_enum_zero_value_is_unspecified(enum: EnumDescriptorProto) -> None:
    prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper()
    zero = [v.name for v in enum.value if v.number == 0]
    assert zero == [f"{prefix}_UNSPECIFIED"]
    assert all(v.name.startswith(f"{prefix}_") for v in enum.value)


def _sample(field: Field) -> object:
    if field.type == Field.TYPE_STRING:
        return "12.5" if MONEY_NAME.search(field.name) else f"{field.name}-sample"
    if field.type == Field.TYPE_ENUM:
        return descriptor_pool.Default().FindEnumTypeByName(field.type_name.lstrip(".")).values[-1].number
    samples: dict[int, object] = {
        Field.TYPE_INT64: 1_700_000_000_123_456_789,
        Field.TYPE_INT32: 7,
        Field.TYPE_DOUBLE: 0.625,
        Field.TYPE_BOOL: True,
        Field.TYPE_BYTES: b"\x00\xff raw",
    }
    return samples[field.type]


def _populate(message: Message) -> Message:
    """Set every field of `message` (and of the messages inside it) to a non-default value."""
    full_name = message.DESCRIPTOR.full_name
    proto = DescriptorProto()
    message.DESCRIPTOR.CopyToProto(proto)
    for field in proto.field:
        value = getattr(message, field.name)
        repeated = field.label == Field.LABEL_REPEATED
        entry = _nested(proto, full_name, field) if field.type == Field.TYPE_MESSAGE else None
        if entry is not None and entry.options.map_entry:
            key, item = entry.field
            value[_sample(key)] = _sample(item)
        elif field.type == Field.TYPE_MESSAGE:
            _populate(value.add() if repeated else value)
        elif repeated:
            value.append(_sample(field))
        else:
            setattr(message, field.name, _sample(field))
    return message


@pytest.mark.parametrize("full_name", sorted(message_types()))
def test_serialize_parse_round_trip(full_name: str) -> None:
    cls = message_type(full_name)
    original = _populate(cls())
    data = original.SerializeToString(deterministic=True)
    parsed = cls.FromString(data)
    assert parsed == original
    assert parsed.SerializeToString(deterministic=True) == data
    # Every field survived (a oneof keeps only its last member set).
    proto = _proto(full_name)
    oneof_losers = len([f for f in proto.field if f.HasField("oneof_index")]) - len(proto.oneof_decl)
    assert len(parsed.ListFields()) == len(proto.field) - oneof_losers


def test_operator_command_carries_exactly_one_instruction() -> None:
    command = OperatorCommand(event_id="e", kill_switch={"engaged": True})
    assert command.WhichOneof("command") == "kill_switch"
    command.submit_order.symbol = "BTC/USDT"
    assert command.WhichOneof("command") == "submit_order"
    assert not command.HasField("kill_switch")


def _comments(file: FileDescriptorProto) -> dict[tuple[int, ...], str]:
    return {tuple(loc.path): loc.leading_comments.strip() for loc in file.source_code_info.location}


def _undocumented_in_message(
    message: DescriptorProto, path: tuple[int, ...], docs: dict[tuple[int, ...], str], name: str
) -> Iterator[str]:
    # Descriptor field numbers from descriptor.proto: message 4 field 2 nested 3 enum 4 oneof 8.
    if not docs.get(path):
        yield name
    for i, field in enumerate(message.field):
        if not docs.get((*path, 2, i)):
            yield f"{name}.{field.name}"
    for i, oneof in enumerate(message.oneof_decl):
        if not docs.get((*path, 8, i)):
            yield f"{name}.{oneof.name}"
    for i, nested in enumerate(message.nested_type):
        if not nested.options.map_entry:  # synthesized by protoc for map<> fields
            yield from _undocumented_in_message(nested, (*path, 3, i), docs, f"{name}.{nested.name}")


def test_every_message_field_enum_and_value_is_documented() -> None:
    undocumented: list[str] = []
    for file in codegen.descriptor_set(codegen.repo_root() / "proto").file:
        docs = _comments(file)
        for i, message in enumerate(file.message_type):
            undocumented += _undocumented_in_message(message, (4, i), docs, message.name)
        for i, enum in enumerate(file.enum_type):
            if not docs.get((5, i)):
                undocumented.append(enum.name)
            undocumented += [
                f"{enum.name}.{v.name}" for j, v in enumerate(enum.value) if not docs.get((5, i, 2, j))
            ]
    assert undocumented == []
