# mypy: disable-error-code="type-arg"
# Imports rewritten to kestrel_contracts.v1 by kestrel_contracts.codegen. DO NOT EDIT.
from kestrel_contracts.v1 import order_request_pb2 as _order_request_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ControlProcess(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTROL_PROCESS_UNSPECIFIED: _ClassVar[ControlProcess]
    CONTROL_PROCESS_INGESTION: _ClassVar[ControlProcess]
    CONTROL_PROCESS_SIGNALS: _ClassVar[ControlProcess]
    CONTROL_PROCESS_RISK: _ClassVar[ControlProcess]
    CONTROL_PROCESS_EXECUTION: _ClassVar[ControlProcess]
    CONTROL_PROCESS_RECONCILIATION: _ClassVar[ControlProcess]
    CONTROL_PROCESS_RETRAINING: _ClassVar[ControlProcess]

class ControlAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTROL_ACTION_UNSPECIFIED: _ClassVar[ControlAction]
    CONTROL_ACTION_PAUSE: _ClassVar[ControlAction]
    CONTROL_ACTION_RESUME: _ClassVar[ControlAction]
    CONTROL_ACTION_STOP: _ClassVar[ControlAction]
    CONTROL_ACTION_START: _ClassVar[ControlAction]
    CONTROL_ACTION_HALT: _ClassVar[ControlAction]

class ControlState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTROL_STATE_UNSPECIFIED: _ClassVar[ControlState]
    CONTROL_STATE_RUNNING: _ClassVar[ControlState]
    CONTROL_STATE_PAUSED: _ClassVar[ControlState]
    CONTROL_STATE_STOPPED: _ClassVar[ControlState]
    CONTROL_STATE_HALTED: _ClassVar[ControlState]

class InstrumentMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INSTRUMENT_MODE_UNSPECIFIED: _ClassVar[InstrumentMode]
    INSTRUMENT_MODE_NORMAL: _ClassVar[InstrumentMode]
    INSTRUMENT_MODE_REDUCE_ONLY: _ClassVar[InstrumentMode]
    INSTRUMENT_MODE_CLOSE_ONLY: _ClassVar[InstrumentMode]
CONTROL_PROCESS_UNSPECIFIED: ControlProcess
CONTROL_PROCESS_INGESTION: ControlProcess
CONTROL_PROCESS_SIGNALS: ControlProcess
CONTROL_PROCESS_RISK: ControlProcess
CONTROL_PROCESS_EXECUTION: ControlProcess
CONTROL_PROCESS_RECONCILIATION: ControlProcess
CONTROL_PROCESS_RETRAINING: ControlProcess
CONTROL_ACTION_UNSPECIFIED: ControlAction
CONTROL_ACTION_PAUSE: ControlAction
CONTROL_ACTION_RESUME: ControlAction
CONTROL_ACTION_STOP: ControlAction
CONTROL_ACTION_START: ControlAction
CONTROL_ACTION_HALT: ControlAction
CONTROL_STATE_UNSPECIFIED: ControlState
CONTROL_STATE_RUNNING: ControlState
CONTROL_STATE_PAUSED: ControlState
CONTROL_STATE_STOPPED: ControlState
CONTROL_STATE_HALTED: ControlState
INSTRUMENT_MODE_UNSPECIFIED: InstrumentMode
INSTRUMENT_MODE_NORMAL: InstrumentMode
INSTRUMENT_MODE_REDUCE_ONLY: InstrumentMode
INSTRUMENT_MODE_CLOSE_ONLY: InstrumentMode

class KillSwitch(_message.Message):
    __slots__ = ("engaged",)
    ENGAGED_FIELD_NUMBER: _ClassVar[int]
    engaged: bool
    def __init__(self, engaged: bool = ...) -> None: ...

class ProcessControl(_message.Message):
    __slots__ = ("process", "scope", "action", "before", "after", "automated")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    AUTOMATED_FIELD_NUMBER: _ClassVar[int]
    process: ControlProcess
    scope: str
    action: ControlAction
    before: ControlState
    after: ControlState
    automated: bool
    def __init__(self, process: _Optional[_Union[ControlProcess, str]] = ..., scope: _Optional[str] = ..., action: _Optional[_Union[ControlAction, str]] = ..., before: _Optional[_Union[ControlState, str]] = ..., after: _Optional[_Union[ControlState, str]] = ..., automated: bool = ...) -> None: ...

class InstrumentOverride(_message.Message):
    __slots__ = ("account", "symbol", "mode")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    account: str
    symbol: str
    mode: InstrumentMode
    def __init__(self, account: _Optional[str] = ..., symbol: _Optional[str] = ..., mode: _Optional[_Union[InstrumentMode, str]] = ...) -> None: ...

class Flatten(_message.Message):
    __slots__ = ("account", "symbol")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    account: str
    symbol: str
    def __init__(self, account: _Optional[str] = ..., symbol: _Optional[str] = ...) -> None: ...

class OperatorCommand(_message.Message):
    __slots__ = ("event_id", "ts_event", "ts_init", "actor", "reason", "kill_switch", "submit_order", "process_control", "instrument_override", "flatten")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    KILL_SWITCH_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_ORDER_FIELD_NUMBER: _ClassVar[int]
    PROCESS_CONTROL_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    FLATTEN_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts_event: int
    ts_init: int
    actor: str
    reason: str
    kill_switch: KillSwitch
    submit_order: _order_request_pb2.OrderRequest
    process_control: ProcessControl
    instrument_override: InstrumentOverride
    flatten: Flatten
    def __init__(self, event_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., kill_switch: _Optional[_Union[KillSwitch, _Mapping]] = ..., submit_order: _Optional[_Union[_order_request_pb2.OrderRequest, _Mapping]] = ..., process_control: _Optional[_Union[ProcessControl, _Mapping]] = ..., instrument_override: _Optional[_Union[InstrumentOverride, _Mapping]] = ..., flatten: _Optional[_Union[Flatten, _Mapping]] = ...) -> None: ...
