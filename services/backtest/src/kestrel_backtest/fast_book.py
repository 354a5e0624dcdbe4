"""Fast mode's account: risk's sizing and checks and the paper fill, without the live service's objects.

Exact mode builds, for every direction change, the protobuf Signal, the RiskEngine's Judgement with
all nine checks and their texts, an Order and its state machine, and the paper broker's WorkingOrder
(~190 us per fill). Fast mode runs without account limits, so only three checks can fail: exchange
filters, zero quantity and spot funds. This book keeps just what those read — cash, positions, marks
and each symbol's one working order — and calls the same pure functions risk and the paper broker
call (``fixed_fraction_qty``, ``order_for_signal``, ``Instrument.check``, ``market_fill_price``,
``fill_fee``) in the same Decimal order, so every quantity, price and fee is the one exact mode gets.
A predicted rejection is judged by ``kestrel_trading.risk.evaluate`` itself, so its reason code and
text are risk's own.

Whatever lies outside that envelope (a close that is not a plain decimal, a weight out of range, an
account with no equity left, bars that overlap) raises ``OutsideFastEnvelopeError``; ``run_fast`` then
hands the whole run to exact mode rather than guess.
"""

from __future__ import annotations

from decimal import Decimal

from kestrel_backtest.domain import UNLIMITED, BacktestSpec, Rejection
from kestrel_contracts.events import derived_event_id
from kestrel_riskengine.engine import INSUFFICIENT_FUNDS, funds_check, judgement_text
from kestrel_riskengine.judgement import signal_client_order_id
from kestrel_riskengine.sizing import order_for_signal
from kestrel_riskengine.working import WorkingOrder
from kestrel_trading.catalog import InstrumentCatalog
from kestrel_trading.domain import Fill, Liquidity, Side
from kestrel_trading.instruments import Instrument
from kestrel_trading.paper import fill_fee, market_fill_price
from kestrel_trading.risk import OrderIntent, RiskCheck, RiskState, evaluate
from kestrel_trading.sizing import SizingError, fixed_fraction_qty

_ZERO = Decimal(0)
_PLAIN = frozenset("0123456789.-")


class OutsideFastEnvelopeError(Exception):
    """The run needs something only the full risk engine does; the message says what."""


