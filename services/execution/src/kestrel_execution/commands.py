"""ops.commands: the kill switch and the production controller cancel working orders at once.

A command is only the prompt: the kill switch's state and the controller's board in Redis are the
truth (the gateway, or a Halter, writes them before publishing), so a stale "engage" or "halt"
replayed after a release or a resume cancels nothing. Missing a command is harmless too: the paper
venue checks the same state before every bar, and intake refuses new orders meanwhile.
"""

from __future__ import annotations

from kestrel_contracts.events import now_ns
from kestrel_contracts.v1.operator_command_pb2 import OperatorCommand, ProcessControl
from kestrel_execution.handlers import ExecutionContext
from kestrel_execution.venue import OutcomeUnknownError, VenueUnavailableError
from kestrel_messaging import Delivery, PermanentError
from kestrel_platform.control import DEPENDENCIES, Process
from kestrel_platform.control_events import process_of, state_of
from kestrel_platform.logging import get_logger

_log = get_logger("kestrel.execution.commands")


class CancelIncompleteError(Exception):
    """Some cancels did not reach the venue: retried like any failing handler (then dead-lettered)."""


def _upstream(process: Process) -> set[Process]:
    """The process and everything it depends on, transitively (their state is execution's too)."""
    found = {process}
    for dependency in DEPENDENCIES[process]:
        found |= _upstream(dependency)
    return found


EXECUTION_AND_UPSTREAM = frozenset(_upstream(Process.EXECUTION))


def stops_execution(control: ProcessControl) -> bool:
    """A change that may leave execution stopped or halted somewhere: worth re-reading the board."""
    after, process = state_of(control.after), process_of(control.process)
    return process in EXECUTION_AND_UPSTREAM and after is not None and after.cancels_working_orders


def _prompts_cancel(command: OperatorCommand) -> bool:
    which = command.WhichOneof("command")
    if which == "kill_switch":
        return command.kill_switch.engaged
    return which == "process_control" and stops_execution(command.process_control)


class CommandsHandler:
    def __init__(self, context: ExecutionContext) -> None:
        self._ctx = context

    async def __call__(self, delivery: Delivery) -> None:
        command = delivery.message
        if not isinstance(command, OperatorCommand):
            raise PermanentError(f"expected an OperatorCommand, got {type(command).__name__}")
        if not _prompts_cancel(command):
            return
        ctx = self._ctx
        gate = await ctx.gate()
        ts_event = command.ts_event or now_ns()
        working = await ctx.store.open_orders(ctx.venue.name, ctx.fee_asset)
        doomed = [(s, reason) for s in working if (reason := gate.cancel_reason(s.meta.account, ts_event))]
        if not doomed:
            _log.info("command.nothing_to_cancel", actor=command.actor, event_id=command.event_id,
                      kill_switch=gate.kill_switch)  # fmt: skip
            return
        canceled, failed = 0, 0
        for stored, reason in doomed:
            order, meta = stored.working.order, stored.meta
            try:
                events = await ctx.venue.cancel(order, meta, reason)
            except (OutcomeUnknownError, VenueUnavailableError) as exc:
                failed += 1
                _log.warning("command.cancel_failed", client_order_id=meta.client_order_id, error=str(exc))
                await ctx.controller.venue_failed(exc)
                continue
            ctx.controller.venue_answered()
            change = await ctx.apply(meta.client_order_id, events, report_ts_ns=ts_event)
            canceled += change is not None and change.report is not None
        _log.warning("command.canceled_working_orders", count=canceled, actor=command.actor,
                     kill_switch=gate.kill_switch)  # fmt: skip
        if failed:  # the command is redelivered: what is still working gets another cancel
            raise CancelIncompleteError(f"{failed} cancel(s) did not reach the venue")
