# mypy: disable-error-code="type-arg"
# Imports rewritten to kestrel_contracts.v1 by kestrel_contracts.codegen. DO NOT EDIT.
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BarFlag(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BAR_FLAG_UNSPECIFIED: _ClassVar[BarFlag]
    BAR_FLAG_OUTLIER: _ClassVar[BarFlag]
    BAR_FLAG_AFTER_GAP: _ClassVar[BarFlag]
    BAR_FLAG_OUT_OF_ORDER: _ClassVar[BarFlag]
BAR_FLAG_UNSPECIFIED: BarFlag
BAR_FLAG_OUTLIER: BarFlag
BAR_FLAG_AFTER_GAP: BarFlag
BAR_FLAG_OUT_OF_ORDER: BarFlag

class Bar(_message.Message):
    __slots__ = ("event_id", "ts_event", "ts_init", "symbol", "venue", "timeframe", "ts_open", "open", "high", "low", "close", "volume", "quote_volume", "trade_count", "source", "flags")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    TS_OPEN_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    QUOTE_VOLUME_FIELD_NUMBER: _ClassVar[int]
    TRADE_COUNT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts_event: int
    ts_init: int
    symbol: str
    venue: str
    timeframe: str
    ts_open: int
    open: str
    high: str
    low: str
    close: str
    volume: str
    quote_volume: str
    trade_count: int
    source: str
    flags: _containers.RepeatedScalarFieldContainer[BarFlag]
    def __init__(self, event_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ..., symbol: _Optional[str] = ..., venue: _Optional[str] = ..., timeframe: _Optional[str] = ..., ts_open: _Optional[int] = ..., open: _Optional[str] = ..., high: _Optional[str] = ..., low: _Optional[str] = ..., close: _Optional[str] = ..., volume: _Optional[str] = ..., quote_volume: _Optional[str] = ..., trade_count: _Optional[int] = ..., source: _Optional[str] = ..., flags: _Optional[_Iterable[_Union[BarFlag, str]]] = ...) -> None: ...
