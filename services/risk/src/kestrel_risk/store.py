"""PostgreSQL side of risk: its account row, signals and decisions written, fills read back on start.

Fills are read from trading.fills (written by execution). Their ``trade_id`` is the fill's
``fill_id`` (the contract's idempotency key, "<client_order_id>:<n>"), so a fill read here and the
same fill arriving later on execution.reports are recognised as one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import asyncpg

from kestrel_contracts.decimals import from_wire_optional
from kestrel_contracts.events import datetime_to_ns, is_event_id, ns_to_datetime
from kestrel_contracts.v1.signal_pb2 import (
    SIGNAL_ACTION_BUY,
    SIGNAL_ACTION_EXIT,
    SIGNAL_ACTION_HOLD,
    SIGNAL_ACTION_SELL,
    SignalAction,
)
from kestrel_contracts.v1.signal_pb2 import Signal as SignalProto
from kestrel_riskengine.judgement import Judgement, order_event_id, origin_name
from kestrel_riskengine.working import WorkingOrder
from kestrel_store.fills import account_fills
from kestrel_trading.domain import Fill, Side

_INSERT_SIGNAL = """
INSERT INTO trading.signals (event_id, ts, symbol, venue, timeframe, strategy_id, model_name,
    model_version, action, confidence, probabilities, reference_price, volatility)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT DO NOTHING
"""

_INSERT_DECISION = """
INSERT INTO trading.risk_decisions (event_id, ts, client_order_id, signal_event_id, account,
    strategy_id, symbol, venue, side, outcome, reason, reason_text, quantity, reference_price, notional,
    origin, checks, order_event_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
ON CONFLICT DO NOTHING
"""

# Approved orders execution has not finished: no order row yet (still in the stream) or still open.
_WORKING = """
SELECT d.client_order_id, d.symbol, d.side, d.quantity, d.reference_price, d.ts, d.origin,
    coalesce(o.filled_quantity, 0) AS filled
FROM trading.risk_decisions d LEFT JOIN trading.orders o ON o.client_order_id = d.client_order_id
WHERE d.account = $1 AND d.outcome = 'APPROVED'
    AND (o.status IS NULL OR o.status IN ('NEW', 'PARTIALLY_FILLED'))
ORDER BY d.ts
"""


class RiskStore(Protocol):
    """What the handlers need from the store (PostgreSQL, or a fake in unit tests)."""

    async def save(self, signals: Sequence[SignalProto], judgements: Sequence[Judgement]) -> None: ...


@dataclass(frozen=True, slots=True)
class Account:
    account: str
    initial_cash: Decimal
    quote_asset: str


def signal_row(signal: SignalProto) -> tuple[object, ...]:
    """A storable signal (valid event id, time and a known action) as a trading.signals row."""
    return (
        signal.event_id,
        ns_to_datetime(signal.ts_event),
        signal.symbol,
        signal.venue,
        signal.timeframe,
        signal.strategy_id,
        signal.model_name,
        signal.model_version,
        SignalAction.Name(signal.action).removeprefix("SIGNAL_ACTION_"),
        signal.confidence,
        dict(signal.probabilities),
        from_wire_optional(signal.reference_price),
        signal.volatility,
    )


# What trading.signals' action CHECK admits (migration 0011 added EXIT).
_STORED_ACTIONS = frozenset((SIGNAL_ACTION_BUY, SIGNAL_ACTION_SELL, SIGNAL_ACTION_HOLD, SIGNAL_ACTION_EXIT))


def storable(signal: SignalProto) -> bool:
    """Whether a signal fits trading.signals (malformed ones are only in the decision and the audit)."""
    return (
        is_event_id(signal.event_id)
        and signal.ts_event > 0
        and signal.action in _STORED_ACTIONS
        and _decimal_or_empty(signal.reference_price)
    )


def _decimal_or_empty(text: str) -> bool:
    try:
        from_wire_optional(text)
    except ValueError:
        return False
    return True


def decision_row(j: Judgement) -> tuple[object, ...]:
    checks = [
        {"name": c.name, "passed": c.passed, "limit": c.limit, "observed": c.observed, "detail": c.detail}
        for c in j.checks
    ]
    return (
        j.decision_event_id,
        ns_to_datetime(j.ts_event),
        j.client_order_id,
        j.signal_event_id or None,
        j.account,
        j.strategy_id,
        j.symbol,
        j.venue,
        j.side.name if j.side is not None else None,
        "APPROVED" if j.approved else "REJECTED",
        j.reason,
        j.reason_text,
        j.quantity,
        j.reference_price,
        j.notional,
        origin_name(j.origin),
        checks,
        _order_id(j),
    )


def _order_id(j: Judgement) -> str | None:
    return order_event_id(j.client_order_id) if j.approved else None


class PostgresRiskStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def upsert_account(self, account: Account) -> None:
        await self._pool.execute(
            """
            INSERT INTO trading.accounts (account, initial_cash, quote_asset) VALUES ($1, $2, $3)
            ON CONFLICT (account) DO UPDATE SET initial_cash = EXCLUDED.initial_cash,
                quote_asset = EXCLUDED.quote_asset, updated_at = now()
            """,
            account.account,
            account.initial_cash,
            account.quote_asset,
        )

    async def save(self, signals: Sequence[SignalProto], judgements: Sequence[Judgement]) -> None:
        """Signals and decisions in ONE transaction: both are stored or neither is."""
        rows = [signal_row(s) for s in signals if storable(s)]
        decisions = [decision_row(j) for j in judgements]
        async with self._pool.acquire() as conn, conn.transaction():
            if rows:
                await conn.executemany(_INSERT_SIGNAL, rows)
            if decisions:
                await conn.executemany(_INSERT_DECISION, decisions)

    async def fills(self, account: str) -> list[Fill]:
        """Every fill of the account, in market-time order (what a restart rebuilds positions from)."""
        return await account_fills(self._pool, account)

    async def working_orders(self, account: str) -> list[WorkingOrder]:
        """The account's approved orders that have not reached a terminal state (rebuilt on start)."""
        return [
            WorkingOrder(
                client_order_id=r["client_order_id"],
                symbol=r["symbol"],
                side=Side.BUY if r["side"] == "BUY" else Side.SELL,
                quantity=r["quantity"],
                price=r["reference_price"],
                filled=r["filled"],
                # Stored to the microsecond, which still falls before the next bar's signal.
                decided_at_ns=datetime_to_ns(r["ts"]) if r["origin"] == "SIGNAL" else 0,
            )
            for r in await self._pool.fetch(_WORKING, account)
        ]
