# mypy: disable-error-code="type-arg"
# Imports rewritten to kestrel_contracts.v1 by kestrel_contracts.codegen. DO NOT EDIT.
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SignalAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNAL_ACTION_UNSPECIFIED: _ClassVar[SignalAction]
    SIGNAL_ACTION_BUY: _ClassVar[SignalAction]
    SIGNAL_ACTION_SELL: _ClassVar[SignalAction]
    SIGNAL_ACTION_HOLD: _ClassVar[SignalAction]
    SIGNAL_ACTION_EXIT: _ClassVar[SignalAction]
SIGNAL_ACTION_UNSPECIFIED: SignalAction
SIGNAL_ACTION_BUY: SignalAction
SIGNAL_ACTION_SELL: SignalAction
SIGNAL_ACTION_HOLD: SignalAction
SIGNAL_ACTION_EXIT: SignalAction

class Signal(_message.Message):
    __slots__ = ("event_id", "ts_event", "ts_init", "symbol", "venue", "timeframe", "strategy_id", "model_name", "model_version", "feature_set_version", "action", "probabilities", "confidence", "reference_price", "volatility", "source_feature_event_id", "source_bar_event_id", "weight")
    class ProbabilitiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    FEATURE_SET_VERSION_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_PRICE_FIELD_NUMBER: _ClassVar[int]
    VOLATILITY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FEATURE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_BAR_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts_event: int
    ts_init: int
    symbol: str
    venue: str
    timeframe: str
    strategy_id: str
    model_name: str
    model_version: str
    feature_set_version: str
    action: SignalAction
    probabilities: _containers.ScalarMap[str, float]
    confidence: float
    reference_price: str
    volatility: float
    source_feature_event_id: str
    source_bar_event_id: str
    weight: float
    def __init__(self, event_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ..., symbol: _Optional[str] = ..., venue: _Optional[str] = ..., timeframe: _Optional[str] = ..., strategy_id: _Optional[str] = ..., model_name: _Optional[str] = ..., model_version: _Optional[str] = ..., feature_set_version: _Optional[str] = ..., action: _Optional[_Union[SignalAction, str]] = ..., probabilities: _Optional[_Mapping[str, float]] = ..., confidence: _Optional[float] = ..., reference_price: _Optional[str] = ..., volatility: _Optional[float] = ..., source_feature_event_id: _Optional[str] = ..., source_bar_event_id: _Optional[str] = ..., weight: _Optional[float] = ...) -> None: ...
