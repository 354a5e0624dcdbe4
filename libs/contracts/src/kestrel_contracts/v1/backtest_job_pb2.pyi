# mypy: disable-error-code="type-arg"
# Imports rewritten to kestrel_contracts.v1 by kestrel_contracts.codegen. DO NOT EDIT.
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class BacktestJob(_message.Message):
    __slots__ = ("event_id", "ts_event", "ts_init", "job_id", "requested_by", "strategy_id", "model_name", "model_version", "feature_set_version", "symbols", "venue", "timeframe", "start_ns", "end_ns", "initial_cash", "quote_asset", "fee_rate", "slippage_bps", "parameters", "mode", "sizing_fraction", "allow_short", "reference_symbol")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    FEATURE_SET_VERSION_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    START_NS_FIELD_NUMBER: _ClassVar[int]
    END_NS_FIELD_NUMBER: _ClassVar[int]
    INITIAL_CASH_FIELD_NUMBER: _ClassVar[int]
    QUOTE_ASSET_FIELD_NUMBER: _ClassVar[int]
    FEE_RATE_FIELD_NUMBER: _ClassVar[int]
    SLIPPAGE_BPS_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    SIZING_FRACTION_FIELD_NUMBER: _ClassVar[int]
    ALLOW_SHORT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts_event: int
    ts_init: int
    job_id: str
    requested_by: str
    strategy_id: str
    model_name: str
    model_version: str
    feature_set_version: str
    symbols: _containers.RepeatedScalarFieldContainer[str]
    venue: str
    timeframe: str
    start_ns: int
    end_ns: int
    initial_cash: str
    quote_asset: str
    fee_rate: str
    slippage_bps: str
    parameters: _containers.ScalarMap[str, str]
    mode: str
    sizing_fraction: str
    allow_short: bool
    reference_symbol: str
    def __init__(self, event_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ..., job_id: _Optional[str] = ..., requested_by: _Optional[str] = ..., strategy_id: _Optional[str] = ..., model_name: _Optional[str] = ..., model_version: _Optional[str] = ..., feature_set_version: _Optional[str] = ..., symbols: _Optional[_Iterable[str]] = ..., venue: _Optional[str] = ..., timeframe: _Optional[str] = ..., start_ns: _Optional[int] = ..., end_ns: _Optional[int] = ..., initial_cash: _Optional[str] = ..., quote_asset: _Optional[str] = ..., fee_rate: _Optional[str] = ..., slippage_bps: _Optional[str] = ..., parameters: _Optional[_Mapping[str, str]] = ..., mode: _Optional[str] = ..., sizing_fraction: _Optional[str] = ..., allow_short: bool = ..., reference_symbol: _Optional[str] = ...) -> None: ...
