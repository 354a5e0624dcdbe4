"""Orders risk approved that have not finished trading: the exposure fills do not show yet.

A market order fills at the NEXT bar's open, so the signal of that next bar is often decided before
the fill of the previous order comes back on execution.reports. Sizing from fills alone would buy
the target again on every such bar (and sell a long twice). Risk therefore counts its working orders
conservatively: pending buys add to the position a BUY tops up and reserve their cash; pending sells
come off what a SELL may still sell. An order leaves this set when its report is terminal (FILLED,
CANCELED, REJECTED, EXPIRED); a partial fill shrinks it by what filled.

Each signal order also remembers the bar it was decided on (`decided_at_ns`), so the risk service
can hold a later bar's signal until execution has answered it (`due_before`), as the backtester's
exact mode applies a bar's fills before the strategy decides on that bar's close.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from kestrel_trading.domain import Side
from kestrel_trading.orders import OrderStatus


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal  # the order's full quantity
    price: Decimal  # the price risk approved it at: reserves quote for a buy
    filled: Decimal = Decimal(0)
    # ts_event of the signal it was approved for; 0: no bar of its own (a manual order), never awaited.
    decided_at_ns: int = 0

    @property
    def remaining(self) -> Decimal:
        return max(Decimal(0), self.quantity - self.filled)


class WorkingOrders:
    """Working orders by client order id, with running totals so a decision costs O(1) however many
    orders are open (a copyable value: risk undoes a batch that failed to store)."""

    def __init__(self, orders: Iterable[WorkingOrder] = ()) -> None:
        self._orders: dict[str, WorkingOrder] = {}
        self._pending: dict[tuple[str, Side], Decimal] = {}
        self._reserved = Decimal(0)
        for order in orders:
            self.add(order)

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, client_order_id: object) -> bool:
        return client_order_id in self._orders

    def copy(self) -> WorkingOrders:
        twin = WorkingOrders()
        twin._orders, twin._pending, twin._reserved = dict(self._orders), dict(self._pending), self._reserved
        return twin

    def add(self, order: WorkingOrder) -> None:
        if order.client_order_id in self._orders:
            return  # a re-decided signal is the same order
        self._orders[order.client_order_id] = order
        self._count(order, +1)

    def on_report(self, client_order_id: str, status: OrderStatus | None, cumulative: Decimal | None) -> None:
        """Execution's news about an order: terminal drops it, otherwise its filled part is updated."""
        order = self._orders.get(client_order_id)
        if order is None:
            return
        if status is not None and status.is_terminal:
            del self._orders[client_order_id]
            self._count(order, -1)
        elif cumulative is not None and cumulative > order.filled:
            self._count(order, -1)
            self._orders[client_order_id] = updated = replace(order, filled=cumulative)
            self._count(updated, +1)

    def _count(self, order: WorkingOrder, sign: int) -> None:
        key = (order.symbol, order.side)
        self._pending[key] = self._pending.get(key, Decimal(0)) + sign * order.remaining
        if order.side is Side.BUY:
            self._reserved += sign * order.remaining * order.price

    def due_before(self, ts_ns: int, *, since_ns: int = 0) -> bool:
        """True while an order decided at or after `since_ns` and strictly before `ts_ns` is working:
        execution should have answered it by the time a later bar's signal is decided. O(open orders),
        and few are open; `since_ns` lets a caller stop waiting for orders it gave up on."""
        return any(since_ns <= o.decided_at_ns < ts_ns for o in self._orders.values() if o.decided_at_ns > 0)

    def pending(self, symbol: str, side: Side) -> Decimal:
        return self._pending.get((symbol, side), Decimal(0))

    def reserved_cash(self) -> Decimal:
        """Quote the pending buys will spend (at the price they were approved at, before fees)."""
        return self._reserved

    def net_by_symbol(self) -> Mapping[str, Decimal]:
        """Signed remaining quantity per symbol: what the positions become if every order fills."""
        net: dict[str, Decimal] = {}
        for (symbol, side), qty in self._pending.items():
            if qty:
                net[symbol] = net.get(symbol, Decimal(0)) + qty * side.sign
        return net
