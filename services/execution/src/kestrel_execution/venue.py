"""The venue interface: submit / cancel / replace, answered by venue events.

A venue (the paper broker, the Binance spot testnet, ...) acknowledges, rejects, fills, cancels and
expires orders on its own time. Execution hands it an order and gets back what the venue said at
once; everything the venue says later arrives through the venue's own feed (`tasks`): the paper
broker turns market bars into events, a live venue its execution reports. Both go through the same
pure state machine (`kestrel_execution.state.apply_events`), the same store, outbox and reports, so
nothing else in execution can tell which venue it talks to.

Crash safety: an order is stored (venue state PENDING) before it is submitted, so a venue order can
never exist without its Kestrel record. A submit whose outcome is unknown (a timeout, a 5xx) leaves
the order UNKNOWN until `resolve` asks the venue by client order id; only when the venue says it
never saw the order is it submitted again, under the same client order id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from kestrel_trading.commissions import base_asset_of, position_fills
from kestrel_trading.domain import Fill
from kestrel_trading.orders import Order

if TYPE_CHECKING:
    from kestrel_execution.handlers import ExecutionContext
    from kestrel_execution.reconcile import VenueSnapshot
    from kestrel_execution.reports import OrderMeta
    from kestrel_execution.repository import CatchUp, ExecutionStore
    from kestrel_messaging import ConsumerOptions
    from kestrel_messaging.kafka import KafkaBus
    from kestrel_trading.instruments import Instrument


class VenueState(StrEnum):
    """What Kestrel knows of the venue's side of an order (trading.orders.venue_state)."""

    PENDING = "PENDING"  # stored, not yet answered by the venue (or a crash came between)
    ACKED = "ACKED"  # the venue has it (or had it: it may be final)
    UNKNOWN = "UNKNOWN"  # a submit's outcome is unknown: ask the venue before anything else


@dataclass(frozen=True, slots=True)
class Acked:
    ts_ns: int
    venue_order_id: str


@dataclass(frozen=True, slots=True)
class VenueRejected:
    ts_ns: int
    reason: str  # ExecutionReason name
    text: str


@dataclass(frozen=True, slots=True)
class Traded:
    """One execution. `fill.fee` is in the quote currency (what positions and P&L add up);
    `commission` / `commission_asset` are what the venue charged, as it charged it."""

    fill: Fill
    commission: Decimal
    commission_asset: str
    venue_trade_id: str = ""
    # The commission was taken from the base asset (Binance charges a buyer in what it bought): the
    # holding shrinks by it, which `position_fills` shows as a second, fee-only reduction.
    commission_in_base: bool = False

    @property
    def ts_ns(self) -> int:
        return self.fill.ts_ns

    def position_fills(self) -> list[Fill]:
        """What the trade does to the position (`kestrel_trading.commissions`)."""
        if not self.commission_in_base:
            return [self.fill]
        return position_fills(self.fill, self.commission, base_asset_of(self.fill.symbol))


@dataclass(frozen=True, slots=True)
class Canceled:
    ts_ns: int
    reason: str  # ExecutionReason name
    text: str = ""


@dataclass(frozen=True, slots=True)
class Expired:
    ts_ns: int
    reason: str  # ExecutionReason name
    text: str = ""


VenueEvent = Acked | VenueRejected | Traded | Canceled | Expired


class OutcomeUnknownError(Exception):
    """The venue may or may not have acted on the request (timeout, 5xx, "status unknown")."""


class VenueUnavailableError(Exception):
    """The venue refused the request without acting on it (rate limit, ban, down): try later."""

    def __init__(self, message: str, retry_after_s: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class VenueRuntime:
    """What a venue's own feed may use: the shared context and the service's connections."""

    context: ExecutionContext
    kafka: KafkaBus
    consumer: str
    options: ConsumerOptions


class Venue(Protocol):
    @property
    def name(self) -> str:
        """Written to ExecutionReport.broker and trading.orders.broker."""
        ...

    async def submit(self, order: Order, meta: OrderMeta) -> Sequence[VenueEvent]:
        """Send a NEW order; what the venue answered at once. OutcomeUnknownError when nobody can say
        whether the venue took it, VenueUnavailableError when it surely did not."""
        ...

    async def cancel(self, order: Order, meta: OrderMeta, reason: str) -> Sequence[VenueEvent]:
        """Cancel what is still working (`reason`: an ExecutionReason name)."""
        ...

    async def resolve(self, order: Order, meta: OrderMeta) -> Sequence[VenueEvent] | None:
        """The venue's whole account of the order (ack, every trade, its final state), or None when
        the venue has no such order."""
        ...

    async def snapshot(self, symbols: Sequence[str], *, orders: bool = True) -> VenueSnapshot | None:
        """The venue's open orders and balances, and the base asset of each of `symbols` (Kestrel's),
        for reconciliation (`orders=False`: balances only, a cheaper request); None for a venue whose
        book is Kestrel's own store (the paper broker), where there is nothing to compare."""
        ...

    def catch_up(self, instrument: Instrument) -> CatchUp | None:
        """How stored market data moves a just-accepted order (bar-driven venues), else None."""
        ...

    async def market_time_ns(self, symbol: str, timeframe: str, store: ExecutionStore) -> int | None:
        """The market's clock, which times an algorithm's slices: the venue's now (None: not known
        yet). A bar-driven venue lives on the bars' time (replays run faster than the wall clock)."""
        ...

    def tasks(self, runtime: VenueRuntime, stop: asyncio.Event) -> list[Coroutine[Any, Any, None]]:
        """The venue's own feed of events, run beside the order intake until `stop`."""
        ...
