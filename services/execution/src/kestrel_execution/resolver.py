"""Orders the venue has not answered: asked about by client order id, then settled or re-sent.

An order is PENDING from its commit until the venue answers, and UNKNOWN when the submit timed out
or failed with "status unknown". Neither is ever simply re-sent: the venue is asked first, and only
when it says it has no such order — after long enough that no earlier request can still arrive (the
venue refuses a request older than its recvWindow) — is the order submitted again, under the same
client order id. So a retried submit never makes a second order.

While the kill switch is engaged or the production controller has the order's account stopped or
halted, an order the venue never got is not sent: it is canceled in Kestrel with that reason.
"""

from __future__ import annotations

import asyncio

from kestrel_contracts.events import now_ns
from kestrel_execution.controller import OPEN_GATE
from kestrel_execution.handlers import ExecutionContext
from kestrel_execution.venue import Canceled, OutcomeUnknownError, VenueState, VenueUnavailableError
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger

_log = get_logger("kestrel.execution.resolver")


async def resolve_unanswered(ctx: ExecutionContext, pending_for_s: float) -> int:
    """Settle every unanswered order once; how many were settled or re-sent."""
    done = 0
    unresolved = await ctx.store.unresolved(ctx.venue.name, pending_for_s, ctx.fee_asset)
    gate = await ctx.gate() if unresolved else OPEN_GATE  # the kill switch and the board, once a round
    for stored in unresolved:
        order, meta = stored.working.order, stored.meta
        try:
            events = await ctx.venue.resolve(order, meta)
        except VenueUnavailableError as exc:  # rate limited or down: the rest waits for the next round
            _log.warning("resolve.venue_unavailable", error=str(exc), retry_after_s=exc.retry_after_s)
            break
        except OutcomeUnknownError as exc:
            _log.warning("resolve.failed", client_order_id=meta.client_order_id, error=str(exc))
            continue
        stop = gate.cancel_reason(meta.account, now_ns()) if events is None else None
        if stop is not None:  # the venue never got it and trading stopped: it is not sent now
            await ctx.apply(meta.client_order_id, [Canceled(now_ns(), stop)])
            _log.warning("resolve.canceled_unsent", client_order_id=meta.client_order_id, reason=stop)
        elif events is None:
            _log.warning("resolve.resubmit", client_order_id=meta.client_order_id)
            await ctx.store.set_venue_state(meta.client_order_id, VenueState.PENDING)  # restarts the wait
            await ctx.submit([stored])
        else:
            await ctx.apply(meta.client_order_id, events)
            _log.info("resolve.settled", client_order_id=meta.client_order_id, events=len(events))
        done += 1
    return done


async def run_resolver(
    ctx: ExecutionContext, stop: asyncio.Event, *, interval_s: float, pending_for_s: float
) -> None:
    """At startup, then every `interval_s`, until `stop`."""
    while not stop.is_set():
        try:
            await resolve_unanswered(ctx, pending_for_s)
        except Exception as exc:  # a store outage: the next round tries again
            _log.warning("resolve.round_failed", error=repr(exc))
        await sleep_or_stop(stop, interval_s)
