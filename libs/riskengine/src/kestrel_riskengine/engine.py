"""Signals and manual orders -> Judgement: validation, sizing and the pre-trade checks.

Pure apart from the ``RiskBook`` it reads and updates (marks from signals, market times of approved
orders); the kill switch comes in as a value read by the caller. The checks themselves are
``kestrel_trading.risk.evaluate``; this module adds what only a live account knows: a malformed
input (RISK_REASON_INVALID_REQUEST), an unlisted symbol (RISK_REASON_UNKNOWN_SYMBOL) and, in a
spot account, buying with cash it lacks or selling base it does not hold
(RISK_REASON_INSUFFICIENT_FUNDS). Market orders are checked at the reference price rounded to the
symbol's tick, since a bar close need not sit on the tick grid and a market order names no price.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from kestrel_contracts.decimals import from_wire
from kestrel_contracts.events import is_event_id
from kestrel_contracts.v1.common_pb2 import Side as SideProto
from kestrel_contracts.v1.order_request_pb2 import (
    ORDER_TYPE_LIMIT,
    ORDER_TYPE_MARKET,
    OrderRequest,
)
from kestrel_contracts.v1.signal_pb2 import (
    SIGNAL_ACTION_BUY,
    SIGNAL_ACTION_EXIT,
    SIGNAL_ACTION_SELL,
    Signal,
)
from kestrel_riskengine.book import RiskBook
from kestrel_riskengine.gate import OPEN, RESTRICTED, Gate, Restriction, restricted
from kestrel_riskengine.judgement import Judgement, signal_client_order_id
from kestrel_riskengine.sizing import SizingError, SizingPolicy, order_for_signal
from kestrel_riskengine.working import WorkingOrder
from kestrel_trading.catalog import InstrumentCatalog
from kestrel_trading.domain import Side
from kestrel_trading.instruments import Instrument
from kestrel_trading.risk import OrderIntent, RiskCheck, RiskLimits, evaluate

INVALID = "RISK_REASON_INVALID_REQUEST"
UNKNOWN_SYMBOL = "RISK_REASON_UNKNOWN_SYMBOL"
INSUFFICIENT_FUNDS = "RISK_REASON_INSUFFICIENT_FUNDS"
_SIDES = {SIGNAL_ACTION_BUY: Side.BUY, SIGNAL_ACTION_SELL: Side.SELL}
_MANUAL_SIDES = {SideProto.Value(s.value): s for s in Side}


class InvalidRequestError(ValueError):
    """The signal or manual order cannot be judged on its merits (missing or malformed fields)."""


@dataclass(frozen=True, slots=True)
class _Order:
    side: Side
    quantity: Decimal
    price: Decimal
    instrument: Instrument


def _price(text: str, what: str) -> Decimal:
    try:
        value = from_wire(text)
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(f"{what} {text!r} is not a decimal: {exc}") from None
    if value <= 0:
        raise InvalidRequestError(f"{what} must be > 0, got {value}")
    return value


class RiskEngine:
    def __init__(
        self,
        book: RiskBook,
        catalog: InstrumentCatalog,
        limits: RiskLimits,
        sizing: SizingPolicy,
        *,
        account: str,
        allow_short: bool,
        service: str = "risk",
        await_signal_orders: bool = True,
    ) -> None:
        self.book, self._catalog, self._limits, self._sizing = book, catalog, limits, sizing
        self.account, self._allow_short, self._service = account, allow_short, service
        # False when execution works signal orders over time (TWAP, iceberg parents): nobody waits.
        self._await_signal_orders = await_signal_orders

    def mark_signal(self, signal: Signal) -> None:
        """A HOLD still prices its symbol: the mark moves even when no order follows."""
        self.mark_price(signal.symbol, signal.reference_price, signal.ts_event)

    def mark_price(self, symbol: str, reference_price: str, ts_event: int) -> None:
        """What a HOLD signal does (exact mode calls it without building the HOLD signal)."""
        instrument = self._catalog.get(symbol)
        if instrument is None:
            return
        try:
            price = self._market_price(_price(reference_price, "price"), instrument)
        except InvalidRequestError:
            return  # a HOLD with a bad price changes nothing; there is no order to reject
        self.book.mark(symbol, price, ts_event if ts_event > 0 else None)

    def decide_signal(
        self, signal: Signal, *, kill_switch: bool, now_ns: int, gate: Gate = OPEN
    ) -> Judgement:
        """A BUY or SELL signal (HOLD never reaches here) -> approved order or rejection."""
        coid = signal_client_order_id(self.account, signal.event_id)
        base = Judgement(
            client_order_id=coid,
            ts_event=signal.ts_event if signal.ts_event > 0 else now_ns,
            origin="ORDER_ORIGIN_SIGNAL",
            account=self.account,
            strategy_id=signal.strategy_id,
            symbol=signal.symbol,
            venue=signal.venue,
            timeframe=signal.timeframe,
            side=_SIDES.get(signal.action),
            quantity=None,
            reference_price=None,
            reason=None,
            reason_text="",
            checks=(),
            signal_event_id=signal.event_id if is_event_id(signal.event_id) else "",
            causation_event_id=signal.event_id,
            actor=self._service,
        )
        try:
            order = self._size_signal(signal)
        except InvalidRequestError as exc:
            return _rejected(base, INVALID, "valid_request", str(exc))
        except LookupError as exc:
            return _rejected(base, UNKNOWN_SYMBOL, "known_symbol", str(exc))
        return self._judge(base, order, kill_switch, gate)

    def _size_signal(self, signal: Signal) -> _Order:
        if signal.action == SIGNAL_ACTION_EXIT:
            return self._size_exit(signal)
        side = _SIDES.get(signal.action)
        if side is None:
            raise InvalidRequestError(f"signal action {signal.action} is neither BUY, SELL nor EXIT")
        price, instrument = self._validated(signal)
        if not 0 <= signal.weight <= 1:
            raise InvalidRequestError(f"signal weight must be in [0, 1], got {signal.weight}")
        try:
            target = self._sizing.target(
                self.book.sizing_equity(signal.symbol, signal.ts_event),
                price,
                signal.volatility,
                instrument,
                weight=signal.weight or 1.0,
            )
        except SizingError as exc:
            raise InvalidRequestError(f"cannot size the signal: {exc}") from None
        # Working orders count: a BUY tops up what they will hold, a SELL sells what none already sells.
        selling_long = side is Side.SELL and not self._allow_short
        position = (
            self.book.sellable(signal.symbol) if selling_long else self.book.projected_position(signal.symbol)
        )
        qty = order_for_signal(
            side,
            target,
            position,
            allow_short=self._allow_short,
            cash=self.book.available_cash(),
            price=price,
            instrument=instrument,
        )
        return _Order(side, qty, price, instrument)

    def _validated(self, signal: Signal) -> tuple[Decimal, Instrument]:
        """The signal's market price on the tick grid (now the symbol's mark) and its instrument."""
        if not is_event_id(signal.event_id):
            raise InvalidRequestError(f"signal event_id {signal.event_id!r} is not a UUID")
        if signal.ts_event <= 0 or not signal.symbol:
            raise InvalidRequestError("signal lacks ts_event or symbol")
        price = _price(signal.reference_price, "reference_price")
        instrument = self._instrument(signal.symbol)
        price = self._market_price(price, instrument)
        self.book.mark(signal.symbol, price, signal.ts_event)
        return price, instrument

    def _size_exit(self, signal: Signal) -> _Order:
        """EXIT closes what the symbol will hold once working orders fill: a long is sold, a short bought."""
        price, instrument = self._validated(signal)
        side, quantity = self.closing_quantity(signal.symbol)
        return _Order(side, quantity, price, instrument)

    def decide_manual(
        self,
        order: OrderRequest,
        *,
        actor: str,
        causation: str,
        kill_switch: bool,
        now_ns: int,
        gate: Gate = OPEN,
    ) -> Judgement:
        """A gateway's manual order (quantity given, no sizing) -> approved or rejected."""
        side = _MANUAL_SIDES.get(order.side)
        base = Judgement(
            client_order_id=order.client_order_id,
            ts_event=order.ts_event if order.ts_event > 0 else now_ns,
            origin="ORDER_ORIGIN_MANUAL",
            account=self.account,
            strategy_id=order.strategy_id,
            symbol=order.symbol,
            venue=order.venue,
            timeframe=order.timeframe,
            side=side,
            quantity=None,
            reference_price=None,
            reason=None,
            reason_text="",
            checks=(),
            causation_event_id=causation,
            actor=order.requested_by or actor,
        )
        try:
            parsed = self._parse_manual(order, base.side)
        except InvalidRequestError as exc:
            return _rejected(base, INVALID, "valid_request", str(exc))
        except LookupError as exc:
            return _rejected(base, UNKNOWN_SYMBOL, "known_symbol", str(exc))
        return self._judge(base, parsed, kill_switch, gate)

    def _parse_manual(self, order: OrderRequest, side: Side | None) -> _Order:
        if not order.client_order_id or not order.symbol:
            raise InvalidRequestError("manual order lacks client_order_id or symbol")
        if order.account and order.account != self.account:
            raise InvalidRequestError(f"account {order.account!r} is not traded here ({self.account!r})")
        if side is None:
            raise InvalidRequestError("manual order has no side")
        qty = _price(order.quantity, "quantity")
        instrument = self._instrument(order.symbol)
        if order.order_type == ORDER_TYPE_LIMIT:
            price = _price(order.limit_price, "limit_price")
        elif order.order_type == ORDER_TYPE_MARKET:
            price = self._manual_reference(order, instrument)
        else:
            raise InvalidRequestError("manual order type must be MARKET or LIMIT")
        return _Order(side, qty, price, instrument)

    def _manual_reference(self, order: OrderRequest, instrument: Instrument) -> Decimal:
        if order.reference_price:
            return self._market_price(_price(order.reference_price, "reference_price"), instrument)
        mark = self.book.marks.get(order.symbol)
        if mark is None:
            raise InvalidRequestError(f"market order for {order.symbol} has no reference price and no mark")
        return mark

    def _instrument(self, symbol: str) -> Instrument:
        instrument = self._catalog.get(symbol)
        if instrument is None:
            raise LookupError(f"symbol {symbol} is not in the instruments catalogue")
        return instrument

    @staticmethod
    def _market_price(price: Decimal, instrument: Instrument) -> Decimal:
        rounded = instrument.round_price(price)
        if rounded <= 0:
            raise InvalidRequestError(f"reference price {price} is below the tick {instrument.tick_size}")
        return rounded

    def closing_quantity(self, symbol: str) -> tuple[Side, Decimal]:
        """What closes the symbol's position once working orders fill (EXIT and flatten both)."""
        instrument = self._instrument(symbol)
        projected = self.book.projected_position(symbol)
        if projected < 0:
            return Side.BUY, instrument.round_qty(-projected)
        return Side.SELL, instrument.round_qty(max(self.book.sellable(symbol), Decimal(0)))

    def drawdown_breach(self) -> str | None:
        """The breaker's text when equity has fallen from its peak by the limit or more, else None."""
        equity, peak = self.book.equity(), self.book.equity_peak
        if peak <= 0 or (drawdown := (peak - equity) / peak) < self._limits.max_drawdown:
            return None
        return (
            f"drawdown circuit breaker: equity {equity:.2f} is {drawdown:.2%} below its peak "
            f"{peak:.2f} (limit {self._limits.max_drawdown:.2%})"
        )

    def _judge(self, base: Judgement, order: _Order, kill_switch: bool, gate: Gate = OPEN) -> Judgement:
        sized = replace(base, side=order.side, quantity=order.quantity, reference_price=order.price)
        if gate.blocked is not None:
            return _rejected(sized, gate.blocked, "trading_control", gate.text)
        gate_checks: list[RiskCheck] = []
        if gate.restriction is not Restriction.NONE:
            position = self.book.projected_position(base.symbol)
            allowed, check = restricted(gate.restriction, order.side, order.quantity, position)
            if not check.passed:
                return replace(sized, reason=RESTRICTED, reason_text=check.detail, checks=(check,))
            order, gate_checks = replace(order, quantity=order.instrument.round_qty(allowed)), [check]
        intent = OrderIntent(base.symbol, order.side, order.quantity, order.price)
        verdict = evaluate(
            intent, self.book.state(base.ts_event, kill_switch), self._limits, base.ts_event, order.instrument
        )
        reasons: list[str] = [r.value for r in verdict.reasons]
        checks = [*gate_checks, *verdict.checks]
        if not self._allow_short:
            funds = self._funds_check(order, base.symbol)
            checks.append(funds)
            if not funds.passed:
                reasons.append(INSUFFICIENT_FUNDS)
        text = judgement_text(checks)
        if not reasons:
            self.book.record_order(base.ts_event)
            # Only signal orders are awaited by later signals: a manual LIMIT may rest for many bars,
            # and exact-mode backtests have no manual orders to match; a parent works for many bars.
            awaited = base.origin == "ORDER_ORIGIN_SIGNAL" and self._await_signal_orders
            decided_at = base.ts_event if awaited else 0
            self.book.add_working(
                WorkingOrder(
                    base.client_order_id,
                    base.symbol,
                    order.side,
                    order.quantity,
                    order.price,
                    decided_at_ns=decided_at,
                )
            )
        return replace(
            base,
            side=order.side,
            quantity=order.quantity,
            reference_price=order.price,
            reason=reasons[0] if reasons else None,
            reason_text=text,
            checks=tuple(checks),
        )

    def _funds_check(self, order: _Order, symbol: str) -> RiskCheck:
        have = self.book.available_cash() if order.side is Side.BUY else self.book.sellable(symbol)
        return funds_check(order.side, order.quantity, order.price, have)


def funds_check(side: Side, qty: Decimal, price: Decimal, have: Decimal) -> RiskCheck:
    """Spot: a buy is paid from unreserved cash (``have``), a sell comes out of the long no sell already
    sells (``have``)."""
    if side is Side.BUY:
        need = qty * price
        return RiskCheck(
            "insufficient_funds", need <= have, str(have), str(need), f"cash {have}, cost {need}"
        )
    return RiskCheck("insufficient_funds", qty <= have, str(have), str(qty), f"holding {have}")


def judgement_text(checks: list[RiskCheck]) -> str:
    """What a judgement says: "approved", or every failed check with its detail."""
    failed = [c for c in checks if not c.passed]
    return "approved" if not failed else "; ".join(f"{c.name}: {c.detail}" for c in failed)


def _rejected(base: Judgement, reason: str, check: str, detail: str) -> Judgement:
    return replace(base, reason=reason, reason_text=detail, checks=(RiskCheck(check, False, "", "", detail),))
