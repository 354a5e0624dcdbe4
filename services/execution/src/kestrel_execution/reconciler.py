"""Reconciliation, run at start and on a schedule: adopt what the venue knows and Kestrel missed,
audit every break, and halt trading on a break nothing explains (see `kestrel_execution.reconcile`).

Halting halts the production controller's reconciliation process for every scope ("*"), with the
break as the reason (`kestrel_platform.control_events.Halter`: the board in Redis, a ProcessControl
command on ops.commands, an audit event). Execution depends on reconciliation, so it is halted for
every account: intake refuses new orders, the command cancels what is working, and only an operator's
resume lifts it. One execution deployment trades one venue account, so its books are what broke.

A paused or stopped reconciliation skips its rounds. A halted one keeps comparing, so what the venue
knows is still adopted; its next break does not halt again (the first reason stands).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from kestrel_contracts.events import derived_event_id, now_ns
from kestrel_contracts.registry import channel
from kestrel_contracts.v1.audit_event_pb2 import (
    AUDIT_SEVERITY_CRITICAL,
    AUDIT_SEVERITY_WARNING,
    AuditEvent,
)
from kestrel_execution.handlers import ExecutionContext
from kestrel_execution.progress import StoredOrder
from kestrel_execution.reconcile import Break, Findings, compare_holdings, compare_orders
from kestrel_execution.venue import Canceled, Expired, VenueRejected
from kestrel_messaging import MessageBus
from kestrel_platform.control import ALL, Process, State
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger

_log = get_logger("kestrel.execution.reconciler")
ACTOR = "reconciliation"


SKIPPED_WHEN = (State.PAUSED, State.STOPPED)


class Reconciler:
    def __init__(self, ctx: ExecutionContext, bus: MessageBus) -> None:
        self._ctx, self._bus = ctx, bus
        self.rounds = 0

    async def run_scheduled(self) -> list[Break] | None:
        """A round, unless the controller has reconciliation paused or stopped (then None)."""
        board = await self._ctx.controller.board()
        own = board.effective(Process.RECONCILIATION, ALL, now_ns())
        if own.state in SKIPPED_WHEN:
            _log.info("reconcile.skipped", state=own.state.value, reason=own.reason)
            return None
        return await self.run_once()

    async def run_once(self) -> list[Break]:
        """One reconciliation; the breaks it found (explained ones were adopted)."""
        ctx, venue = self._ctx, self._ctx.venue
        symbols = await ctx.store.traded_symbols(venue.name)
        snapshot = await venue.snapshot(symbols)
        if snapshot is None:  # a venue whose book is Kestrel's own store: nothing to compare
            return []
        ours = await ctx.store.open_orders(venue.name, ctx.fee_asset)
        open_ids = {s.meta.client_order_id for s in ours}
        others = [o.client_order_id for o in snapshot.open_orders if o.client_order_id not in open_ids]
        findings = compare_orders(ours, snapshot, await ctx.store.existing(others))
        await self._adopt(findings, {s.meta.client_order_id: s for s in ours})
        breaks = [b for b in findings.breaks if b.explained or not await self._closed_since(b)]
        breaks += await self._holdings(symbols, snapshot.base_assets)
        self.rounds += 1
        for found in breaks:
            await self._bus.publish(channel("audit.logs"), _audit(found, venue.name))
        unexplained = [b for b in breaks if not b.explained]
        if unexplained:
            await self._halt(unexplained)
        elif breaks:
            _log.warning("reconcile.adopted", breaks=len(breaks))
        return breaks

    async def _adopt(self, findings: Findings, ours: Mapping[str, StoredOrder]) -> None:
        for coid in findings.to_resolve:
            stored = ours[coid]
            events = await self._ctx.venue.resolve(stored.working.order, stored.meta)
            if events:
                await self._ctx.apply(coid, events)

    async def _closed_since(self, found: Break) -> bool:
        """A venue order that looked open may have closed after the snapshot: ask it once more."""
        if found.kind != "closed_but_open":
            return False
        stored = await self._ctx.store.stored_order(found.subject, self._ctx.fee_asset)
        if stored is None:
            return False
        events = await self._ctx.venue.resolve(stored.working.order, stored.meta) or []
        return any(isinstance(e, Canceled | Expired | VenueRejected) for e in events)

    async def _holdings(self, symbols: Sequence[str], base_assets: Mapping[str, str]) -> list[Break]:
        """Holding breaks, compared only when no fill landed while the venue was read."""
        ctx, venue = self._ctx, self._ctx.venue
        before = await ctx.store.holdings(venue.name, base_assets)
        snapshot = await venue.snapshot(symbols, orders=False)
        after = await ctx.store.holdings(venue.name, base_assets)
        if snapshot is None or before != after:
            return []  # fills in flight: the next round compares
        baselines = await ctx.store.baselines(venue.name)
        breaks, first_seen = compare_holdings(snapshot, after, baselines)
        if first_seen:
            await ctx.store.add_baselines(venue.name, first_seen)
        return breaks

    async def _halt(self, breaks: Sequence[Break]) -> None:
        reason = "reconciliation break: " + "; ".join(b.text for b in breaks)[:500]
        change = await self._ctx.controller.halt(Process.RECONCILIATION, ALL, reason)
        if change is None:  # halted already: the first reason stands, this break is audited above
            _log.warning("reconcile.break_while_halted", reason=reason)
        else:
            _log.error("reconcile.halted", reason=reason)


def _audit(found: Break, broker: str) -> AuditEvent:
    return AuditEvent(
        event_id=derived_event_id("reconcile", broker, found.kind, found.subject, found.text),
        ts_event=now_ns(), ts_init=now_ns(), service="execution", action=f"reconcile.{found.kind}",
        severity=AUDIT_SEVERITY_WARNING if found.explained else AUDIT_SEVERITY_CRITICAL,
        actor=ACTOR, subject_type="order" if found.kind != "holding" else "asset", subject_id=found.subject,
        message=found.text,
        attributes={"explained": str(found.explained).lower(), "broker": broker},
    )  # fmt: skip


async def run_reconciler(reconciler: Reconciler, stop: asyncio.Event, interval_s: float) -> None:
    """At start, then every `interval_s`, until `stop`; a failing round (venue down) is retried."""
    while not stop.is_set():
        try:
            await reconciler.run_scheduled()
        except Exception as exc:
            _log.warning("reconcile.round_failed", error=repr(exc))
        await sleep_or_stop(stop, interval_s)
