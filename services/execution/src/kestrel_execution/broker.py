"""The broker adapter interface, and the paper broker over `kestrel_trading.paper`.

The service talks to a `Broker` only; which one runs is wiring (`__main__`), never an `if paper:`
branch. A broker is stateless: the working state of every order lives in PostgreSQL (loaded and
locked per market event), so a restart or a second replica continues exactly where the last left.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from kestrel_trading.domain import Bar
from kestrel_trading.instruments import Instrument
from kestrel_trading.orders import Order, cancel
from kestrel_trading.paper import PaperConfig, PaperStep, WorkingOrder, on_bar


class Broker(Protocol):
    """What the execution service needs from a venue."""

    @property
    def name(self) -> str:
        """Written to ExecutionReport.broker and trading.orders.broker."""
        ...

    def accept(self, order: Order, submitted_at_ns: int) -> WorkingOrder:
        """Take a NEW order; `submitted_at_ns` is the decision instant (nothing fills before it)."""
        ...

    def on_bar(self, working: WorkingOrder, bar: Bar, instrument: Instrument) -> PaperStep:
        """Advance a working order by one closed bar of its symbol: maybe a fill, maybe a final state."""
        ...

    def cancel(self, working: WorkingOrder, reason: str) -> WorkingOrder:
        """Cancel what is still working (`reason`: an ExecutionReason name)."""
        ...


class PaperBroker:
    """Fills against the bars after the order with the library's paper fill model."""

    def __init__(self, config: PaperConfig) -> None:
        self._config = config

    @property
    def name(self) -> str:
        return "paper"

    def accept(self, order: Order, submitted_at_ns: int) -> WorkingOrder:
        return WorkingOrder(order, submitted_at_ns)

    def on_bar(self, working: WorkingOrder, bar: Bar, instrument: Instrument) -> PaperStep:
        return on_bar(working, bar, instrument, self._config)

    def cancel(self, working: WorkingOrder, reason: str) -> WorkingOrder:
        return replace(working, order=cancel(working.order, reason))
