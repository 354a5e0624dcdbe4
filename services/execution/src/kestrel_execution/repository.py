"""The store the handlers depend on, as a Protocol, and its PostgreSQL implementation.

Each method is one transaction: an intake stores the order and its report's outbox row together; a
bar stores every order it changed, their fills, the positions those move and the reports' outbox
rows together. The handlers publish only after these return (the effect is durable).

Catching up: an order can arrive after bars that follow its decision were already stored and
consumed (a replay publishes bars faster than the loop turns them into orders). Its intake then
applies those stored bars to it, oldest first, in the same transaction, under a per-(symbol,
timeframe) advisory lock that the bar consumer takes too. So every bar after the decision reaches
the order exactly once, whichever of the two paths sees it first: the intake sees every bar stored
before it, the bar consumer every bar after it, and ``last_bar_open_ns`` drops a bar seen twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import asyncpg

from kestrel_contracts.events import ns_to_datetime
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_execution import store
from kestrel_execution.progress import OrderChange, StoredOrder
from kestrel_execution.reports import OrderMeta
from kestrel_store.timeseries import ensure_partitions_for
from kestrel_trading.domain import Bar
from kestrel_trading.paper import WorkingOrder

Advance = Callable[[StoredOrder], OrderChange | None]
# How one stored bar moves the newly accepted order (a bar handler's `advance` with the bar unbound).
CatchUp = Callable[[StoredOrder, Bar], OrderChange | None]
CATCH_UP_MAX_BARS = 1000
_DAY_NS = 86_400 * 1_000_000_000


class ExecutionStore(Protocol):
    async def order_exists(self, client_order_id: str) -> bool: ...

    async def store_accepted(
        self,
        meta: OrderMeta,
        working: WorkingOrder,
        request: OrderRequest,
        report: ExecutionReport,
        catch_up: CatchUp | None = None,
    ) -> list[OrderChange] | None:
        """Store a NEW order and its report, then apply `catch_up` with every stored bar opening at or
        after the decision; the changes that made, or None (nothing written) for a stored id."""
        ...

    async def store_rejected(
        self, request: OrderRequest, *, broker: str, timeframe: str, reason: str, text: str,
        report: ExecutionReport,
    ) -> bool:  # fmt: skip
        """Store a REJECTED request and its report; False (nothing written) when already stored."""
        ...

    async def apply_bar(
        self, symbol: str, timeframe: str, fee_asset: str, fill_times_ns: Sequence[int], advance: Advance
    ) -> list[OrderChange]:
        """Lock the open orders of (symbol, timeframe), apply `advance` to each, store the changes."""
        ...

    async def apply_to_all_working(
        self, fee_asset: Callable[[str], str], advance: Advance
    ) -> list[OrderChange]:
        """Lock every open order, apply `advance` to each (no fills expected), store the changes."""
        ...

    async def unpublished(
        self, *, client_order_id: str | None = None, older_than_s: float = 0.0
    ) -> list[ExecutionReport]: ...

    async def mark_published(self, reports: Sequence[ExecutionReport]) -> None: ...


class PostgresExecutionStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._fill_days: set[int] = set()  # UTC days whose trading.fills partition is known to exist

    async def _ensure_fill_partitions(self, times_ns: Sequence[int]) -> None:
        """Partitions are DDL: made outside the transaction, before any fill row needs them; once per
        day per process (a missing one would only send rows to the DEFAULT partition)."""
        days = {t // _DAY_NS for t in times_ns} - self._fill_days
        if days:
            await ensure_partitions_for(
                self._pool, "trading.fills", [ns_to_datetime(d * _DAY_NS) for d in days]
            )
            self._fill_days |= days

    async def order_exists(self, client_order_id: str) -> bool:
        return await store.order_exists(self._pool, client_order_id)

    async def store_accepted(
        self,
        meta: OrderMeta,
        working: WorkingOrder,
        request: OrderRequest,
        report: ExecutionReport,
        catch_up: CatchUp | None = None,
    ) -> list[OrderChange] | None:
        if catch_up is not None:  # fills of a catch-up are days after the decision at most, usually
            await self._ensure_fill_partitions([request.ts_event])
        async with self._pool.acquire() as conn, conn.transaction():
            await store.lock_market(conn, meta.symbol, meta.timeframe)
            if not await store.insert_accepted(conn, meta, working, request):
                return None
            await store.add_to_outbox(conn, report)
            if catch_up is None:
                return []
            bars = await store.bars_since(
                conn, meta.symbol, meta.timeframe, working.submitted_at_ns, CATCH_UP_MAX_BARS
            )
            changes: list[OrderChange] = []
            [current] = await store.lock_working(conn, meta.symbol, meta.timeframe, lambda _: meta.fee_asset,
                                                 client_order_id=meta.client_order_id)  # fmt: skip
            for bar in bars:
                if current.working.order.status.is_terminal:
                    break
                change = catch_up(current, bar)
                if change is not None:
                    await self._store_change(conn, current, change)
                    changes.append(change)
                    current = StoredOrder(current.order_id, current.meta, change.working, change.sequence)
            return changes

    async def store_rejected(
        self, request: OrderRequest, *, broker: str, timeframe: str, reason: str, text: str,
        report: ExecutionReport,
    ) -> bool:  # fmt: skip
        async with self._pool.acquire() as conn, conn.transaction():
            stored = await store.insert_rejected(
                conn, request, broker=broker, timeframe=timeframe, reason=reason, text=text
            )
            if not stored:
                return False
            await store.add_to_outbox(conn, report)
            return True

    async def apply_bar(
        self, symbol: str, timeframe: str, fee_asset: str, fill_times_ns: Sequence[int], advance: Advance
    ) -> list[OrderChange]:
        await self._ensure_fill_partitions(fill_times_ns)
        return await self._apply(symbol, timeframe, lambda _: fee_asset, advance)

    async def apply_to_all_working(
        self, fee_asset: Callable[[str], str], advance: Advance
    ) -> list[OrderChange]:
        return await self._apply(None, "", fee_asset, advance)

    async def _apply(
        self, symbol: str | None, timeframe: str, fee_asset: Callable[[str], str], advance: Advance
    ) -> list[OrderChange]:
        changes: list[OrderChange] = []
        async with self._pool.acquire() as conn, conn.transaction():
            if symbol is not None:
                await store.lock_market(conn, symbol, timeframe)
            for stored in await store.lock_working(conn, symbol, timeframe, fee_asset):
                change = advance(stored)
                if change is None:
                    continue
                await self._store_change(conn, stored, change)
                changes.append(change)
        return changes

    @staticmethod
    async def _store_change(conn: asyncpg.Connection, stored: StoredOrder, change: OrderChange) -> None:
        await store.save_order(conn, stored, change.working, change.sequence, change.reason_text)
        fill, report = change.fill, change.report
        # A fill already stored (it cannot be, with last_bar_open_ns) never moves the position.
        if (
            fill is not None
            and report is not None
            and await store.insert_fill(conn, stored, fill, report.event_id)
        ):
            await store.apply_fill_to_position(conn, stored.meta.account, fill)
        if report is not None:
            await store.add_to_outbox(conn, report)

    async def unpublished(
        self, *, client_order_id: str | None = None, older_than_s: float = 0.0
    ) -> list[ExecutionReport]:
        return await store.unpublished(self._pool, client_order_id=client_order_id, older_than_s=older_than_s)

    async def mark_published(self, reports: Sequence[ExecutionReport]) -> None:
        await store.mark_published(self._pool, reports)
