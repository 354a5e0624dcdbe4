"""Risk under the production controller: the gate of each order, flatten, and automated halts.

Risk reads the controller's board once per batch and judges every order against risk's effective
state at the order's market time (so a replay obeys run windows as the live run would) and the
instrument's mode. It halts its own account when the drawdown breaker trips or market data goes
stale; only an operator resumes it (see kestrel_platform.control).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from kestrel_contracts.decimals import to_wire
from kestrel_contracts.events import derived_event_id
from kestrel_contracts.v1.operator_command_pb2 import OperatorCommand
from kestrel_contracts.v1.order_request_pb2 import (
    ORDER_ORIGIN_MANUAL,
    ORDER_TYPE_MARKET,
    TIME_IN_FORCE_GTC,
    OrderRequest,
)
from kestrel_platform.control import EMPTY_BOARD, Board, Process, State
from kestrel_platform.control_events import Halter
from kestrel_platform.control_store import ControlStore
from kestrel_platform.lifecycle import sleep_or_stop
from kestrel_platform.logging import get_logger
from kestrel_riskengine.engine import RiskEngine
from kestrel_riskengine.gate import HALTED, PAUSED, Gate, Restriction

_log = get_logger("kestrel.risk.controls")


def gate_for(board: Board, account: str, symbol: str, at_ns: int) -> Gate:
    effective = board.effective(Process.RISK, account, at_ns)
    blocked = None if effective.running else PAUSED if effective.state is State.PAUSED else HALTED
    return Gate(blocked, effective.reason, Restriction(board.mode(account, symbol).value))


def flatten_client_order_id(account: str, command_event_id: str, symbol: str) -> str:
    """Deterministic, so a redelivered flatten asks for the same orders (execution drops repeats)."""
    digest = hashlib.sha256(f"{account}\x1f{command_event_id}\x1f{symbol}".encode()).hexdigest()
    return f"flat-{digest[:24]}"


def flatten_requests(engine: RiskEngine, command: OperatorCommand) -> list[OrderRequest]:
    """One MARKET order per symbol the account holds (or the one named) that takes it to flat."""
    flatten = command.flatten
    symbols = [flatten.symbol] if flatten.symbol else sorted(engine.book.portfolio.positions)
    requests = []
    for symbol in symbols:
        try:
            side, quantity = engine.closing_quantity(symbol)
        except LookupError:
            continue  # a symbol no longer in the catalogue cannot be priced; the audit trail names it
        if quantity <= 0:
            continue
        coid = flatten_client_order_id(engine.account, command.event_id, symbol)
        requests.append(
            OrderRequest(
                event_id=derived_event_id("risk-flatten", coid),
                ts_event=command.ts_event,
                ts_init=command.ts_event,
                client_order_id=coid,
                account=engine.account,
                strategy_id="flatten",
                symbol=symbol,
                side=side.value,
                order_type=ORDER_TYPE_MARKET,
                time_in_force=TIME_IN_FORCE_GTC,
                quantity=to_wire(quantity),
                origin=ORDER_ORIGIN_MANUAL,
                requested_by=command.actor,
            )
        )
    return requests


class DrawdownBreaker:
    """Halts the account once equity falls from its peak by the configured drawdown."""

    def __init__(self, engine: RiskEngine, halter: Halter | None, *, enabled: bool = True) -> None:
        self._engine, self._halter, self._enabled = engine, halter, enabled

    async def check(self) -> None:
        if not self._enabled or self._halter is None:
            return
        breach = self._engine.drawdown_breach()
        if breach is not None:
            await self._halter.halt(Process.RISK, self._engine.account, breach)


class StaleDataWatch:
    """Halts the account when no signal (one per bar and symbol, HOLDs included) arrived for
    `after_s` seconds of wall-clock time while risk was running: the feed, features or inference
    has stopped, and trading on the last known prices would be trading blind. 0 disables it (a
    replay ends, and then nothing arrives on purpose)."""

    def __init__(
        self,
        account: str,
        halter: Halter,
        after_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._account, self._halter, self._after_s, self._clock = account, halter, after_s, clock
        self._last_arrival = clock()
        self._last_bar_ns = 0

    def arrived(self, ts_events: Sequence[int]) -> None:
        self._last_arrival = self._clock()
        self._last_bar_ns = max([self._last_bar_ns, *ts_events])

    async def check(self, board: Board, now_ns: int) -> bool:
        """Halt when stale (and risk is running); True when it halted."""
        silent = self._clock() - self._last_arrival
        if self._after_s <= 0 or silent < self._after_s:
            return False
        if not board.effective(Process.RISK, self._account, now_ns).running:
            self._last_arrival = self._clock()  # paused or halted: silence is expected, count afresh
            return False
        reason = f"stale market data: no bar for {silent:.0f} s (limit {self._after_s:.0f} s)"
        if self._last_bar_ns:
            reason += f", last bar at {self._last_bar_ns} ns"
        return await self._halter.halt(Process.RISK, self._account, reason) is not None

    async def run(self, read_board: Callable[[], Awaitable[Board]], stop: asyncio.Event) -> None:
        if self._after_s <= 0:
            return
        while not await sleep_or_stop(stop, min(self._after_s / 4, 5.0)):
            try:
                await self.check(await read_board(), time.time_ns())
            except Exception as exc:  # Redis or Kafka away: /ready says so; try again next round
                _log.warning("stale_watch.check_failed", error=repr(exc))


@dataclass(frozen=True, slots=True)
class RiskControls:
    """What the deciding handlers consult; the defaults (no store) trade as if nothing were set."""

    store: ControlStore | None = None
    breaker: DrawdownBreaker | None = None
    stale: StaleDataWatch | None = None

    async def board(self) -> Board:
        return await self.store.board() if self.store is not None else EMPTY_BOARD

    async def after_fills(self) -> None:
        """The breaker's check; a failure to halt is logged, never undoes the batch that was stored."""
        if self.breaker is None:
            return
        try:
            await self.breaker.check()
        except Exception as exc:  # Redis or Kafka away: the next batch or fill checks again
            _log.error("drawdown_breaker.check_failed", error=repr(exc))
