"""The store the handlers depend on, as a Protocol, and its PostgreSQL implementation.

Each method is one transaction, for a whole batch: an intake stores its orders and their reports'
outbox rows together; a bar or a batch of venue events stores every order it changed, their
fills, the positions those move and the reports' outbox rows together. The handlers publish only
after these return (the effect is durable).

Catching up: an order can arrive after bars that follow its decision were already stored and
consumed (a replay publishes bars faster than the loop turns them into orders). Its intake then
applies those stored bars to it, oldest first, in the same transaction, under a per-(symbol,
timeframe) advisory lock that the bar consumer takes too. So every bar after the decision reaches
the order exactly once, whichever of the two paths sees it first: the intake sees every bar stored
before it, the bar consumer every bar after it, and ``last_bar_open_ns`` drops a bar seen twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import asyncpg

from kestrel_contracts.events import now_ns, ns_to_datetime
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_execution import store, store_parents, store_reconcile
from kestrel_execution.algorithms import Child, ParentOrder
from kestrel_execution.progress import OrderChange, StoredOrder
from kestrel_execution.reconcile import Holding
from kestrel_execution.reports import OrderMeta
from kestrel_execution.store_intake import accepted_row, insert_orders, rejected_row
from kestrel_execution.venue import VenueState
from kestrel_store.timeseries import ensure_partitions_for
from kestrel_trading.domain import Bar
from kestrel_trading.paper import WorkingOrder

Advance = Callable[[StoredOrder], OrderChange | None]
# How one stored bar moves the newly accepted order (a bar handler's `advance` with the bar unbound).
CatchUp = Callable[[StoredOrder, Bar], OrderChange | None]
FeeAsset = Callable[[str], str]
CATCH_UP_MAX_BARS = 1000
_DAY_NS = 86_400 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class AcceptedOrder:
    meta: OrderMeta
    working: WorkingOrder
    request: OrderRequest
    report: ExecutionReport  # its NEW report (sequence 1)
    catch_up: CatchUp | None = None


@dataclass(frozen=True, slots=True)
class RejectedOrder:
    request: OrderRequest
    broker: str
    timeframe: str
    reason: str  # ExecutionReason name
    text: str
    report: ExecutionReport
    parent_client_order_id: str = ""  # a child the algorithm sent (kestrel_execution.algorithms)


NewOrder = AcceptedOrder | RejectedOrder


class ExecutionStore(Protocol):
    async def existing(self, client_order_ids: Sequence[str]) -> set[str]:
        """Which of the ids are stored already."""
        ...

    async def store_intake(self, orders: Sequence[NewOrder]) -> list[list[OrderChange] | None]:
        """Store new orders and their reports; per order, None (nothing written) for an id stored
        before, else the changes its `catch_up` made with the stored bars after its decision."""
        ...

    async def apply_bar(
        self, symbol: str, timeframe: str, fee_asset: str, fill_times_ns: Sequence[int], advance: Advance,
        *, broker: str,
    ) -> list[OrderChange]:  # fmt: skip
        """Lock the open orders of `broker` on (symbol, timeframe), apply `advance` to each, store
        the changes."""
        ...

    async def apply_to_orders(
        self, changes: Sequence[tuple[str, Advance]], fee_asset: FeeAsset
    ) -> list[OrderChange | None]:
        """Lock the accepted orders (open or final) by client order id, apply each one's `advance`,
        store the changes; per entry the change, or None (no such order, or nothing changed)."""
        ...

    async def open_orders(self, broker: str, fee_asset: FeeAsset) -> list[StoredOrder]:
        """A snapshot of every open order of `broker`, oldest first."""
        ...

    async def unresolved(self, broker: str, pending_for_s: float, fee_asset: FeeAsset) -> list[StoredOrder]:
        """Open orders of `broker` the venue has not answered: UNKNOWN, or PENDING that long."""
        ...

    async def set_venue_state(self, client_order_id: str, state: VenueState) -> None: ...

    async def stored_order(self, client_order_id: str, fee_asset: FeeAsset) -> StoredOrder | None:
        """One accepted order as stored (open or final), unlocked."""
        ...

    async def traded_symbols(self, broker: str) -> list[str]:
        """The symbols `broker` has filled anything in."""
        ...

    async def holdings(self, broker: str, base_assets: Mapping[str, str]) -> dict[str, Holding]:
        """Per base asset of the symbols in `base_assets`: Kestrel's net fills and commissions."""
        ...

    async def baselines(self, broker: str) -> dict[str, Decimal]: ...

    async def add_baselines(self, broker: str, found: Mapping[str, Decimal]) -> None: ...

    async def unpublished(
        self, *, client_order_id: str | None = None, older_than_s: float = 0.0
    ) -> list[ExecutionReport]: ...

    async def mark_published(self, reports: Sequence[ExecutionReport]) -> None: ...

    # Parent orders (kestrel_execution.algorithms); their children are orders like any other.
    async def store_parents(self, parents: Sequence[tuple[ParentOrder, ExecutionReport]]) -> list[bool]:
        """Store new parents with their NEW reports; per parent, False for one stored before."""
        ...

    async def open_parents(self, broker: str, fee_asset: FeeAsset) -> list[ParentOrder]: ...

    async def parent_order(self, client_order_id: str, fee_asset: FeeAsset) -> ParentOrder | None: ...

    async def children(self, parent_ids: Sequence[str]) -> dict[str, list[Child]]:
        """Every child of each parent, whatever its status, by index."""
        ...

    async def save_parents(
        self, parents: Sequence[tuple[ParentOrder, ExecutionReport]]
    ) -> list[tuple[ParentOrder, ExecutionReport]]:
        """Store the parents' new states and reports where nobody stored that sequence first; the
        pairs stored (the others' reports are someone else's to publish)."""
        ...

    async def market_time_ns(self, symbol: str, timeframe: str) -> int | None:
        """The close of the latest stored bar of the market (None before any)."""
        ...


