"""Execution under the production controller (`kestrel_platform.control`): what it may do now, and
the halts it makes itself.

One execution deployment trades one venue account but serves every account's orders, so each order
is judged by the effective state of execution for its own account: running takes new orders;
paused takes none and keeps working orders working; stopped and halted also cancel what works
(EXECUTION_REASON_TRADING_HALTED). The kill switch stays beside the board with its own reason code
and wins over it. Redis is the truth for both; ops.commands only prompts a re-read.

Execution halts on its own two things: reconciliation (scope "*") on a break nothing explains
(`kestrel_execution.reconciler`), and execution (scope "*") after too many venue failures in a row.
"""

from __future__ import annotations

from dataclasses import dataclass

from kestrel_execution.intake import KILL_SWITCH, TRADING_HALTED
from kestrel_platform.control import ALL, EMPTY_BOARD, Board, Change, Effective, Process
from kestrel_platform.control_events import Halter
from kestrel_platform.control_store import ControlStore
from kestrel_platform.logging import get_logger

_log = get_logger("kestrel.execution.controller")
ERROR_TEXT_LIMIT = 300


@dataclass(frozen=True, slots=True)
class Gate:
    """The kill switch and the board as read once: per batch of orders, per bar, per runner round."""

    kill_switch: bool
    board: Board

    def trading(self, account: str, at_ns: int) -> Effective:
        """Execution's effective state for the account at a market instant (the run window's)."""
        return self.board.effective(Process.EXECUTION, account, at_ns)

    def holds(self, account: str, at_ns: int) -> bool:
        """Nothing new of the account may go to the venue now (a new order, a parent's next child)."""
        return self.kill_switch or not self.trading(account, at_ns).running

    def cancel_reason(self, account: str, at_ns: int) -> str | None:
        """Why the account's working orders are canceled now (an ExecutionReason name), else None."""
        if self.kill_switch:
            return KILL_SWITCH
        return TRADING_HALTED if self.trading(account, at_ns).state.cancels_working_orders else None


OPEN_GATE = Gate(False, EMPTY_BOARD)


@dataclass(slots=True)
class ConsecutiveErrors:
    """Venue failures in a row (pure). `failed` gives the halt reason once `halt_after` failed in a
    row (0: never); an answer from the venue, or a halt that landed, starts the count again, so after
    an operator's resume it takes as many failures again to halt."""

    halt_after: int
    count: int = 0

    def failed(self, error: str) -> str | None:
        if self.halt_after <= 0:
            return None
        self.count += 1
        if self.count < self.halt_after:
            return None
        return f"{self.count} consecutive venue errors, last: {error[:ERROR_TEXT_LIMIT]}"

    def succeeded(self) -> None:
        self.count = 0

    def halted(self) -> None:
        self.count = 0


class Controller:
    """Execution's hold on the board: reads it, and halts through the Halter (once, published)."""

    def __init__(self, control: ControlStore, halter: Halter, *, venue_error_halt_after: int = 5) -> None:
        self._control, self._halter = control, halter
        self.venue_errors = ConsecutiveErrors(venue_error_halt_after)

    async def board(self) -> Board:
        return await self._control.board()

    async def halt(self, process: Process, scope: str, reason: str) -> Change | None:
        """Halt with the reason; None when it was halted already (the first reason stands)."""
        return await self._halter.halt(process, scope, reason)

    def venue_answered(self) -> None:
        self.venue_errors.succeeded()

    async def venue_failed(self, error: Exception) -> None:
        """Count a submit or cancel that failed at the venue; halt execution after too many in a row."""
        reason = self.venue_errors.failed(f"{type(error).__name__}: {error}")
        if reason is None:
            return
        try:
            await self.halt(Process.EXECUTION, ALL, reason)
        except Exception as exc:  # Redis or Kafka down too: the count stands, the next failure retries
            _log.error("venue_errors.halt_failed", reason=reason, error=repr(exc))
            return
        self.venue_errors.halted()
