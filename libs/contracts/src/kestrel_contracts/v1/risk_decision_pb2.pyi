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

class RiskOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RISK_OUTCOME_UNSPECIFIED: _ClassVar[RiskOutcome]
    RISK_OUTCOME_APPROVED: _ClassVar[RiskOutcome]
    RISK_OUTCOME_REJECTED: _ClassVar[RiskOutcome]

class RiskReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RISK_REASON_UNSPECIFIED: _ClassVar[RiskReason]
    RISK_REASON_KILL_SWITCH: _ClassVar[RiskReason]
    RISK_REASON_MAX_POSITION: _ClassVar[RiskReason]
    RISK_REASON_MAX_GROSS_EXPOSURE: _ClassVar[RiskReason]
    RISK_REASON_MAX_ORDER_NOTIONAL: _ClassVar[RiskReason]
    RISK_REASON_ORDER_RATE_LIMIT: _ClassVar[RiskReason]
    RISK_REASON_DAILY_LOSS_LIMIT: _ClassVar[RiskReason]
    RISK_REASON_DRAWDOWN_CIRCUIT_BREAKER: _ClassVar[RiskReason]
    RISK_REASON_EXCHANGE_FILTER: _ClassVar[RiskReason]
    RISK_REASON_ZERO_QUANTITY: _ClassVar[RiskReason]
    RISK_REASON_INSUFFICIENT_FUNDS: _ClassVar[RiskReason]
    RISK_REASON_STALE_SIGNAL: _ClassVar[RiskReason]
    RISK_REASON_UNKNOWN_SYMBOL: _ClassVar[RiskReason]
    RISK_REASON_INVALID_REQUEST: _ClassVar[RiskReason]
    RISK_REASON_TRADING_PAUSED: _ClassVar[RiskReason]
    RISK_REASON_TRADING_HALTED: _ClassVar[RiskReason]
    RISK_REASON_INSTRUMENT_RESTRICTED: _ClassVar[RiskReason]
RISK_OUTCOME_UNSPECIFIED: RiskOutcome
RISK_OUTCOME_APPROVED: RiskOutcome
RISK_OUTCOME_REJECTED: RiskOutcome
RISK_REASON_UNSPECIFIED: RiskReason
RISK_REASON_KILL_SWITCH: RiskReason
RISK_REASON_MAX_POSITION: RiskReason
RISK_REASON_MAX_GROSS_EXPOSURE: RiskReason
RISK_REASON_MAX_ORDER_NOTIONAL: RiskReason
RISK_REASON_ORDER_RATE_LIMIT: RiskReason
RISK_REASON_DAILY_LOSS_LIMIT: RiskReason
RISK_REASON_DRAWDOWN_CIRCUIT_BREAKER: RiskReason
RISK_REASON_EXCHANGE_FILTER: RiskReason
RISK_REASON_ZERO_QUANTITY: RiskReason
RISK_REASON_INSUFFICIENT_FUNDS: RiskReason
RISK_REASON_STALE_SIGNAL: RiskReason
RISK_REASON_UNKNOWN_SYMBOL: RiskReason
RISK_REASON_INVALID_REQUEST: RiskReason
RISK_REASON_TRADING_PAUSED: RiskReason
RISK_REASON_TRADING_HALTED: RiskReason
RISK_REASON_INSTRUMENT_RESTRICTED: RiskReason

class RiskCheck(_message.Message):
    __slots__ = ("name", "passed", "limit", "observed", "detail")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    passed: bool
    limit: str
    observed: str
    detail: str
    def __init__(self, name: _Optional[str] = ..., passed: bool = ..., limit: _Optional[str] = ..., observed: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class RiskDecision(_message.Message):
    __slots__ = ("event_id", "ts_event", "ts_init", "outcome", "reason", "reason_text", "account", "strategy_id", "symbol", "venue", "side", "quantity", "reference_price", "notional", "origin", "client_order_id", "signal_event_id", "order_event_id", "checks")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REASON_TEXT_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_PRICE_FIELD_NUMBER: _ClassVar[int]
    NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts_event: int
    ts_init: int
    outcome: RiskOutcome
    reason: RiskReason
    reason_text: str
    account: str
    strategy_id: str
    symbol: str
    venue: str
    side: _common_pb2.Side
    quantity: str
    reference_price: str
    notional: str
    origin: _order_request_pb2.OrderOrigin
    client_order_id: str
    signal_event_id: str
    order_event_id: str
    checks: _containers.RepeatedCompositeFieldContainer[RiskCheck]
    def __init__(self, event_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ..., outcome: _Optional[_Union[RiskOutcome, str]] = ..., reason: _Optional[_Union[RiskReason, str]] = ..., reason_text: _Optional[str] = ..., account: _Optional[str] = ..., strategy_id: _Optional[str] = ..., symbol: _Optional[str] = ..., venue: _Optional[str] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., quantity: _Optional[str] = ..., reference_price: _Optional[str] = ..., notional: _Optional[str] = ..., origin: _Optional[_Union[_order_request_pb2.OrderOrigin, str]] = ..., client_order_id: _Optional[str] = ..., signal_event_id: _Optional[str] = ..., order_event_id: _Optional[str] = ..., checks: _Optional[_Iterable[_Union[RiskCheck, _Mapping]]] = ...) -> None: ...