def _row(order: NewOrder) -> tuple[Any, ...]:
    if isinstance(order, AcceptedOrder):
        return accepted_row(order.meta, order.working, order.request)
    return rejected_row(order.request, broker=order.broker, timeframe=order.timeframe, reason=order.reason,
                        text=order.text, parent_client_order_id=order.parent_client_order_id)  # fmt: skip


def _markets(orders: Sequence[AcceptedOrder]) -> dict[tuple[str, str], int]:
    """Each (symbol, timeframe) of the orders, with the earliest decision instant among them."""
    since: dict[tuple[str, str], int] = {}
    for order in orders:
        market = (order.meta.symbol, order.meta.timeframe)
        since[market] = min(since.get(market, order.working.submitted_at_ns), order.working.submitted_at_ns)
    return since


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

    async def existing(self, client_order_ids: Sequence[str]) -> set[str]:
        return await store.existing(self._pool, client_order_ids)

    async def store_intake(self, orders: Sequence[NewOrder]) -> list[list[OrderChange] | None]:
        catching = [o for o in orders if isinstance(o, AcceptedOrder) and o.catch_up is not None]
        # Fills of a catch-up are days after the decision at most, usually.
        await self._ensure_fill_partitions([o.request.ts_event for o in catching])
        async with self._pool.acquire() as conn, conn.transaction():
            markets = _markets(catching)
            await store.lock_markets(conn, list(markets))
            new_ids = await insert_orders(conn, [_row(order) for order in orders])
            fresh = [o for o in orders if o.request.client_order_id in new_ids]
            await store.add_to_outbox(conn, [o.report for o in fresh])
            # Once per market, from the earliest decision in the batch.
            bars = await store.bars_since(conn, markets, CATCH_UP_MAX_BARS) if markets else {}
            results: list[list[OrderChange] | None] = []
            for order in orders:
                order_id = new_ids.pop(order.request.client_order_id, None)  # a repeat in the batch: None
                if order_id is None:
                    results.append(None)
                elif isinstance(order, AcceptedOrder) and order.catch_up is not None:
                    market = bars[(order.meta.symbol, order.meta.timeframe)]
                    results.append(await self._catch_up(conn, order, order_id, order.catch_up, market))
                else:
                    results.append([])
            return results

    async def _catch_up(
        self, conn: asyncpg.Connection, order: AcceptedOrder, order_id: Any, catch_up: CatchUp,
        bars: Sequence[Bar],
    ) -> list[OrderChange]:  # fmt: skip
        current = StoredOrder(order_id, order.meta, order.working, 1, VenueState.PENDING)
        changes: list[OrderChange] = []
        for bar in bars:
            if current.working.order.status.is_terminal:
                break
            change = catch_up(current, bar)
            if change is not None:
                changes.append(change)
                current = StoredOrder(
                    order_id, change.meta, change.working, change.sequence, change.venue_state
                )
        await self._store_changes(conn, changes)
        return changes

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
                if change is not None:
                    changes.append(change)
            await self._store_changes(conn, changes)
        return changes

    async def apply_to_orders(
        self, changes: Sequence[tuple[str, Advance]], fee_asset: FeeAsset
    ) -> list[OrderChange | None]:
        await self._ensure_fill_partitions([now_ns()])  # a venue trade is about now
        ids = sorted({client_order_id for client_order_id, _ in changes})
        async with self._pool.acquire() as conn, conn.transaction():
            found = {
                s.meta.client_order_id: s
                for s in await store.lock_working(conn, None, "", fee_asset, client_order_ids=ids)
            }
            out: list[OrderChange | None] = []
            for client_order_id, advance in changes:
                stored = found.get(client_order_id)
                change = advance(stored) if stored is not None else None
                if stored is not None and change is not None:
                    found[client_order_id] = StoredOrder(
                        stored.order_id, change.meta, change.working, change.sequence, change.venue_state
                    )
                out.append(change)
            # In order: a second change to one order in the batch was made on the first, and wins.
            await self._store_changes(conn, [c for c in out if c is not None])
            return out

    async def open_orders(self, broker: str, fee_asset: FeeAsset) -> list[StoredOrder]:
        return await store.open_orders(self._pool, broker, fee_asset)

    async def unresolved(self, broker: str, pending_for_s: float, fee_asset: FeeAsset) -> list[StoredOrder]:
        return await store.unresolved(self._pool, broker, pending_for_s, fee_asset)

    async def set_venue_state(self, client_order_id: str, state: VenueState) -> None:
        await store.set_venue_state(self._pool, client_order_id, state.value)

    async def stored_order(self, client_order_id: str, fee_asset: FeeAsset) -> StoredOrder | None:
        return await store.stored_order(self._pool, client_order_id, fee_asset)

    async def traded_symbols(self, broker: str) -> list[str]:
        return await store_reconcile.traded_symbols(self._pool, broker)

    async def holdings(self, broker: str, base_assets: Mapping[str, str]) -> dict[str, Holding]:
        return await store_reconcile.holdings(self._pool, broker, base_assets)

    async def baselines(self, broker: str) -> dict[str, Decimal]:
        return await store_reconcile.baselines(self._pool, broker)

    async def add_baselines(self, broker: str, found: Mapping[str, Decimal]) -> None:
        await store_reconcile.add_baselines(self._pool, broker, found)

    @staticmethod
    async def _store_changes(conn: asyncpg.Connection, changes: Sequence[OrderChange]) -> None:
        """The orders' new states, their fills and the positions those move, their reports' rows."""
        await store.save_orders(conn, changes)
        reports: list[ExecutionReport] = []
        for change in changes:
            if change.report is None:
                continue
            reports.append(change.report)
            for traded in change.fills:
                # A fill already stored (the state machine drops known ids) never moves the position.
                if await store.insert_fill(conn, change.stored, traded, change.report.event_id):
                    for fill in traded.position_fills():
                        await store.apply_fill_to_position(conn, change.stored.meta.account, fill)
        await store.add_to_outbox(conn, reports)

    async def unpublished(
        self, *, client_order_id: str | None = None, older_than_s: float = 0.0
    ) -> list[ExecutionReport]:
        return await store.unpublished(self._pool, client_order_id=client_order_id, older_than_s=older_than_s)

    async def mark_published(self, reports: Sequence[ExecutionReport]) -> None:
        await store.mark_published(self._pool, reports)

    async def store_parents(self, parents: Sequence[tuple[ParentOrder, ExecutionReport]]) -> list[bool]:
        async with self._pool.acquire() as conn, conn.transaction():
            new = await store_parents.insert_parents(conn, [parent for parent, _ in parents])
            await store.add_to_outbox(conn, [r for p, r in parents if p.meta.client_order_id in new])
        return [parent.meta.client_order_id in new for parent, _ in parents]

    async def open_parents(self, broker: str, fee_asset: FeeAsset) -> list[ParentOrder]:
        return await store_parents.open_parents(self._pool, broker, fee_asset)

    async def parent_order(self, client_order_id: str, fee_asset: FeeAsset) -> ParentOrder | None:
        return await store_parents.parent_order(self._pool, client_order_id, fee_asset)

    async def children(self, parent_ids: Sequence[str]) -> dict[str, list[Child]]:
        return await store_parents.children(self._pool, parent_ids)

    async def save_parents(
        self, parents: Sequence[tuple[ParentOrder, ExecutionReport]]
    ) -> list[tuple[ParentOrder, ExecutionReport]]:
        async with self._pool.acquire() as conn, conn.transaction():
            saved = await store_parents.update_parents(conn, parents)
            await store.add_to_outbox(conn, [report for _, report in saved])
        return saved

    async def market_time_ns(self, symbol: str, timeframe: str) -> int | None:
        return await store_parents.market_time_ns(self._pool, symbol, timeframe)
