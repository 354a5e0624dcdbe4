# mypy: disable-error-code="type-arg"
# Imports rewritten to kestrel_contracts.v1 by kestrel_contracts.codegen. DO NOT EDIT.
from kestrel_contracts.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_TYPE_UNSPECIFIED: _ClassVar[OrderType]
    ORDER_TYPE_MARKET: _ClassVar[OrderType]
    ORDER_TYPE_LIMIT: _ClassVar[OrderType]

class TimeInForce(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIME_IN_FORCE_UNSPECIFIED: _ClassVar[TimeInForce]
    TIME_IN_FORCE_GTC: _ClassVar[TimeInForce]
    TIME_IN_FORCE_IOC: _ClassVar[TimeInForce]
    TIME_IN_FORCE_FOK: _ClassVar[TimeInForce]

class OrderOrigin(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_ORIGIN_UNSPECIFIED: _ClassVar[OrderOrigin]
    ORDER_ORIGIN_SIGNAL: _ClassVar[OrderOrigin]
    ORDER_ORIGIN_MANUAL: _ClassVar[OrderOrigin]

class ExecutionAlgorithm(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXECUTION_ALGORITHM_UNSPECIFIED: _ClassVar[ExecutionAlgorithm]
    EXECUTION_ALGORITHM_IMMEDIATE: _ClassVar[ExecutionAlgorithm]
    EXECUTION_ALGORITHM_TWAP: _ClassVar[ExecutionAlgorithm]
    EXECUTION_ALGORITHM_ICEBERG: _ClassVar[ExecutionAlgorithm]
ORDER_TYPE_UNSPECIFIED: OrderType
ORDER_TYPE_MARKET: OrderType
ORDER_TYPE_LIMIT: OrderType
TIME_IN_FORCE_UNSPECIFIED: TimeInForce
TIME_IN_FORCE_GTC: TimeInForce
TIME_IN_FORCE_IOC: TimeInForce
TIME_IN_FORCE_FOK: TimeInForce
ORDER_ORIGIN_UNSPECIFIED: OrderOrigin
ORDER_ORIGIN_SIGNAL: OrderOrigin
ORDER_ORIGIN_MANUAL: OrderOrigin
EXECUTION_ALGORITHM_UNSPECIFIED: ExecutionAlgorithm
EXECUTION_ALGORITHM_IMMEDIATE: ExecutionAlgorithm
EXECUTION_ALGORITHM_TWAP: ExecutionAlgorithm
EXECUTION_ALGORITHM_ICEBERG: ExecutionAlgorithm

class AlgorithmSpec(_message.Message):
    __slots__ = ("algorithm", "duration_ns", "slices", "display_quantity")
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    DURATION_NS_FIELD_NUMBER: _ClassVar[int]
    SLICES_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    algorithm: ExecutionAlgorithm
    duration_ns: int
    slices: int
    display_quantity: str
    def __init__(self, algorithm: _Optional[_Union[ExecutionAlgorithm, str]] = ..., duration_ns: _Optional[int] = ..., slices: _Optional[int] = ..., display_quantity: _Optional[str] = ...) -> None: ...

class OrderRequest(_message.Message):
    __slots__ = ("event_id", "ts_event", "ts_init", "client_order_id", "account", "strategy_id", "symbol", "venue", "timeframe", "side", "order_type", "time_in_force", "quantity", "limit_price", "reference_price", "expire_at_ns", "origin", "requested_by", "signal_event_id", "risk_decision_event_id", "algorithm")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_PRICE_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_AT_NS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RISK_DECISION_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts_event: int
    ts_init: int
    client_order_id: str
    account: str
    strategy_id: str
    symbol: str
    venue: str
    timeframe: str
    side: _common_pb2.Side
    order_type: OrderType
    time_in_force: TimeInForce
    quantity: str
    limit_price: str
    reference_price: str
    expire_at_ns: int
    origin: OrderOrigin
    requested_by: str
    signal_event_id: str
    risk_decision_event_id: str
    algorithm: AlgorithmSpec
    def __init__(self, event_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ..., client_order_id: _Optional[str] = ..., account: _Optional[str] = ..., strategy_id: _Optional[str] = ..., symbol: _Optional[str] = ..., venue: _Optional[str] = ..., timeframe: _Optional[str] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., order_type: _Optional[_Union[OrderType, str]] = ..., time_in_force: _Optional[_Union[TimeInForce, str]] = ..., quantity: _Optional[str] = ..., limit_price: _Optional[str] = ..., reference_price: _Optional[str] = ..., expire_at_ns: _Optional[int] = ..., origin: _Optional[_Union[OrderOrigin, str]] = ..., requested_by: _Optional[str] = ..., signal_event_id: _Optional[str] = ..., risk_decision_event_id: _Optional[str] = ..., algorithm: _Optional[_Union[AlgorithmSpec, _Mapping]] = ...) -> None: ...
