"""Positions and cash kept from fills: average cost, realized P&L, fees, marks and equity.

A position keeps its signed quantity and its signed cost basis (Σ qty x price of the open
quantity) rather than an average price, so the accounting stays exact: the average price is
derived, and reducing a position removes a pro-rata share of the basis (quantized to
``BASIS_QUANTUM`` so later sums stay exact in Decimal's 28 digits). Realized P&L excludes fees,
which are kept apart (as in the Position contract). The identity that always holds:

    cash + Σ quantity x mark == initial cash + realized + unrealized - fees
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from kestrel_trading.domain import Fill

BASIS_QUANTUM = Decimal("1e-12")
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Position:
    symbol: str
    quantity: Decimal = _ZERO
    cost_basis: Decimal = _ZERO
    realized_pnl: Decimal = _ZERO
    fees: Decimal = _ZERO
    last_fill_id: str = ""

    @property
    def average_price(self) -> Decimal | None:
        return self.cost_basis / self.quantity if self.quantity else None

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        return self.quantity * mark - self.cost_basis

    def apply(self, fill: Fill) -> Position:
        delta = fill.signed_quantity
        qty, basis, realized = self.quantity, self.cost_basis, self.realized_pnl
        if qty != 0 and (qty > 0) != (delta > 0):
            # Reducing (and maybe flipping): close min(|delta|, |qty|) against the existing basis.
            closing = min(abs(delta), abs(qty))
            removed = basis if closing == abs(qty) else (basis * closing / abs(qty)).quantize(BASIS_QUANTUM)
            closed_signed = closing if delta > 0 else -closing
            realized += -closed_signed * fill.price - removed
            qty, basis, delta = qty + closed_signed, basis - removed, delta - closed_signed
        qty, basis = qty + delta, basis + delta * fill.price
        return replace(
            self,
            quantity=qty,
            cost_basis=basis,
            realized_pnl=realized,
            fees=self.fees + fill.fee,
            last_fill_id=fill.fill_id,
        )


@dataclass(frozen=True, slots=True)
class Portfolio:
    cash: Decimal
    positions: Mapping[str, Position] = field(default_factory=dict)
    fill_ids: frozenset[str] = frozenset()

    def apply_fill(self, fill: Fill) -> Portfolio:
        """Applies a fill once: a fill_id already seen returns the portfolio unchanged."""
        if fill.fill_id in self.fill_ids:
            return self
        position = self.positions.get(fill.symbol, Position(fill.symbol)).apply(fill)
        return Portfolio(
            cash=self.cash - fill.signed_quantity * fill.price - fill.fee,
            positions={**self.positions, fill.symbol: position},
            fill_ids=self.fill_ids | {fill.fill_id},
        )

    def _mark(self, symbol: str, marks: Mapping[str, Decimal]) -> Decimal:
        if symbol not in marks:
            raise ValueError(f"no mark price for {symbol}")
        return marks[symbol]

    def unrealized_pnl(self, marks: Mapping[str, Decimal]) -> Decimal:
        return sum(
            (p.unrealized_pnl(self._mark(s, marks)) for s, p in self.positions.items() if p.quantity),
            _ZERO,
        )

    @property
    def realized_pnl(self) -> Decimal:
        return sum((p.realized_pnl for p in self.positions.values()), _ZERO)

    @property
    def fees(self) -> Decimal:
        return sum((p.fees for p in self.positions.values()), _ZERO)

    def equity(self, marks: Mapping[str, Decimal]) -> Decimal:
        """Cash plus every open position valued at its mark."""
        return self.cash + sum(
            (p.quantity * self._mark(s, marks) for s, p in self.positions.items() if p.quantity), _ZERO
        )

    def gross_exposure(self, marks: Mapping[str, Decimal]) -> Decimal:
        return sum(
            (abs(p.quantity) * self._mark(s, marks) for s, p in self.positions.items() if p.quantity),
            _ZERO,
        )
