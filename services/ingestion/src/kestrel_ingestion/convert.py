"""RawBar -> the Bar event on Kafka and the row in the store. Decimal all the way; no floats."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from kestrel_contracts.decimals import to_wire
from kestrel_contracts.events import derived_event_id, now_ns, ns_to_datetime
from kestrel_contracts.v1.bar_pb2 import Bar as BarEvent
from kestrel_contracts.v1.bar_pb2 import BarFlag
from kestrel_ingestion.domain import RawBar
from kestrel_store.bars import Bar as BarRow


def bar_event_id(bar: RawBar) -> str:
    """The same bar always gets the same id, so a re-published bar is recognisably the same event."""
    return derived_event_id("bar", bar.venue or bar.source, bar.symbol, bar.timeframe, str(bar.ts_open))


def to_event(bar: RawBar, flags: Iterable[int] = ()) -> BarEvent:
    event = BarEvent(
        event_id=bar_event_id(bar),
        ts_event=bar.ts_close,  # a bar exists in the market only once it has closed
        ts_init=now_ns(),
        symbol=bar.symbol,
        venue=bar.venue,
        timeframe=bar.timeframe,
        ts_open=bar.ts_open,
        open=to_wire(bar.open),
        high=to_wire(bar.high),
        low=to_wire(bar.low),
        close=to_wire(bar.close),
        volume=to_wire(bar.volume),
        source=bar.source,
        flags=[BarFlag.Name(flag) for flag in sorted(flags)],
    )
    if bar.quote_volume is not None:
        event.quote_volume = to_wire(bar.quote_volume)
    if bar.trade_count is not None:
        event.trade_count = bar.trade_count
    return event


def to_row(bar: RawBar) -> BarRow:
    return BarRow(
        symbol=bar.symbol,
        timeframe=bar.timeframe,
        ts=ns_to_datetime(bar.ts_open),
        open=bar.open,
        high=bar.high,
        low=bar.low,
        close=bar.close,
        volume=bar.volume,
        event_id=UUID(bar_event_id(bar)),
    )
