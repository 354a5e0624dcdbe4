"""What the production controller lets through, as plain values the engine judges an order by.

The risk service reads the controller's board (kestrel_platform.control) and hands the engine one
`Gate` per order: whether risk may trade at the order's market time (and if not, why), and the
instrument's restriction. Pure: the engine stays free of Redis and of the controller's rules.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from kestrel_trading.domain import Side
from kestrel_trading.risk import RiskCheck

PAUSED = "RISK_REASON_TRADING_PAUSED"
HALTED = "RISK_REASON_TRADING_HALTED"
RESTRICTED = "RISK_REASON_INSTRUMENT_RESTRICTED"


class Restriction(enum.StrEnum):
    """The values are kestrel_platform.control.Mode's."""

    NONE = "normal"
    REDUCE_ONLY = "reduce_only"
    CLOSE_ONLY = "close_only"


@dataclass(frozen=True, slots=True)
class Gate:
    blocked: str | None = None  # PAUSED or HALTED: no order passes (flatten excepted)
    text: str = ""  # why, as the controller says it
    restriction: Restriction = Restriction.NONE

    def unblocked(self) -> Gate:
        """A flatten reduces risk: it passes a paused or halted account, never the restriction."""
        return Gate(None, "", self.restriction)


OPEN = Gate()


def restricted(
    restriction: Restriction, side: Side, qty: Decimal, position: Decimal
) -> tuple[Decimal, RiskCheck]:
    """The quantity a restricted instrument allows (clipped to the position) and the check saying so.

    REDUCE_ONLY lets an order shrink the position, never grow or flip it: an oversized order is
    clipped to the position. CLOSE_ONLY lets only an order that takes the position to flat: a partial
    reduction is refused, an oversized one clipped to exactly flat.
    """
    reducing = position != 0 and (position > 0) == (side is Side.SELL)
    held = abs(position)
    if not reducing:
        what = "flat" if position == 0 else f"holding {position}"
        return Decimal(0), RiskCheck(
            restriction.value,
            False,
            "",
            str(qty),
            f"{restriction.value}: {what}, a {side.name} would not reduce it",
        )
    if restriction is Restriction.CLOSE_ONLY and qty < held:
        return Decimal(0), RiskCheck(
            restriction.value, False, str(held), str(qty), f"close_only: {qty} would not close {position}"
        )
    allowed = min(qty, held)
    return allowed, RiskCheck(
        restriction.value,
        True,
        str(held),
        str(allowed),
        f"{restriction.value}: {side.name} {allowed} of {position}",
    )
