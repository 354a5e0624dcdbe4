# mypy: disable-error-code="type-arg"
# Imports rewritten to kestrel_contracts.v1 by kestrel_contracts.codegen. DO NOT EDIT.
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BacktestStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BACKTEST_STATUS_UNSPECIFIED: _ClassVar[BacktestStatus]
    BACKTEST_STATUS_SUCCEEDED: _ClassVar[BacktestStatus]
    BACKTEST_STATUS_FAILED: _ClassVar[BacktestStatus]
    BACKTEST_STATUS_CANCELED: _ClassVar[BacktestStatus]
BACKTEST_STATUS_UNSPECIFIED: BacktestStatus
BACKTEST_STATUS_SUCCEEDED: BacktestStatus
BACKTEST_STATUS_FAILED: BacktestStatus
BACKTEST_STATUS_CANCELED: BacktestStatus

class BacktestResult(_message.Message):
    __slots__ = ("event_id", "ts_event", "ts_init", "job_id", "job_event_id", "status", "error_type", "error_message", "started_at_ns", "bars_processed", "trade_count", "initial_cash", "final_equity", "net_pnl", "total_fees", "quote_asset", "total_return", "annualized_return", "sharpe_ratio", "sortino_ratio", "max_drawdown", "win_rate", "artifact_uri", "mode", "metrics", "rejection_count", "strategy_id")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_TYPE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_NS_FIELD_NUMBER: _ClassVar[int]
    BARS_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    TRADE_COUNT_FIELD_NUMBER: _ClassVar[int]
    INITIAL_CASH_FIELD_NUMBER: _ClassVar[int]
    FINAL_EQUITY_FIELD_NUMBER: _ClassVar[int]
    NET_PNL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FEES_FIELD_NUMBER: _ClassVar[int]
    QUOTE_ASSET_FIELD_NUMBER: _ClassVar[int]
    TOTAL_RETURN_FIELD_NUMBER: _ClassVar[int]
    ANNUALIZED_RETURN_FIELD_NUMBER: _ClassVar[int]
    SHARPE_RATIO_FIELD_NUMBER: _ClassVar[int]
    SORTINO_RATIO_FIELD_NUMBER: _ClassVar[int]
    MAX_DRAWDOWN_FIELD_NUMBER: _ClassVar[int]
    WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_URI_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    REJECTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts_event: int
    ts_init: int
    job_id: str
    job_event_id: str
    status: BacktestStatus
    error_type: str
    error_message: str
    started_at_ns: int
    bars_processed: int
    trade_count: int
    initial_cash: str
    final_equity: str
    net_pnl: str
    total_fees: str
    quote_asset: str
    total_return: float
    annualized_return: float
    sharpe_ratio: float
    sortino_ratio: float
    max_drawdown: float
    win_rate: float
    artifact_uri: str
    mode: str
    metrics: _containers.ScalarMap[str, float]
    rejection_count: int
    strategy_id: str
    def __init__(self, event_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ..., job_id: _Optional[str] = ..., job_event_id: _Optional[str] = ..., status: _Optional[_Union[BacktestStatus, str]] = ..., error_type: _Optional[str] = ..., error_message: _Optional[str] = ..., started_at_ns: _Optional[int] = ..., bars_processed: _Optional[int] = ..., trade_count: _Optional[int] = ..., initial_cash: _Optional[str] = ..., final_equity: _Optional[str] = ..., net_pnl: _Optional[str] = ..., total_fees: _Optional[str] = ..., quote_asset: _Optional[str] = ..., total_return: _Optional[float] = ..., annualized_return: _Optional[float] = ..., sharpe_ratio: _Optional[float] = ..., sortino_ratio: _Optional[float] = ..., max_drawdown: _Optional[float] = ..., win_rate: _Optional[float] = ..., artifact_uri: _Optional[str] = ..., mode: _Optional[str] = ..., metrics: _Optional[_Mapping[str, float]] = ..., rejection_count: _Optional[int] = ..., strategy_id: _Optional[str] = ...) -> None: ...

class BacktestProgress(_message.Message):
    __slots__ = ("event_id", "ts_event", "ts_init", "job_id", "fraction", "bars_processed", "stage")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    BARS_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts_event: int
    ts_init: int
    job_id: str
    fraction: float
    bars_processed: int
    stage: str
    def __init__(self, event_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ..., job_id: _Optional[str] = ..., fraction: _Optional[float] = ..., bars_processed: _Optional[int] = ..., stage: _Optional[str] = ...) -> None: ...
