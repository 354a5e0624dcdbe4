"""Pre-trade risk checks: pure functions of an order intent, an explicit state and the limits.

``evaluate`` runs EVERY check (so an operator sees all that is wrong, not just the first) in the
order of the RiskReason proto enum; ``RiskDecision.reason`` is the first failure, which is what
the proto's single ``reason`` field carries, and ``checks`` maps 1:1 onto its repeated RiskCheck.

Reducing orders: max position, gross exposure, daily loss and drawdown only block orders that
INCREASE the symbol's absolute position, so a tripped breaker never traps the book in a position.
The kill switch, order rate, order notional and filter checks block every order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from kestrel_trading.domain import Side, require_finite
from kestrel_trading.instruments import Instrument

_MINUTE_NS = 60_000_000_000


class RiskReason(StrEnum):
    """Values are the RiskReason proto enum names; declaration order is evaluation order."""

    KILL_SWITCH = "RISK_REASON_KILL_SWITCH"
    MAX_POSITION = "RISK_REASON_MAX_POSITION"
    MAX_GROSS_EXPOSURE = "RISK_REASON_MAX_GROSS_EXPOSURE"
    MAX_ORDER_NOTIONAL = "RISK_REASON_MAX_ORDER_NOTIONAL"
    ORDER_RATE_LIMIT = "RISK_REASON_ORDER_RATE_LIMIT"
    DAILY_LOSS_LIMIT = "RISK_REASON_DAILY_LOSS_LIMIT"
    DRAWDOWN_CIRCUIT_BREAKER = "RISK_REASON_DRAWDOWN_CIRCUIT_BREAKER"
    EXCHANGE_FILTER = "RISK_REASON_EXCHANGE_FILTER"
    ZERO_QUANTITY = "RISK_REASON_ZERO_QUANTITY"


@dataclass(frozen=True, slots=True)
class OrderIntent:
    symbol: str
    side: Side
    quantity: Decimal
    # Price used for notional and exposure: the signal's bar close, or the limit price.
    reference_price: Decimal

    def __post_init__(self) -> None:
        # Malformed intents are the caller's bug (RISK_REASON_INVALID_REQUEST), not a risk verdict;
        # a zero quantity is a legitimate sizing outcome and is judged by the zero_quantity check.
        require_finite("quantity", self.quantity)
        require_finite("reference_price", self.reference_price)
        if self.quantity < 0:
            raise ValueError(f"order intent quantity must be >= 0, got {self.quantity}")
        if self.reference_price <= 0:
            raise ValueError(f"order intent reference_price must be > 0, got {self.reference_price}")


@dataclass(frozen=True, slots=True)
class RiskState:
    """What risk knows when it decides. Positions are signed base quantities; marks price them."""

    positions: Mapping[str, Decimal]
    marks: Mapping[str, Decimal]
    equity: Decimal
    equity_peak: Decimal
    realized_pnl_today: Decimal
    unrealized_pnl: Decimal = Decimal(0)
    recent_order_ts_ns: Sequence[int] = ()
    kill_switch: bool = False
    # Orders in the minute up to the decision, when the caller counted them (a book keeps its times
    # sorted and counts by bisection); None: counted here from recent_order_ts_ns.
    recent_orders: int | None = None

    def gross_exposure(self, overrides: Mapping[str, Decimal] | None = None) -> Decimal:
        """Σ |position| x mark over symbols; ``overrides`` replaces marks (e.g. the order's price)."""
        return _gross_exposure(self.positions, {**self.marks, **(overrides or {})})


def _gross_exposure(positions: Mapping[str, Decimal], prices: Mapping[str, Decimal]) -> Decimal:
    total = Decimal(0)
    for symbol, qty in positions.items():
        if qty == 0:
            continue
        if symbol not in prices:
            raise ValueError(f"no mark price for held symbol {symbol}: cannot value gross exposure")
        total += abs(qty) * prices[symbol]
    return total


@dataclass(frozen=True, slots=True)
class RiskLimits:
    max_position_notional: Decimal  # per symbol, |position| x price, quote currency
    max_gross_exposure: Decimal
    max_order_notional: Decimal
    max_orders_per_minute: int
    daily_loss_limit: Decimal  # a positive amount of quote currency
    max_drawdown: Decimal  # fraction of the equity peak, e.g. 0.2
    # Per-symbol overrides of max_position_notional.
    position_limits: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RiskCheck:
    name: str
    passed: bool
    limit: str
    observed: str
    detail: str


@dataclass(frozen=True, slots=True)
class RiskDecision:
    approved: bool
    reasons: tuple[RiskReason, ...]
    checks: tuple[RiskCheck, ...]
    message: str

    @property
    def reason(self) -> RiskReason | None:
        return self.reasons[0] if self.reasons else None


def _check(name: str, passed: bool, limit: object, observed: object, detail: str) -> RiskCheck:
    return RiskCheck(name, passed, str(limit), str(observed), detail)


def evaluate(
    intent: OrderIntent,
    state: RiskState,
    limits: RiskLimits,
    now_ns: int,
    instrument: Instrument | None = None,
) -> RiskDecision:
    price, qty = intent.reference_price, intent.quantity
    current = state.positions.get(intent.symbol, Decimal(0))
    after = current + qty * intent.side.sign
    increases = abs(after) > abs(current)
    results: list[tuple[RiskReason, RiskCheck]] = []

    def add(reason: RiskReason, check: RiskCheck) -> None:
        results.append((reason, check))

    add(
        RiskReason.KILL_SWITCH,
        _check(
            "kill_switch",
            not state.kill_switch,
            "",
            state.kill_switch,
            "kill switch engaged" if state.kill_switch else "kill switch off",
        ),
    )

    pos_limit = limits.position_limits.get(intent.symbol, limits.max_position_notional)
    pos_notional = abs(after) * price
    ok = pos_notional <= pos_limit or not increases
    add(
        RiskReason.MAX_POSITION,
        _check(
            "max_position",
            ok,
            pos_limit,
            pos_notional,
            f"{intent.symbol} position {after} x {price} = {pos_notional}",
        ),
    )

    positions_after = {**state.positions, intent.symbol: after}
    gross = _gross_exposure(positions_after, {**state.marks, intent.symbol: price})
    ok = gross <= limits.max_gross_exposure or not increases
    add(
        RiskReason.MAX_GROSS_EXPOSURE,
        _check(
            "max_gross_exposure",
            ok,
            limits.max_gross_exposure,
            gross,
            f"gross exposure after the order {gross}",
        ),
    )

    notional = qty * price
    add(
        RiskReason.MAX_ORDER_NOTIONAL,
        _check(
            "max_order_notional",
            notional <= limits.max_order_notional,
            limits.max_order_notional,
            notional,
            f"order notional {notional}",
        ),
    )

    recent = state.recent_orders
    if recent is None:
        recent = sum(1 for ts in state.recent_order_ts_ns if now_ns - _MINUTE_NS < ts <= now_ns)
    add(
        RiskReason.ORDER_RATE_LIMIT,
        _check(
            "order_rate_limit",
            recent < limits.max_orders_per_minute,
            limits.max_orders_per_minute,
            recent,
            f"{recent} orders in the last minute",
        ),
    )

    loss = -(state.realized_pnl_today + state.unrealized_pnl)
    ok = loss < limits.daily_loss_limit or not increases
    add(
        RiskReason.DAILY_LOSS_LIMIT,
        _check("daily_loss_limit", ok, limits.daily_loss_limit, loss, f"loss today {loss}"),
    )

    drawdown = (state.equity_peak - state.equity) / state.equity_peak if state.equity_peak > 0 else Decimal(0)
    ok = drawdown < limits.max_drawdown or not increases
    add(
        RiskReason.DRAWDOWN_CIRCUIT_BREAKER,
        _check(
            "drawdown_circuit_breaker",
            ok,
            limits.max_drawdown,
            drawdown,
            f"drawdown from peak {state.equity_peak}",
        ),
    )

    if instrument is not None and qty > 0:
        violations = instrument.check(price, qty)
        detail = "; ".join(v.message for v in violations) or "filters pass"
        add(
            RiskReason.EXCHANGE_FILTER,
            _check("exchange_filter", not violations, "", ",".join(v.code for v in violations), detail),
        )

    add(RiskReason.ZERO_QUANTITY, _check("zero_quantity", qty > 0, 0, qty, f"quantity {qty}"))

    failed = [(r, c) for r, c in results if not c.passed]
    message = (
        "approved" if not failed else "rejected: " + "; ".join(f"{r.name} ({c.detail})" for r, c in failed)
    )
    return RiskDecision(
        approved=not failed,
        reasons=tuple(r for r, _ in failed),
        checks=tuple(c for _, c in results),
        message=message,
    )