class FastBook:
    def __init__(self, spec: BacktestSpec, catalog: InstrumentCatalog) -> None:
        self.spec, self.paper, self.fee_bps = spec, spec.paper, spec.paper.taker_fee_bps
        self.instruments: dict[str, Instrument] = {}
        for symbol in spec.symbols:
            instrument = catalog.get(symbol)
            assert instrument is not None  # checked by BacktestSpec
            self.instruments[symbol] = instrument
        self.strategy_id = spec.strategy.strategy_id
        self.cash = spec.initial_cash
        self.positions: dict[str, Decimal] = {}
        self.marks: dict[str, Decimal] = {}
        # Other held symbols' marks of the bar time before a decision (RiskBook.sizing_equity).
        self.marks_before: dict[str, Decimal] = {}
        # At most one per symbol: a fast-mode order fills (or not) on the bar after its decision.
        self.working: dict[str, WorkingOrder] = {}
        self.reserved = _ZERO
        self.fills: list[Fill] = []
        self.rejections: list[Rejection] = []

    def held(self, symbol: str) -> bool:
        return self.positions.get(symbol, _ZERO) != 0

    def mark_close(self, symbol: str, close: float, before: float) -> None:
        """A held symbol's marks when another decides: its latest close seen (as exact mode's HOLD
        signals mark it) and its close of the bar time before the decision's (sizing reads that)."""
        instrument = self.instruments[symbol]
        self.marks[symbol] = instrument.round_price(_finite_decimal(close))
        self.marks_before[symbol] = instrument.round_price(_finite_decimal(before))

    def decide(
        self, symbol: str, *, after: float, weight: float, close: float, bar: str, ts_event: int
    ) -> bool:
        """Risk on a change to direction ``after`` at a bar's close (``bar`` its event id); True when an
        order now works on the next bar."""
        instrument = self.instruments[symbol]
        price = instrument.round_price(_plain_decimal(close))
        if price <= 0:
            raise OutsideFastEnvelopeError(f"{symbol} close {close} rounds to {price} on the tick")
        self.marks[symbol] = price
        side, qty = self._size(symbol, after, weight, price, instrument)
        spot = not self.spec.allow_short
        have = self._have(symbol, side) if spot else _ZERO
        # funds_check's predicate; its texts are only built for a rejection.
        funded = not spot or (qty * price <= have if side is Side.BUY else qty <= have)
        if not (qty > 0 and funded and not instrument.check(price, qty)):
            funds = [funds_check(side, qty, price, have)] if spot else []
            return self._reject(
                ts_event, symbol, side, qty, price=price, instrument=instrument, funds=funds, after=after
            )
        coid = signal_client_order_id(
            self.spec.account, derived_event_id("strategy-signal", self.strategy_id, bar)
        )
        self.working[symbol] = WorkingOrder(coid, symbol, side, qty, price)
        if side is Side.BUY:
            self.reserved += qty * price
        return True

    def _size(
        self, symbol: str, after: float, weight: float, price: Decimal, instrument: Instrument
    ) -> tuple[Side, Decimal]:
        """The side and quantity ``RiskEngine._size_signal`` gives the strategy signal."""
        position, pending_sell = self.positions.get(symbol, _ZERO), self._pending(symbol, Side.SELL)
        projected, sellable = (
            position + self._pending(symbol, Side.BUY) - pending_sell,
            position - pending_sell,
        )
        if after == 0:  # EXIT: flat whatever is held
            if projected < 0:
                return Side.BUY, instrument.round_qty(-projected)
            return Side.SELL, instrument.round_qty(max(sellable, _ZERO))
        side = Side.BUY if after > 0 else Side.SELL
        if not 0 <= weight <= 1:
            raise OutsideFastEnvelopeError(f"signal weight {weight} is outside [0, 1]")
        equity = self.sizing_equity(symbol)
        if equity <= 0:
            raise OutsideFastEnvelopeError("the account has no equity left (risk's drawdown breaker decides)")
        try:
            target = fixed_fraction_qty(
                equity, self.spec.sizing_fraction * Decimal(str(weight or 1.0)), price, instrument
            )
        except SizingError as exc:
            raise OutsideFastEnvelopeError(f"cannot size the signal: {exc}") from None
        selling_long = side is Side.SELL and not self.spec.allow_short
        qty = order_for_signal(
            side,
            target,
            sellable if selling_long else projected,
            allow_short=self.spec.allow_short,
            cash=self.cash - self.reserved,
            price=price,
            instrument=instrument,
        )
        return side, qty

    def _have(self, symbol: str, side: Side) -> Decimal:
        if side is Side.BUY:
            return self.cash - self.reserved
        return self.positions.get(symbol, _ZERO) - self._pending(symbol, Side.SELL)

    def _pending(self, symbol: str, side: Side) -> Decimal:
        """What the symbol's working order still buys or sells (``WorkingOrders.pending``)."""
        working = self.working.get(symbol)
        return working.quantity if working is not None and working.side is side else _ZERO

    def _reject(
        self,
        ts_event: int,
        symbol: str,
        side: Side,
        qty: Decimal,
        *,
        price: Decimal,
        instrument: Instrument,
        funds: list[RiskCheck],
        after: float,
    ) -> bool:
        """Risk's own verdict on an order the book expects it to refuse (reason code and text)."""
        equity = self.equity()
        state = RiskState(
            positions=self._projected(),
            marks=dict(self.marks),
            equity=equity,
            equity_peak=max(equity, _ZERO),
            realized_pnl_today=_ZERO,
        )
        verdict = evaluate(OrderIntent(symbol, side, qty, price), state, UNLIMITED, 0, instrument)
        checks = list(verdict.checks) + funds
        reasons = [r.value for r in verdict.reasons] + [INSUFFICIENT_FUNDS for c in funds if not c.passed]
        if not reasons:
            raise OutsideFastEnvelopeError(f"risk approves an order the fast book would refuse ({symbol})")
        action = "BUY" if after > 0 else "SELL" if after < 0 else "EXIT"
        self.rejections.append(Rejection(ts_event, symbol, action, reasons[0], judgement_text(checks)))
        return False

    def _projected(self) -> dict[str, Decimal]:
        out = dict(self.positions)
        for symbol, w in self.working.items():
            out[symbol] = out.get(symbol, _ZERO) + w.quantity * w.side.sign
        return out

    def equity(self) -> Decimal:
        """``Portfolio.equity`` as risk's book computes it (the same sum, grouped the same way)."""
        return self.cash + sum((q * self.marks[s] for s, q in self.positions.items() if q), _ZERO)

    def sizing_equity(self, symbol: str) -> Decimal:
        """``RiskBook.sizing_equity``: ``symbol`` at its own mark, the others at their earlier ones."""
        held = (
            q * (self.marks[s] if s == symbol else self.marks_before.get(s, self.marks[s]))
            for s, q in self.positions.items()
            if q
        )
        return self.cash + sum(held, _ZERO)

    def fill(self, symbol: str, open_price: float, ts_open_ns: int) -> None:
        """The symbol's working MARKET IOC order on the bar after its decision: filled at the open."""
        w = self.working.pop(symbol)
        instrument = self.instruments[symbol]
        price = market_fill_price(_finite_decimal(open_price), w.side, instrument, self.paper)
        fill = Fill(
            fill_id=f"{w.client_order_id}:{ts_open_ns}",
            client_order_id=w.client_order_id,
            symbol=symbol,
            side=w.side,
            price=price,
            quantity=w.quantity,
            fee=fill_fee(price, w.quantity, self.fee_bps, instrument),
            ts_ns=ts_open_ns,
            liquidity=Liquidity.TAKER,
        )
        if w.side is Side.BUY:
            self.reserved -= w.quantity * w.price
        signed = fill.signed_quantity
        self.cash = self.cash - signed * price - fill.fee
        self.positions[symbol] = self.positions.get(symbol, _ZERO) + signed
        self.marks.setdefault(symbol, price)
        self.fills.append(fill)


def _plain_decimal(x: float) -> Decimal:
    """``Decimal(str(x))`` where the wire would carry ``str(x)`` as a plain decimal; risk refuses
    exponents, NaN and infinities as an invalid request, which only exact mode reports."""
    text = str(x)
    if not _PLAIN.issuperset(text):
        raise OutsideFastEnvelopeError(f"price {text} is not a plain decimal")
    return Decimal(text)


def _finite_decimal(x: float) -> Decimal:
    """A bar price as the paper broker and the marks read it (``Decimal(str(x))``)."""
    value = Decimal(str(x))
    if not value.is_finite():
        raise OutsideFastEnvelopeError(f"price {x} is not finite")
    return value
