# mypy: disable-error-code="type-arg"
# Imports rewritten to kestrel_contracts.v1 by kestrel_contracts.codegen. DO NOT EDIT.
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Position(_message.Message):
    __slots__ = ("event_id", "ts_event", "ts_init", "account", "strategy_id", "symbol", "venue", "quantity", "average_price", "mark_price", "realized_pnl", "unrealized_pnl", "fees", "quote_asset", "last_fill_id", "execution_report_event_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_PRICE_FIELD_NUMBER: _ClassVar[int]
    MARK_PRICE_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    QUOTE_ASSET_FIELD_NUMBER: _ClassVar[int]
    LAST_FILL_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_REPORT_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    ts_event: int
    ts_init: int
    account: str
    strategy_id: str
    symbol: str
    venue: str
    quantity: str
    average_price: str
    mark_price: str
    realized_pnl: str
    unrealized_pnl: str
    fees: str
    quote_asset: str
    last_fill_id: str
    execution_report_event_id: str
    def __init__(self, event_id: _Optional[str] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ..., account: _Optional[str] = ..., strategy_id: _Optional[str] = ..., symbol: _Optional[str] = ..., venue: _Optional[str] = ..., quantity: _Optional[str] = ..., average_price: _Optional[str] = ..., mark_price: _Optional[str] = ..., realized_pnl: _Optional[str] = ..., unrealized_pnl: _Optional[str] = ..., fees: _Optional[str] = ..., quote_asset: _Optional[str] = ..., last_fill_id: _Optional[str] = ..., execution_report_event_id: _Optional[str] = ...) -> None: ...
