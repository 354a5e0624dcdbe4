# mypy: disable-error-code="type-arg"
# Imports rewritten to kestrel_contracts.v1 by kestrel_contracts.codegen. DO NOT EDIT.
from kestrel_contracts.v1 import common_pb2 as _common_pb2
from kestrel_contracts.v1 import order_request_pb2 as _order_request_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_NEW: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_FILLED: _ClassVar[OrderStatus]
    ORDER_STATUS_FILLED: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELED: _ClassVar[OrderStatus]
    ORDER_STATUS_REJECTED: _ClassVar[OrderStatus]
    ORDER_STATUS_EXPIRED: _ClassVar[OrderStatus]

class Liquidity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIQUIDITY_UNSPECIFIED: _ClassVar[Liquidity]
    LIQUIDITY_MAKER: _ClassVar[Liquidity]
    LIQUIDITY_TAKER: _ClassVar[Liquidity]

class ExecutionReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXECUTION_REASON_UNSPECIFIED: _ClassVar[ExecutionReason]
    EXECUTION_REASON_INVALID_QUANTITY: _ClassVar[ExecutionReason]
    EXECUTION_REASON_INVALID_PRICE: _ClassVar[ExecutionReason]
    EXECUTION_REASON_MIN_NOTIONAL: _ClassVar[ExecutionReason]
    EXECUTION_REASON_INSUFFICIENT_BALANCE: _ClassVar[ExecutionReason]
    EXECUTION_REASON_UNKNOWN_SYMBOL: _ClassVar[ExecutionReason]
    EXECUTION_REASON_MALFORMED_ORDER: _ClassVar[ExecutionReason]
    EXECUTION_REASON_VENUE_REJECTED: _ClassVar[ExecutionReason]
    EXECUTION_REASON_VENUE_UNAVAILABLE: _ClassVar[ExecutionReason]
    EXECUTION_REASON_TIME_IN_FORCE: _ClassVar[ExecutionReason]
    EXECUTION_REASON_EXPIRED: _ClassVar[ExecutionReason]
    EXECUTION_REASON_CANCELED_BY_OPERATOR: _ClassVar[ExecutionReason]
    EXECUTION_REASON_KILL_SWITCH: _ClassVar[ExecutionReason]
    EXECUTION_REASON_INTERNAL_ERROR: _ClassVar[ExecutionReason]
    EXECUTION_REASON_TRADING_HALTED: _ClassVar[ExecutionReason]
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_NEW: OrderStatus
ORDER_STATUS_PARTIALLY_FILLED: OrderStatus
ORDER_STATUS_FILLED: OrderStatus
ORDER_STATUS_CANCELED: OrderStatus
ORDER_STATUS_REJECTED: OrderStatus
ORDER_STATUS_EXPIRED: OrderStatus
LIQUIDITY_UNSPECIFIED: Liquidity
LIQUIDITY_MAKER: Liquidity
LIQUIDITY_TAKER: Liquidity
EXECUTION_REASON_UNSPECIFIED: ExecutionReason
EXECUTION_REASON_INVALID_QUANTITY: ExecutionReason
EXECUTION_REASON_INVALID_PRICE: ExecutionReason
EXECUTION_REASON_MIN_NOTIONAL: ExecutionReason
EXECUTION_REASON_INSUFFICIENT_BALANCE: ExecutionReason
EXECUTION_REASON_UNKNOWN_SYMBOL: ExecutionReason
EXECUTION_REASON_MALFORMED_ORDER: ExecutionReason
EXECUTION_REASON_VENUE_REJECTED: ExecutionReason
EXECUTION_REASON_VENUE_UNAVAILABLE: ExecutionReason
EXECUTION_REASON_TIME_IN_FORCE: ExecutionReason
EXECUTION_REASON_EXPIRED: ExecutionReason
EXECUTION_REASON_CANCELED_BY_OPERATOR: ExecutionReason
EXECUTION_REASON_KILL_SWITCH: ExecutionReason
EXECUTION_REASON_INTERNAL_ERROR: ExecutionReason
EXECUTION_REASON_TRADING_HALTED: ExecutionReason

