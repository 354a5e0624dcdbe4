# mypy: disable-error-code="type-arg"
# Imports rewritten to kestrel_contracts.v1 by kestrel_contracts.codegen. DO NOT EDIT.
from kestrel_contracts.v1 import order_request_pb2 as _order_request_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class KillSwitch(_message.Message):
    __slots__ = ("engaged",)
    ENGAGED_FIELD_NUMBER: _ClassVar[int]
    engaged: bool
    def __init__(self, engaged: bool = ...) -> None: ...

class OperatorCommand(_message.Message):
    __slots__ = ("event_id", "ts_event", "ts_init", "actor", "reason", "kill_switch", "submit_order")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    KILL_SWITCH_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_ORDER_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts_event: int
    ts_init: int
    actor: str
    reason: str
    kill_switch: KillSwitch
    submit_order: _order_request_pb2.OrderRequest
    def __init__(self, event_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., kill_switch: _Optional[_Union[KillSwitch, _Mapping]] = ..., submit_order: _Optional[_Union[_order_request_pb2.OrderRequest, _Mapping]] = ...) -> None: ...
