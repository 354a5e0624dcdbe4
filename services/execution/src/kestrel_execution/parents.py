"""Parent orders in execution: taken in from execution.orders, then worked by the algorithm runner.

The runner, in rounds (on a timer, and whenever a parent arrives or a child moves): for every open
parent of this venue it reads the children stored so far and the market clock, lets the algorithm
(`kestrel_execution.algorithms`) say which children are due, stores and sends them like any order
(`ExecutionContext.take_in`: stored PENDING before sending, with a catch-up on stored bars), then
re-derives each parent from its children and reports what changed.

Nothing here is kept in memory between rounds: a process killed mid-parent leaves parents and
children in PostgreSQL, and the next round — in this process or a restarted one — sends what is
due and not yet stored. A child that was stored but not yet sent is the resolver's, like any order:
asked about at the venue, sent only if the venue never got it. So a child is never sent twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from kestrel_contracts.decimals import from_wire_optional, to_wire, to_wire_optional
from kestrel_contracts.events import derived_event_id, now_ns
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_execution.algorithms import (
    AlgoSpec,
    Child,
    ParentOrder,
    Slice,
    child_id,
    parent_report,
    plan,
    settle,
)
from kestrel_execution.metrics import ORDERS_PROCESSED
from kestrel_platform.logging import get_logger

if TYPE_CHECKING:
    from kestrel_execution.controller import Gate
    from kestrel_execution.handlers import ExecutionContext
    from kestrel_execution.repository import AcceptedOrder, NewOrder

_log = get_logger("kestrel.execution.parents")


def _arrival_price(request: OrderRequest) -> Decimal | None:
    try:
        price = from_wire_optional(request.reference_price)
    except ValueError:
        return None
    return price if price is not None and price > 0 else None


def new_parent(order: AcceptedOrder, spec: AlgoSpec) -> ParentOrder:
    """An accepted request with an algorithm, as a parent (nothing sent yet)."""
    request = order.request
    return ParentOrder(order.meta, order.working.order, spec, request.ts_event, _arrival_price(request), 1)


async def take_in_parents(
    ctx: ExecutionContext, orders: Sequence[tuple[AcceptedOrder, AlgoSpec]]
) -> set[str]:
    """Store new parents and publish their NEW reports; the ids another delivery stored first."""
    if not orders:
        return set()
    parents = [new_parent(order, spec) for order, spec in orders]
    pairs = [(p, parent_report(p, p.arrival_ns)) for p in parents]
    new = await ctx.store.store_parents(pairs)
    await ctx.outbox.publish([report for (_, report), fresh in zip(pairs, new, strict=True) if fresh])
    for parent, fresh in zip(parents, new, strict=True):
        if fresh:
            ORDERS_PROCESSED.labels("NEW").inc()
            _log.info("parent.accepted", client_order_id=parent.meta.client_order_id,
                      algorithm=parent.spec.algorithm.name, quantity=str(parent.order.quantity))  # fmt: skip
    ctx.parents_due.set()
    return {p.meta.client_order_id for p, fresh in zip(parents, new, strict=True) if not fresh}


def child_request(parent: ParentOrder, piece: Slice) -> OrderRequest:
    """The venue order for one slice: the parent's terms, the slice's quantity and instant."""
    meta, order = parent.meta, parent.order
    coid = child_id(meta.client_order_id, piece.index)
    return OrderRequest(
        event_id=derived_event_id("child-order", coid),
        ts_event=piece.ts_event_ns,
        ts_init=now_ns(),
        client_order_id=coid,
        account=meta.account,
        strategy_id=meta.strategy_id,
        symbol=meta.symbol,
        venue=meta.venue,
        timeframe=meta.timeframe,
        side=order.side.value,
        order_type=order.order_type.value,
        time_in_force=order.time_in_force.value,
        quantity=to_wire(piece.quantity),
        limit_price=to_wire_optional(order.limit_price),
        reference_price=to_wire_optional(parent.arrival_price),
        expire_at_ns=order.expire_at_ns or 0,
        signal_event_id=meta.signal_event_id,
    )


class ParentRunner:
    def __init__(self, context: ExecutionContext) -> None:
        self._ctx = context

    async def run(self, stop: asyncio.Event, interval_s: float) -> None:
        """A round at start, then on every wake-up or `interval_s`, until `stop`."""
        due = self._ctx.parents_due
        while not stop.is_set():
            due.clear()
            try:
                await self.work()
            except Exception as exc:  # a store or venue outage: the next round tries again
                _log.warning("parents.round_failed", error=repr(exc))
            if not due.is_set():
                await _wait_either(due, stop, interval_s)

    async def work(self) -> int:
        """One round over every open parent; how many parents changed."""
        ctx = self._ctx
        parents = await ctx.store.open_parents(ctx.venue.name, ctx.fee_asset)
        if not parents:
            return 0
        gate = await ctx.gate()  # once per round; each parent is judged for its own account
        ids = [p.meta.client_order_id for p in parents]
        children = await ctx.store.children(ids)
        clock: dict[tuple[str, str], int | None] = {}
        for p in parents:
            market = (p.meta.symbol, p.meta.timeframe)
            if market not in clock:
                clock[market] = await ctx.venue.market_time_ns(p.meta.symbol, p.meta.timeframe, ctx.store)
        orders: list[NewOrder] = []
        planned: set[str] = set()
        for p in parents:
            now, instrument = clock[(p.meta.symbol, p.meta.timeframe)], ctx.catalog.get(p.meta.symbol)
            if now is None or instrument is None:
                continue
            held = gate.holds(p.meta.account, now)  # kill switch, or execution not running
            for piece in plan(p, children[p.meta.client_order_id], now, instrument, halted=held):
                request = child_request(p, piece)
                coid = p.meta.client_order_id
                orders.append(ctx.new_order(request, gate, parent_client_order_id=coid, at_ns=now))
                planned.add(coid)
        if orders:
            await ctx.take_in(orders)
            children = await ctx.store.children(ids)
        return await self._settle(parents, children, clock, gate, planned)

    async def _settle(
        self, parents: Sequence[ParentOrder], children: dict[str, list[Child]],
        clock: dict[tuple[str, str], int | None], gate: Gate, planned: set[str],
    ) -> int:  # fmt: skip
        ctx = self._ctx
        pairs: list[tuple[ParentOrder, ExecutionReport]] = []
        for p in parents:
            now = clock[(p.meta.symbol, p.meta.timeframe)]
            if now is None:
                continue
            coid, stop = p.meta.client_order_id, gate.cancel_reason(p.meta.account, now)
            # Paused (or outside its run window) a parent is not done: it sends again on resume,
            # what came due meanwhile at once, as after a restart. Stopped or halted it ends.
            waits = stop is None and gate.holds(p.meta.account, now)
            after = settle(
                p, children[coid], now, halted=stop is not None, planned=coid in planned or waits,
                stop_reason=stop or "",
            )  # fmt: skip
            if after is not None:
                pairs.append((after, parent_report(after, now)))
        saved = await ctx.store.save_parents(pairs) if pairs else []
        await ctx.outbox.publish([report for _, report in saved])
        for p, _ in saved:
            if p.order.status.is_terminal:
                ORDERS_PROCESSED.labels(p.order.status.name).inc()
                _log.info("parent.done", client_order_id=p.meta.client_order_id, status=p.order.status.name,
                          filled=str(p.order.filled_quantity), text=p.reason_text)  # fmt: skip
        return len(saved)


async def _wait_either(due: asyncio.Event, stop: asyncio.Event, timeout_s: float) -> None:
    """Until `due` or `stop` is set, or `timeout_s` passed."""
    waiters = [asyncio.ensure_future(due.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
