"""The matching engine of the fake exchange: client orders against scripted outside liquidity.

Pure (no HTTP), so it can be unit-tested alone; the server wraps it. Per symbol it holds a book of
synthetic outside levels (`set_book`) that client orders take from at the book's prices, one trade per
level touched. A client order that rests (GTC or LIMIT_MAKER) is filled only by `trade_through`, an
outside taker crossing it at its limit price (a maker fill). Client orders never match each other.

Every state change is announced, in order, to the listeners as the documented user-stream payloads:
`executionReport` per order step, then one `outboundAccountPosition` listing the assets that moved.
"""

from __future__ import annotations

import random
import string
import time
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from kestrel_testing.fake_binance_account import Account, Balance
from kestrel_testing.fake_binance_book import OutsideBook, Plan, PriceLevels
from kestrel_testing.fake_binance_data import SymbolSpec
from kestrel_testing.fake_binance_filters import check_filters, lot_step
from kestrel_testing.fake_binance_model import (
    ORDER_TYPES,
    TIME_IN_FORCE,
    ZERO,
    FakeOrder,
    Fill,
    OrderRequest,
    Placement,
)
from kestrel_testing.fake_binance_rest import RejectedRequestError, invalid_symbol, mandatory_missing
from kestrel_testing.fake_binance_wire import account_position, execution_report

EventListener = Callable[[dict[str, Any]], None]
_EIGHT_DECIMALS = Decimal("0.00000001")
_ID_ALPHABET = string.ascii_letters + string.digits


def unknown_order() -> RejectedRequestError:
    return RejectedRequestError(400, -2011, "Unknown order sent.")


