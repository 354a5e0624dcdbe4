"""The in-memory store's parent orders (a mixin of `testing.InMemoryExecutionStore`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_execution.algorithms import Child, ParentOrder, child_index
from kestrel_trading.orders import OrderStatus

if TYPE_CHECKING:
    from kestrel_execution.progress import StoredOrder
    from kestrel_execution.testing import RejectedRow
    from kestrel_trading.domain import Bar


class InMemoryParents:
    parents: dict[str, ParentOrder]
    orders: dict[str, StoredOrder]
    rejected: dict[str, RejectedRow]
    bars: dict[tuple[str, str], list[Bar]]

    def _add(self, report: ExecutionReport) -> None:
        raise NotImplementedError

    async def store_parents(self, parents: Sequence[tuple[ParentOrder, ExecutionReport]]) -> list[bool]:
        out: list[bool] = []
        for parent, report in parents:
            coid = parent.meta.client_order_id
            fresh = coid not in self.parents and coid not in self.orders and coid not in self.rejected
            if fresh:
                self.parents[coid] = parent
                self._add(report)
            out.append(fresh)
        return out

    async def open_parents(self, broker: str, fee_asset: Callable[[str], str]) -> list[ParentOrder]:
        return [
            p for p in self.parents.values() if p.meta.broker == broker and not p.order.status.is_terminal
        ]

    async def parent_order(self, client_order_id: str, fee_asset: Callable[[str], str]) -> ParentOrder | None:
        return self.parents.get(client_order_id)

    async def children(self, parent_ids: Sequence[str]) -> dict[str, list[Child]]:
        found: dict[str, list[Child]] = {parent_id: [] for parent_id in parent_ids}
        for stored in self.orders.values():
            parent_id, order = stored.meta.parent_client_order_id, stored.working.order
            if parent_id in found:
                index = child_index(parent_id, order.client_order_id)
                kid = Child(index, order.quantity, order.filled_quantity, order.filled_notional, order.fees,
                            order.status, order.reason)  # fmt: skip
                found[parent_id].append(kid)
        for row in self.rejected.values():
            if row.parent_client_order_id in found:
                index = child_index(row.parent_client_order_id, row.request.client_order_id)
                zero = Decimal(0)
                child = Child(
                    index, Decimal(row.request.quantity), zero, zero, zero, OrderStatus.REJECTED, row.reason
                )
                found[row.parent_client_order_id].append(child)
        for kids in found.values():
            kids.sort(key=lambda child: child.index)
        return found

    async def save_parents(
        self, parents: Sequence[tuple[ParentOrder, ExecutionReport]]
    ) -> list[tuple[ParentOrder, ExecutionReport]]:
        saved: list[tuple[ParentOrder, ExecutionReport]] = []
        for parent, report in parents:
            current = self.parents.get(parent.meta.client_order_id)
            if current is not None and current.sequence == parent.sequence - 1:
                self.parents[parent.meta.client_order_id] = parent
                self._add(report)
                saved.append((parent, report))
        return saved

    async def market_time_ns(self, symbol: str, timeframe: str) -> int | None:
        bars = self.bars.get((symbol, timeframe))
        return max(bar.ts_close_ns for bar in bars) if bars else None
