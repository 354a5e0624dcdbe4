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

from kestrel_contracts.events import now_ns, ns_to_datetime
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_execution import store
from kestrel_execution.progress import OrderChange, StoredOrder
from kestrel_execution.reports import OrderMeta
from kestrel_execution.venue import VenueState
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
        self, symbol: str, timeframe: str, fee_asset: str, fill_times_ns: Sequence[int], advance: Advance,
        *, broker: str,
    ) -> list[OrderChange]:  # fmt: skip
        """Lock the open orders of `broker` on (symbol, timeframe), apply `advance` to each, store
        the changes."""
        ...

    async def apply_to_order(
        self, client_order_id: str, fee_asset: Callable[[str], str], advance: Advance
    ) -> OrderChange | None:
        """Lock one accepted order (open or final), apply `advance`, store the change; None when
        there is no such order or nothing changed."""
        ...

    async def open_orders(self, broker: str, fee_asset: Callable[[str], str]) -> list[StoredOrder]:
        """A snapshot of every open order of `broker`, oldest first."""
        ...

    async def unresolved(
        self, broker: str, pending_for_s: float, fee_asset: Callable[[str], str]
    ) -> list[StoredOrder]:
        """Open orders of `broker` the venue has not answered: UNKNOWN, or PENDING that long."""
        ...

    async def set_venue_state(self, client_order_id: str, state: VenueState) -> None: ...

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
                    current = StoredOrder(
                        current.order_id, change.meta, change.working, change.sequence, change.venue_state
                    )
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
        self, symbol: str, timeframe: str, fee_asset: str, fill_times_ns: Sequence[int], advance: Advance,
        *, broker: str,
    ) -> list[OrderChange]:  # fmt: skip
        await self._ensure_fill_partitions(fill_times_ns)
        changes: list[OrderChange] = []
        async with self._pool.acquire() as conn, conn.transaction():
            await store.lock_market(conn, symbol, timeframe)
            for stored in await store.lock_working(
                conn, symbol, timeframe, lambda _: fee_asset, broker=broker
            ):
                change = advance(stored)
                if change is None:
                    continue
                await self._store_change(conn, stored, change)
                changes.append(change)
        return changes

    async def apply_to_order(
        self, client_order_id: str, fee_asset: Callable[[str], str], advance: Advance
    ) -> OrderChange | None:
        fills_at = [now_ns()]  # a venue trade is about now; the partition of its day must exist
        await self._ensure_fill_partitions(fills_at)
        async with self._pool.acquire() as conn, conn.transaction():
            found = await store.lock_working(conn, None, "", fee_asset, client_order_id=client_order_id)
            if not found:
                return None
            change = advance(found[0])
            if change is not None:
                await self._store_change(conn, found[0], change)
            return change

    async def open_orders(self, broker: str, fee_asset: Callable[[str], str]) -> list[StoredOrder]:
        return await store.open_orders(self._pool, broker, fee_asset)

    async def unresolved(
        self, broker: str, pending_for_s: float, fee_asset: Callable[[str], str]
    ) -> list[StoredOrder]:
        return await store.unresolved(self._pool, broker, pending_for_s, fee_asset)

    async def set_venue_state(self, client_order_id: str, state: VenueState) -> None:
        await store.set_venue_state(self._pool, client_order_id, state.value)

    @staticmethod
    async def _store_change(conn: asyncpg.Connection, stored: StoredOrder, change: OrderChange) -> None:
        await store.save_order(conn, change)
        report = change.report
        event_id = report.event_id if report is not None else ""
        for traded in change.fills if report is not None else ():
            # A fill already stored (the state machine drops known fill ids) never moves the position.
            if await store.insert_fill(conn, stored, traded, event_id):
                await store.apply_fill_to_position(conn, stored.meta.account, traded.fill)
        if report is not None:
            await store.add_to_outbox(conn, report)

    async def unpublished(
        self, *, client_order_id: str | None = None, older_than_s: float = 0.0
    ) -> list[ExecutionReport]:
        return await store.unpublished(self._pool, client_order_id=client_order_id, older_than_s=older_than_s)

    async def mark_published(self, reports: Sequence[ExecutionReport]) -> None:
        await store.mark_published(self._pool, reports)