class FakeExchange:
    """One spot account trading the given symbols; see the module docstring."""

    def __init__(
        self,
        symbols: Mapping[str, SymbolSpec],
        balances: Mapping[str, str | Decimal] | None = None,
        *,
        commission_rate: str | Decimal = "0.001",
        clock: Callable[[], int] | None = None,
        seed: int = 0,
    ) -> None:
        self.symbols = symbols
        self.account = Account(balances or {})
        self.commission_rate = Decimal(commission_rate)
        self._clock = clock or (lambda: int(time.time() * 1000))
        self._books: dict[str, OutsideBook] = {}
        self._orders: dict[str, list[FakeOrder]] = {}
        self._fills: dict[str, list[Fill]] = {}
        self._trade_ids: dict[str, int] = {}
        self._listeners: list[EventListener] = []
        self._sequence = 0
        self._rng = random.Random(seed)  # generated client ids are reproducible
        self.executed_placements = 0  # orders accepted by the engine (rejections excluded)

    # -- setup and inspection ----------------------------------------------------------------------

    def add_listener(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    def set_book(
        self,
        symbol: str,
        bids: PriceLevels = (),
        asks: PriceLevels = (),
    ) -> None:
        """Replace the outside liquidity of `symbol` (levels as (price, qty))."""
        self._spec(symbol)
        self._books[symbol] = OutsideBook(bids, asks)

    def book(self, symbol: str) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """What is left of the outside liquidity: (bids best first, asks best first)."""
        return self._books.get(symbol, OutsideBook()).snapshot()

    def balances(self) -> dict[str, Balance]:
        return self.account.snapshot()

    def all_orders(self, symbol: str) -> list[FakeOrder]:
        return list(self._orders.get(symbol, []))

    def open_orders(self, symbol: str | None = None) -> list[FakeOrder]:
        names = [symbol] if symbol is not None else sorted(self._orders)
        return [o for name in names for o in self._orders.get(name, []) if o.is_open]

    def trades(self, symbol: str) -> list[Fill]:
        return list(self._fills.get(symbol, []))

    def order_by_client_id(self, client_order_id: str) -> FakeOrder | None:
        """The open order with that client id, else the latest one that had it."""
        every = [
            o for orders in self._orders.values() for o in orders if o.client_order_id == client_order_id
        ]
        open_ = [o for o in every if o.is_open]
        if open_ or every:
            return (open_ or sorted(every, key=lambda o: o.time_ms))[-1]
        return None

    def find(
        self, symbol: str, *, order_id: int | None = None, client_order_id: str | None = None
    ) -> FakeOrder | None:
        """Binance's lookup: by orderId (then the client id, if also given, must match), else client id."""
        orders = self._orders.get(symbol, [])
        if order_id is not None:
            match = next((o for o in orders if o.order_id == order_id), None)
            if match is not None and client_order_id is not None and match.client_order_id != client_order_id:
                return None
            return match
        named = [o for o in orders if o.client_order_id == client_order_id]
        open_ = [o for o in named if o.is_open]
        return (open_ or named)[-1] if named else None

    def new_client_id(self) -> str:
        return "".join(self._rng.choice(_ID_ALPHABET) for _ in range(22))

    # -- orders ------------------------------------------------------------------------------------

    def place(self, request: OrderRequest) -> Placement:
        """Check, accept and match a new order; raises RejectedRequestError when it is refused."""
        spec = self._spec(request.symbol)
        _validate_shape(request)
        plan, book_short = self._plan(request, spec)
        planned_qty = sum((q for _, q in plan), ZERO)
        reference = sum((lv.price * q for lv, q in plan), ZERO) / planned_qty if planned_qty else None
        check_filters(spec, request, reference, len(self.open_orders(request.symbol)))
        client_id = request.client_order_id
        if client_id is not None and any(o.client_order_id == client_id for o in self.open_orders()):
            raise RejectedRequestError(400, -2010, "Duplicate order sent.")
        if request.type == "LIMIT_MAKER" and plan:
            raise RejectedRequestError(400, -2010, "Order would immediately match and take.")
        if request.time_in_force == "FOK" and request.quantity is not None and planned_qty < request.quantity:
            plan, planned_qty = [], ZERO  # all or nothing: nothing
        self._check_funds(request, spec, plan)
        order = self._accept(request, client_id or self.new_client_id(), planned_qty)
        fills = []
        for level, qty in plan:
            level.qty -= qty
            fills.append(self._fill(order, spec, level.price, qty, maker=False))
        self._books[request.symbol].drop_empty()
        if order.remaining > 0 and order.is_working:
            self._lock_rest(order, spec)
        elif order.remaining > 0 or book_short:
            self._close(order, "EXPIRED")
        self._publish_account()
        return Placement(order, fills)

    def cancel(
        self,
        symbol: str,
        *,
        order_id: int | None = None,
        orig_client_order_id: str | None = None,
        new_client_order_id: str | None = None,
    ) -> FakeOrder:
        spec = self._spec(symbol)
        order = self.find(symbol, order_id=order_id, client_order_id=orig_client_order_id)
        if order is None or not order.is_open:
            raise unknown_order()
        if order.side == "BUY":
            self.account.unlock(spec.quote_asset, order.price * order.remaining)
        else:
            self.account.unlock(spec.base_asset, order.remaining)
        order.cancel_client_order_id = new_client_order_id or self.new_client_id()
        self._close(order, "CANCELED")
        self._publish_account()
        return order

    def trade_through(self, symbol: str, price: str | Decimal, qty: str | Decimal) -> list[Fill]:
        """An outside taker trades `qty` at `price`: resting client buys at or above it and sells at or
        below it fill at their own limit price (maker), best price first, then oldest first."""
        spec = self._spec(symbol)
        at, left = Decimal(price), Decimal(qty)
        resting = [o for o in self.open_orders(symbol) if o.is_working]
        buys = sorted((o for o in resting if o.side == "BUY" and o.price >= at), key=lambda o: -o.price)
        sells = sorted((o for o in resting if o.side == "SELL" and o.price <= at), key=lambda o: o.price)
        fills = []
        for order in [*buys, *sells]:
            if left <= 0:
                break
            take = min(order.remaining, left)
            left -= take
            fills.append(self._fill(order, spec, order.price, take, maker=True))
        self._publish_account()
        return fills

    def report_rejection(self, request: OrderRequest, reason: str) -> None:
        """The REJECTED executionReport Binance sends when cancelReplace cancels but cannot place."""
        order = FakeOrder(
            symbol=request.symbol,
            order_id=-1,
            client_order_id=request.client_order_id or self.new_client_id(),
            side=request.side,
            type=request.type,
            time_in_force=request.time_in_force or "GTC",
            price=request.price or ZERO,
            orig_qty=request.quantity or ZERO,
            orig_quote_qty=request.quote_order_qty or ZERO,
            time_ms=self.now(),
            update_time_ms=self.now(),
            status="REJECTED",
        )
        self._report(order, "REJECTED", reject_reason=reason)

    def now(self) -> int:
        return self._clock()

    # -- internals ---------------------------------------------------------------------------------

    def _spec(self, symbol: str) -> SymbolSpec:
        spec = self.symbols.get(symbol)
        if spec is None:
            raise invalid_symbol()
        return spec

    def _plan(self, request: OrderRequest, spec: SymbolSpec) -> tuple[Plan, bool]:
        book = self._books.setdefault(request.symbol, OutsideBook())
        return book.plan(request, lot_step(spec, request.type == "MARKET"))

    def _check_funds(self, request: OrderRequest, spec: SymbolSpec, plan: Plan) -> None:
        if request.side == "BUY":
            if request.type == "MARKET":
                need = sum((lv.price * q for lv, q in plan), ZERO)
            else:
                need = (request.price or ZERO) * (request.quantity or ZERO)
            self.account.require_free(spec.quote_asset, need)
        else:
            need = request.quantity if request.quantity is not None else sum((q for _, q in plan), ZERO)
            self.account.require_free(spec.base_asset, need)

    def _accept(self, request: OrderRequest, client_id: str, planned_qty: Decimal) -> FakeOrder:
        now = self.now()
        orders = self._orders.setdefault(request.symbol, [])
        market = request.type == "MARKET"
        quantity = request.quantity if request.quantity is not None else planned_qty
        rests = request.type == "LIMIT_MAKER" or (request.time_in_force == "GTC" and not market)
        order = FakeOrder(
            symbol=request.symbol,
            order_id=len(orders) + 1,
            client_order_id=client_id,
            side=request.side,
            type=request.type,
            time_in_force=request.time_in_force or "GTC",  # Binance reports GTC for MARKET orders
            price=ZERO if market else (request.price or ZERO),
            orig_qty=quantity,
            orig_quote_qty=request.quote_order_qty or ZERO,
            time_ms=now,
            update_time_ms=now,
            is_working=rests and planned_qty < quantity,
            working_time_ms=now,
        )
        orders.append(order)
        self.executed_placements += 1
        self._report(order, "NEW")
        return order

    def _fill(self, order: FakeOrder, spec: SymbolSpec, price: Decimal, qty: Decimal, *, maker: bool) -> Fill:
        quote = price * qty
        if order.side == "BUY":
            commission = (qty * self.commission_rate).quantize(_EIGHT_DECIMALS, ROUND_HALF_UP)
            paid, received, asset = spec.quote_asset, spec.base_asset, spec.base_asset
            cost, proceeds = quote, qty - commission
        else:
            commission = (quote * self.commission_rate).quantize(_EIGHT_DECIMALS, ROUND_HALF_UP)
            paid, received, asset = spec.base_asset, spec.quote_asset, spec.quote_asset
            cost, proceeds = qty, quote - commission
        if maker:
            self.account.spend_locked(paid, cost)  # a resting order pays from what it locked
        else:
            self.account.debit(paid, cost)
        self.account.credit(received, proceeds)
        now = self.now()
        order.executed_qty += qty
        order.cumulative_quote_qty += quote
        order.update_time_ms = now
        order.status = "FILLED" if order.remaining == 0 else "PARTIALLY_FILLED"
        if order.status == "FILLED":
            order.is_working = False
        trade_id = self._trade_ids.get(order.symbol, 0) + 1
        self._trade_ids[order.symbol] = trade_id
        fill = Fill(
            order.symbol, trade_id, order.order_id, price, qty, quote, commission, asset, now,
            is_buyer=order.side == "BUY", is_maker=maker,
        )  # fmt: skip
        self._fills.setdefault(order.symbol, []).append(fill)
        self._report(order, "TRADE", fill=fill)
        return fill

    def _lock_rest(self, order: FakeOrder, spec: SymbolSpec) -> None:
        if order.side == "BUY":
            self.account.lock(spec.quote_asset, order.price * order.remaining)
        else:
            self.account.lock(spec.base_asset, order.remaining)

    def _close(self, order: FakeOrder, status: str) -> None:
        order.status = status
        order.is_working = False
        order.update_time_ms = self.now()
        self._report(order, status)

    def _report(
        self, order: FakeOrder, exec_type: str, *, fill: Fill | None = None, reject_reason: str = "NONE"
    ) -> None:
        self._sequence += 1
        self._emit(
            execution_report(
                order, exec_type, self.now(), self._sequence, fill=fill, reject_reason=reject_reason
            )
        )

    def _publish_account(self) -> None:
        now = self.now()
        changed = self.account.take_changed(now)
        if changed:
            balances = {asset: self.account.balance(asset) for asset in changed}
            self._emit(account_position(balances, now, self.account.update_time_ms))

    def _emit(self, event: dict[str, Any]) -> None:
        for listener in list(self._listeners):
            listener(event)


def _validate_shape(request: OrderRequest) -> None:
    """The parameter rules the REST layer also checks, for direct (unit-test) use of the engine."""
    if request.type not in ORDER_TYPES:
        raise RejectedRequestError(400, -1116, "Invalid orderType.")
    if request.type == "MARKET":
        if (request.quantity is None) == (request.quote_order_qty is None):
            raise mandatory_missing("quantity")
        return
    if request.quantity is None:
        raise mandatory_missing("quantity")
    if request.price is None:
        raise mandatory_missing("price")
    if request.type == "LIMIT" and request.time_in_force not in TIME_IN_FORCE:
        raise RejectedRequestError(400, -1115, "Invalid timeInForce.")
