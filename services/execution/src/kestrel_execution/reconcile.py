"""Reconciliation, the pure part: Kestrel's open orders and holdings against the venue's.

A break is either explained — the venue knows something Kestrel missed (a fill or a final state
whose event never arrived) and Kestrel adopts it by resolving the order — or unexplained: an open
venue order Kestrel never placed or already closed, or a holding that Kestrel's own fills cannot
account for. An unexplained break halts trading (see `kestrel_execution.reconciler`).

Holdings are compared per base asset as deltas: at the first reconciliation the venue balance not
explained by Kestrel's fills is taken as the account's starting balance (its baseline); from then
on venue balance = baseline + Kestrel's net fills - commissions charged in that asset, exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from kestrel_execution.progress import StoredOrder


@dataclass(frozen=True, slots=True)
class VenueOrder:
    client_order_id: str
    symbol: str  # the venue's symbol
    executed_quantity: Decimal


@dataclass(frozen=True, slots=True)
class VenueSnapshot:
    """What the venue says now: its open orders and the balance (free + locked) of each asset."""

    open_orders: Sequence[VenueOrder]
    balances: Mapping[str, Decimal]
    base_assets: Mapping[str, str] = field(default_factory=dict)  # Kestrel symbol -> its base asset


@dataclass(frozen=True, slots=True)
class Holding:
    """Kestrel's own account of one base asset: net filled quantity and commissions paid in it."""

    net_filled: Decimal
    commission: Decimal

    @property
    def delta(self) -> Decimal:
        return self.net_filled - self.commission


@dataclass(frozen=True, slots=True)
class Break:
    kind: str  # order_missing_at_venue, fills_behind, unknown_venue_order, closed_but_open, holding
    subject: str  # a client order id or an asset
    text: str
    explained: bool


@dataclass(frozen=True, slots=True)
class Findings:
    breaks: list[Break]
    to_resolve: list[str]  # client order ids whose venue state Kestrel adopts

    @property
    def unexplained(self) -> list[Break]:
        return [b for b in self.breaks if not b.explained]


def compare_orders(ours_open: Sequence[StoredOrder], venue: VenueSnapshot, ours_closed: set[str]) -> Findings:
    """`ours_open`: Kestrel's open orders at this venue; `ours_closed`: the venue's open client ids
    that Kestrel has stored as final."""
    by_id = {o.client_order_id: o for o in venue.open_orders}
    breaks: list[Break] = []
    resolve: list[str] = []
    for stored in ours_open:
        coid = stored.meta.client_order_id
        found = by_id.pop(coid, None)
        filled = stored.working.order.filled_quantity
        if found is None:
            breaks.append(
                Break("order_missing_at_venue", coid, f"{coid} is open in Kestrel, not at the venue", True)
            )
            resolve.append(coid)
        elif found.executed_quantity != filled:
            text = f"{coid}: venue executed {found.executed_quantity}, Kestrel has {filled}"
            breaks.append(Break("fills_behind", coid, text, found.executed_quantity > filled))
            resolve.append(coid)
    for coid, order in by_id.items():
        if coid in ours_closed:
            text = f"{coid} is final in Kestrel but still open at the venue ({order.symbol})"
            breaks.append(Break("closed_but_open", coid, text, False))
        else:
            text = f"open venue order {coid} on {order.symbol} was not placed by Kestrel"
            breaks.append(Break("unknown_venue_order", coid, text, False))
    return Findings(breaks, resolve)


def compare_holdings(
    venue: VenueSnapshot, ours: Mapping[str, Holding], baselines: Mapping[str, Decimal]
) -> tuple[list[Break], dict[str, Decimal]]:
    """Holding breaks per base asset, and the baselines to record for assets seen the first time."""
    breaks: list[Break] = []
    new_baselines: dict[str, Decimal] = {}
    for asset, holding in sorted(ours.items()):
        balance = venue.balances.get(asset, Decimal(0))
        if asset not in baselines:
            new_baselines[asset] = balance - holding.delta
            continue
        expected = baselines[asset] + holding.delta
        if balance != expected:
            base = baselines[asset]
            text = f"{asset}: venue holds {balance}, Kestrel's fills say {expected} (baseline {base})"
            breaks.append(Break("holding", asset, text, False))
    return breaks, new_baselines