class Fill(_message.Message):
    __slots__ = ("fill_id", "ts_event", "price", "quantity", "fee", "fee_asset", "liquidity", "venue_trade_id")
    FILL_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    FEE_ASSET_FIELD_NUMBER: _ClassVar[int]
    LIQUIDITY_FIELD_NUMBER: _ClassVar[int]
    VENUE_TRADE_ID_FIELD_NUMBER: _ClassVar[int]
    fill_id: str
    ts_event: int
    price: str
    quantity: str
    fee: str
    fee_asset: str
    liquidity: Liquidity
    venue_trade_id: str
    def __init__(self, fill_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., price: _Optional[str] = ..., quantity: _Optional[str] = ..., fee: _Optional[str] = ..., fee_asset: _Optional[str] = ..., liquidity: _Optional[_Union[Liquidity, str]] = ..., venue_trade_id: _Optional[str] = ...) -> None: ...

class ExecutionReport(_message.Message):
    __slots__ = ("event_id", "ts_event", "ts_init", "client_order_id", "venue_order_id", "account", "strategy_id", "symbol", "venue", "side", "order_type", "status", "quantity", "limit_price", "cumulative_quantity", "leaves_quantity", "average_price", "fills", "reason", "reason_text", "sequence", "broker", "order_event_id", "signal_event_id", "parent_client_order_id", "arrival_price", "slippage_bps", "algorithm")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    VENUE_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    CUMULATIVE_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    LEAVES_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_PRICE_FIELD_NUMBER: _ClassVar[int]
    FILLS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REASON_TEXT_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    BROKER_FIELD_NUMBER: _ClassVar[int]
    ORDER_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ARRIVAL_PRICE_FIELD_NUMBER: _ClassVar[int]
    SLIPPAGE_BPS_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts_event: int
    ts_init: int
    client_order_id: str
    venue_order_id: str
    account: str
    strategy_id: str
    symbol: str
    venue: str
    side: _common_pb2.Side
    order_type: _order_request_pb2.OrderType
    status: OrderStatus
    quantity: str
    limit_price: str
    cumulative_quantity: str
    leaves_quantity: str
    average_price: str
    fills: _containers.RepeatedCompositeFieldContainer[Fill]
    reason: ExecutionReason
    reason_text: str
    sequence: int
    broker: str
    order_event_id: str
    signal_event_id: str
    parent_client_order_id: str
    arrival_price: str
    slippage_bps: str
    algorithm: _order_request_pb2.ExecutionAlgorithm
    def __init__(self, event_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ..., client_order_id: _Optional[str] = ..., venue_order_id: _Optional[str] = ..., account: _Optional[str] = ..., strategy_id: _Optional[str] = ..., symbol: _Optional[str] = ..., venue: _Optional[str] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., order_type: _Optional[_Union[_order_request_pb2.OrderType, str]] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., quantity: _Optional[str] = ..., limit_price: _Optional[str] = ..., cumulative_quantity: _Optional[str] = ..., leaves_quantity: _Optional[str] = ..., average_price: _Optional[str] = ..., fills: _Optional[_Iterable[_Union[Fill, _Mapping]]] = ..., reason: _Optional[_Union[ExecutionReason, str]] = ..., reason_text: _Optional[str] = ..., sequence: _Optional[int] = ..., broker: _Optional[str] = ..., order_event_id: _Optional[str] = ..., signal_event_id: _Optional[str] = ..., parent_client_order_id: _Optional[str] = ..., arrival_price: _Optional[str] = ..., slippage_bps: _Optional[str] = ..., algorithm: _Optional[_Union[_order_request_pb2.ExecutionAlgorithm, str]] = ...) -> None: ...
