"""In-memory stand-ins for the handler's dependencies (unit tests, tools): same contract, no servers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from kestrel_contracts.events import derived_event_id, now_ns
from kestrel_contracts.v1.bar_pb2 import Bar as BarPb
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_execution.algorithms import ParentOrder
from kestrel_execution.controller import Controller
from kestrel_execution.progress import OrderChange, StoredOrder
from kestrel_execution.reconcile import Holding
from kestrel_execution.repository import AcceptedOrder, Advance, NewOrder, RejectedOrder
from kestrel_execution.testing_parents import InMemoryParents
from kestrel_execution.venue import Traded, VenueState
from kestrel_messaging import MessageBus
from kestrel_platform.control_events import Halter
from kestrel_platform.control_store import InMemoryControl
from kestrel_trading.domain import Bar, Fill
from kestrel_trading.portfolio import Position


@dataclass(slots=True)
class RejectedRow:
    request: OrderRequest
    reason: str
    text: str
    parent_client_order_id: str = ""


@dataclass
class InMemoryExecutionStore(InMemoryParents):
    """trading.orders / fills / positions, the outbox and market.bars as dicts and lists."""

    orders: dict[str, StoredOrder] = field(default_factory=dict)
    rejected: dict[str, RejectedRow] = field(default_factory=dict)
    fills: dict[str, Fill] = field(default_factory=dict)
    trades: dict[str, Traded] = field(default_factory=dict)  # the venue's account of each fill
    venue_baselines: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    positions: dict[tuple[str, str], Position] = field(default_factory=dict)
    outbox: dict[tuple[str, int], ExecutionReport] = field(default_factory=dict)
    published: set[tuple[str, int]] = field(default_factory=set)
    # market.bars as the intake's catch-up reads them: closed bars by (symbol, timeframe).
    bars: dict[tuple[str, str], list[Bar]] = field(default_factory=dict)
    parents: dict[str, ParentOrder] = field(default_factory=dict)

    async def existing(self, client_order_ids: Sequence[str]) -> set[str]:
        return {c for c in client_order_ids if c in self.orders or c in self.rejected or c in self.parents}

    async def store_intake(self, orders: Sequence[NewOrder]) -> list[list[OrderChange] | None]:
        results: list[list[OrderChange] | None] = []
        for order in orders:
            coid = order.request.client_order_id
            if await self.existing([coid]):
                results.append(None)
            elif isinstance(order, RejectedOrder):
                self.rejected[coid] = RejectedRow(
                    order.request, order.reason, order.text, order.parent_client_order_id
                )
                self._add(order.report)
                results.append([])
            else:
                results.append(self._accept(order))
        return results

    def _accept(self, order: AcceptedOrder) -> list[OrderChange]:
        meta, working = order.meta, order.working
        self.orders[meta.client_order_id] = StoredOrder(
            meta.client_order_id, meta, working, 1, VenueState.PENDING
        )
        self._add(order.report)
        if order.catch_up is None:
            return []
        changes: list[OrderChange] = []
        stored_bars = self.bars.get((meta.symbol, meta.timeframe), [])
        for bar in sorted(stored_bars, key=lambda b: b.ts_open_ns):
            current = self.orders[meta.client_order_id]
            if bar.ts_open_ns < working.submitted_at_ns or current.working.order.status.is_terminal:
                continue
            change = order.catch_up(current, bar)
            changes += self._apply_changes([change] if change else [])
        return changes

    async def apply_bar(
        self, symbol: str, timeframe: str, fee_asset: str, fill_times_ns: Sequence[int], advance: Advance,
        *, broker: str,
    ) -> list[OrderChange]:  # fmt: skip
        working = [s for s in self._open(broker) if (s.meta.symbol, s.meta.timeframe) == (symbol, timeframe)]
        return self._apply_changes([change for s in working if (change := advance(s)) is not None])

    async def apply_to_orders(
        self, changes: Sequence[tuple[str, Advance]], fee_asset: Callable[[str], str]
    ) -> list[OrderChange | None]:
        out: list[OrderChange | None] = []
        for client_order_id, advance in changes:
            stored = self.orders.get(client_order_id)
            change = advance(stored) if stored is not None else None
            self._apply_changes([change] if change is not None else [])
            out.append(change)
        return out

    async def open_orders(self, broker: str, fee_asset: Callable[[str], str]) -> list[StoredOrder]:
        return self._open(broker)

    async def unresolved(
        self, broker: str, pending_for_s: float, fee_asset: Callable[[str], str]
    ) -> list[StoredOrder]:
        # No clock here: every PENDING order counts as pending long enough.
        return [s for s in self._open(broker) if s.venue_state is not VenueState.ACKED]

    async def set_venue_state(self, client_order_id: str, state: VenueState) -> None:
        stored = self.orders[client_order_id]
        if stored.venue_state is not VenueState.ACKED:  # an answer is never undone
            self.orders[client_order_id] = replace(stored, venue_state=state)

    async def stored_order(self, client_order_id: str, fee_asset: Callable[[str], str]) -> StoredOrder | None:
        return self.orders.get(client_order_id)

    async def traded_symbols(self, broker: str) -> list[str]:
        return sorted({s.meta.symbol for s in self.orders.values() if s.meta.broker == broker
                       and s.working.order.filled_quantity > 0})  # fmt: skip

    async def holdings(self, broker: str, base_assets: Mapping[str, str]) -> dict[str, Holding]:
        net: dict[str, Decimal] = {}
        paid: dict[str, Decimal] = {}
        for traded in self.trades.values():
            fill = traded.fill
            order = self.orders.get(fill.client_order_id)
            asset = base_assets.get(fill.symbol)
            if order is None or order.meta.broker != broker or asset is None:
                continue
            net[asset] = net.get(asset, Decimal(0)) + fill.signed_quantity
            commission = traded.commission if traded.commission_asset == asset else Decimal(0)
            paid[asset] = paid.get(asset, Decimal(0)) + commission
        return {asset: Holding(net[asset], paid[asset]) for asset in net}

    async def baselines(self, broker: str) -> dict[str, Decimal]:
        return {asset: q for (b, asset), q in self.venue_baselines.items() if b == broker}

    async def add_baselines(self, broker: str, found: Mapping[str, Decimal]) -> None:
        for asset, quantity in found.items():
            self.venue_baselines.setdefault((broker, asset), quantity)

    def _open(self, broker: str) -> list[StoredOrder]:
        return [
            s
            for s in self.orders.values()
            if s.meta.broker == broker and not s.working.order.status.is_terminal
        ]

    def _apply_changes(self, changes: list[OrderChange]) -> list[OrderChange]:
        for change in changes:  # all or nothing, like the transaction: advance ran for every order first
            stored = change.stored
            self.orders[stored.meta.client_order_id] = StoredOrder(
                stored.order_id, change.meta, change.working, change.sequence, change.venue_state
            )
            for traded in change.fills if change.report is not None else ():
                fill = traded.fill
                if fill.fill_id in self.fills:
                    continue
                self.fills[fill.fill_id] = fill
                self.trades[fill.fill_id] = traded
                key = (stored.meta.account, stored.meta.symbol)
                for part in traded.position_fills():
                    self.positions[key] = self.positions.get(key, Position(stored.meta.symbol)).apply(part)
            if change.report is not None:
                self._add(change.report)
        return changes

    async def unpublished(
        self, *, client_order_id: str | None = None, older_than_s: float = 0.0
    ) -> list[ExecutionReport]:
        return [
            report
            for key, report in self.outbox.items()
            if key not in self.published and client_order_id in (None, key[0])
        ]

    async def mark_published(self, reports: Sequence[ExecutionReport]) -> None:
        self.published.update((r.client_order_id, r.sequence) for r in reports)

    def _add(self, report: ExecutionReport) -> None:
        self.outbox.setdefault((report.client_order_id, report.sequence), report)


@dataclass(slots=True)
class FakeKillSwitch:
    is_engaged: bool = False

    async def engaged(self) -> bool:
        return self.is_engaged


def memory_controller(
    bus: MessageBus, control: InMemoryControl | None = None, *, venue_error_halt_after: int = 5
) -> Controller:
    """Execution's controller on an in-memory board (a test pauses, stops, halts through `control`);
    its own halts are published on `bus` like the service's."""
    board = control if control is not None else InMemoryControl()
    return Controller(board, Halter(board, bus, "execution"), venue_error_halt_after=venue_error_halt_after)


