"""Orders risk approved that have not finished trading: the exposure fills do not show yet.

A market order fills at the NEXT bar's open, so the signal of that next bar is often decided before
the fill of the previous order comes back on execution.reports. Sizing from fills alone would buy
the target again on every such bar (and sell a long twice). Risk therefore counts its working orders
conservatively: pending buys add to the position a BUY tops up and reserve their cash; pending sells
come off what a SELL may still sell. An order leaves this set when its report is terminal (FILLED,
CANCELED, REJECTED, EXPIRED); a partial fill shrinks it by what filled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from kestrel_trading.domain import Side

TERMINAL_STATUSES = frozenset({"FILLED", "CANCELED", "REJECTED", "EXPIRED"})


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal  # the order's full quantity
    price: Decimal  # the price risk approved it at: reserves quote for a buy
    filled: Decimal = Decimal(0)

    @property
    def remaining(self) -> Decimal:
        return max(Decimal(0), self.quantity - self.filled)


class WorkingOrders:
    """Working orders by client order id (a copyable value: risk undoes a batch that failed to store)."""

    def __init__(self, orders: Iterable[WorkingOrder] = ()) -> None:
        self._orders: dict[str, WorkingOrder] = {o.client_order_id: o for o in orders}

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, client_order_id: object) -> bool:
        return client_order_id in self._orders

    def copy(self) -> WorkingOrders:
        return WorkingOrders(self._orders.values())

    def add(self, order: WorkingOrder) -> None:
        self._orders.setdefault(order.client_order_id, order)  # a re-decided signal is the same order

    def on_report(self, client_order_id: str, status: str, cumulative: Decimal | None) -> None:
        """Execution's news about an order: terminal drops it, otherwise its filled part is updated."""
        order = self._orders.get(client_order_id)
        if order is None:
            return
        if status in TERMINAL_STATUSES:
            del self._orders[client_order_id]
        elif cumulative is not None and cumulative > order.filled:
            self._orders[client_order_id] = replace(order, filled=cumulative)

    def pending(self, symbol: str, side: Side) -> Decimal:
        return sum(
            (o.remaining for o in self._orders.values() if o.symbol == symbol and o.side is side),
            Decimal(0),
        )

    def reserved_cash(self) -> Decimal:
        """Quote the pending buys will spend (at the price they were approved at, before fees)."""
        return sum((o.remaining * o.price for o in self._orders.values() if o.side is Side.BUY), Decimal(0))

    def net_by_symbol(self) -> Mapping[str, Decimal]:
        """Signed remaining quantity per symbol: what the positions become if every order fills."""
        net: dict[str, Decimal] = {}
        for o in self._orders.values():
            net[o.symbol] = net.get(o.symbol, Decimal(0)) + o.remaining * o.side.sign
        return net