MINUTE_NS = 60 * 1_000_000_000
T0_NS = 1_700_000_040 * 1_000_000_000 // MINUTE_NS * MINUTE_NS


def order_request(client_order_id: str = "ord-1", **fields: object) -> OrderRequest:
    """A valid MARKET BUY of 0.5 BTC/USDT decided at the close of the minute bar opening at T0."""
    values: dict[str, object] = {
        "event_id": derived_event_id("test-order", client_order_id),
        "ts_event": T0_NS + MINUTE_NS,
        "ts_init": now_ns(),
        "client_order_id": client_order_id,
        "account": "paper-1",
        "strategy_id": "test",
        "symbol": "BTC/USDT",
        "venue": "BINANCE",
        "timeframe": "1m",
        "side": "SIDE_BUY",
        "order_type": "ORDER_TYPE_MARKET",
        "time_in_force": "TIME_IN_FORCE_GTC",
        "quantity": "0.5",
        "reference_price": "100",
        "signal_event_id": derived_event_id("test-signal", client_order_id),
    }
    values.update(fields)
    return OrderRequest(**values)  # type: ignore[arg-type]


def bar(
    index: int, open_: str, high: str, low: str, close: str, *, symbol: str = "BTC/USDT", volume: str = "1000"
) -> BarPb:
    """The minute bar `index` minutes after T0 (bar 0 is the signal bar of `order_request`)."""
    ts_open = T0_NS + index * MINUTE_NS
    return BarPb(
        event_id=derived_event_id("test-bar", symbol, str(ts_open)),
        ts_event=ts_open + MINUTE_NS,
        ts_init=now_ns(),
        symbol=symbol,
        venue="BINANCE",
        timeframe="1m",
        ts_open=ts_open,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
        source="test",
    )
