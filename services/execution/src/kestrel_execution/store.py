"""trading.orders / fills / positions and the report outbox (SQL; every amount NUMERIC <-> Decimal).

Callers pass a connection inside their transaction: the order change, its fills, the positions they
move and the outbox row of the report are one atomic write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import asyncpg

from kestrel_contracts.events import datetime_to_ns, derived_event_id, is_event_id, ns_to_datetime
from kestrel_contracts.v1.execution_report_pb2 import ExecutionReport
from kestrel_contracts.v1.order_request_pb2 import OrderRequest
from kestrel_execution.progress import OrderChange, StoredOrder
from kestrel_execution.reports import OrderMeta
from kestrel_execution.venue import Traded, VenueState
from kestrel_store.timeseries import timeframe_to_interval
from kestrel_trading.domain import Bar, Fill, Side
from kestrel_trading.orders import Order, OrderStatus, OrderType, TimeInForce
from kestrel_trading.paper import WorkingOrder
from kestrel_trading.portfolio import Position


def request_event_uuid(request: OrderRequest) -> str:
    """The request's event_id, or one derived from the client_order_id when it is not a UUID."""
    if is_event_id(request.event_id):
        return request.event_id
    return derived_event_id("order-request", request.client_order_id)


def uuid_or_none(text: str) -> str | None:
    return text if is_event_id(text) else None


async def existing(conn: asyncpg.Connection | asyncpg.Pool, client_order_ids: Sequence[str]) -> set[str]:
    """Which of the ids are stored already."""
    rows = await conn.fetch(
        "SELECT client_order_id FROM trading.orders WHERE client_order_id = ANY($1::text[]) UNION ALL"
        " SELECT client_order_id FROM trading.parent_orders WHERE client_order_id = ANY($1::text[])",
        list(client_order_ids),
    )
    return {row["client_order_id"] for row in rows}


_ORDERS = """
SELECT o.order_id, o.client_order_id, o.account, o.strategy_id, o.symbol, o.venue, o.timeframe,
       o.broker, o.side, o.order_type, o.time_in_force, o.quantity, o.limit_price, o.status,
       o.filled_quantity, o.filled_notional, o.fees, o.reason_code, o.expire_at_ns, o.submitted_at_ns,
       o.bars_seen, o.last_bar_open_ns, o.report_sequence, o.request_event_id, o.signal_event_id,
       o.venue_order_id, o.venue_state, o.parent_client_order_id
FROM trading.orders o
WHERE ($1::text IS NULL OR (o.symbol = $1 AND o.timeframe = $2))
    AND ($3::text[] IS NULL OR o.client_order_id = ANY($3::text[]))
    AND ($4::text IS NULL OR o.broker = $4)
    -- One order by id: also a final one, except a rejection (no venue event can concern it).
    AND (o.status IN ('NEW', 'PARTIALLY_FILLED') OR ($3::text[] IS NOT NULL AND o.status <> 'REJECTED'))
"""
_WORKING = _ORDERS + "ORDER BY o.created_at, o.client_order_id FOR UPDATE OF o"
_UNRESOLVED = (
    _ORDERS
    # Not before a request still in flight is surely dead (the venue drops it after recvWindow).
    + " AND o.venue_state <> 'ACKED' AND o.updated_at <= now() - make_interval(secs => $5)"
    + " ORDER BY o.created_at, o.client_order_id LIMIT 500"
)


def order_from_row(row: asyncpg.Record, fill_ids: frozenset[str] = frozenset()) -> Order:
    """An order's trading state from its row (trading.orders or trading.parent_orders)."""
    return Order(
        client_order_id=row["client_order_id"],
        symbol=row["symbol"],
        side=Side[row["side"]],
        order_type=OrderType[row["order_type"]],
        quantity=row["quantity"],
        limit_price=row["limit_price"],
        time_in_force=TimeInForce[row["time_in_force"]],
        expire_at_ns=row["expire_at_ns"],
        status=OrderStatus[row["status"]],
        filled_quantity=row["filled_quantity"],
        filled_notional=row["filled_notional"],
        fees=row["fees"],
        fill_ids=fill_ids,
        reason=row["reason_code"],
    )


def _stored(row: asyncpg.Record, fee_asset: str, fill_ids: frozenset[str] = frozenset()) -> StoredOrder:
    order = order_from_row(row, fill_ids)
    meta = OrderMeta(
        client_order_id=row["client_order_id"],
        account=row["account"],
        strategy_id=row["strategy_id"],
        symbol=row["symbol"],
        venue=row["venue"],
        timeframe=row["timeframe"],
        broker=row["broker"],
        request_event_id=str(row["request_event_id"]),
        signal_event_id=str(row["signal_event_id"] or ""),
        fee_asset=fee_asset,
        venue_order_id=row["venue_order_id"] or "",
        parent_client_order_id=row["parent_client_order_id"] or "",
    )
    working = WorkingOrder(order, row["submitted_at_ns"], row["bars_seen"], row["last_bar_open_ns"])
    state = VenueState(row["venue_state"])
    return StoredOrder(row["order_id"], meta, working, row["report_sequence"], state)


async def lock_working(
    conn: asyncpg.Connection,
    symbol: str | None,
    timeframe: str,
    fee_asset: Callable[[str], str],
    *,
    client_order_ids: Sequence[str] | None = None,
    broker: str | None = None,
) -> list[StoredOrder]:
    """The open orders of (symbol, timeframe) — of every symbol when None; of one `broker` when
    given — oldest first, locked until the transaction ends. With `client_order_ids`: those
    accepted orders alone, whatever their status (a late trade must still find a canceled order)."""
    ids = list(client_order_ids) if client_order_ids is not None else None
    rows = await conn.fetch(_WORKING, symbol, timeframe, ids, broker)
    # Read after the lock is held: a fill committed by whoever held it before is seen, so the state
    # machine drops that fill when the venue repeats it (fill ids are its idempotency keys).
    fills = await conn.fetch(
        "SELECT order_id, trade_id FROM trading.fills WHERE order_id = ANY($1::uuid[])",
        [row["order_id"] for row in rows],
    )
    known: dict[Any, set[str]] = {}
    for fill in fills:
        known.setdefault(fill["order_id"], set()).add(fill["trade_id"])
    return [_stored(row, fee_asset(row["symbol"]), frozenset(known.get(row["order_id"], ()))) for row in rows]


async def open_orders(
    conn: asyncpg.Connection | asyncpg.Pool, broker: str, fee_asset: Callable[[str], str]
) -> list[StoredOrder]:
    """Every open order of `broker`, oldest first, unlocked (a snapshot to act on order by order)."""
    rows = await conn.fetch(_ORDERS + "ORDER BY o.created_at, o.client_order_id", None, "", None, broker)
    return [_stored(row, fee_asset(row["symbol"])) for row in rows]


async def stored_order(
    conn: asyncpg.Connection | asyncpg.Pool, client_order_id: str, fee_asset: Callable[[str], str]
) -> StoredOrder | None:
    """One accepted order (open or final), unlocked."""
    rows = await conn.fetch(_ORDERS, None, "", [client_order_id], None)
    return _stored(rows[0], fee_asset(rows[0]["symbol"])) if rows else None


async def unresolved(
    conn: asyncpg.Connection | asyncpg.Pool,
    broker: str,
    pending_for_s: float,
    fee_asset: Callable[[str], str],
) -> list[StoredOrder]:
    """Open orders of `broker` not answered by the venue (PENDING or UNKNOWN), untouched for
    `pending_for_s` (so no request about them can still be on its way to the venue)."""
    rows = await conn.fetch(_UNRESOLVED, None, "", None, broker, pending_for_s)
    return [_stored(row, fee_asset(row["symbol"])) for row in rows]


async def set_venue_state(conn: asyncpg.Connection | asyncpg.Pool, client_order_id: str, state: str) -> None:
    """Mark an order the venue has not answered; never undoes an answer (the user stream may have
    delivered the ack while the submit that timed out was still waiting)."""
    await conn.execute(
        "UPDATE trading.orders SET venue_state = $2, updated_at = now() "
        "WHERE client_order_id = $1 AND venue_state <> 'ACKED'",
        client_order_id,
        state,
    )


def _market_key(symbol: str, timeframe: str) -> str:
    return f"bars:{symbol}:{timeframe}"


async def lock_market(conn: asyncpg.Connection, symbol: str, timeframe: str) -> None:
    """Serialize the bar consumer and order intake of one (symbol, timeframe) until the transaction
    ends (see `kestrel_execution.repository`: each bar reaches each order once)."""
    await lock_markets(conn, [(symbol, timeframe)])


async def lock_markets(conn: asyncpg.Connection, markets: Sequence[tuple[str, str]]) -> None:
    """`lock_market` for several at once, in one statement, always in the same (sorted) order so
    that two transactions locking overlapping sets never deadlock."""
    keys = sorted({_market_key(symbol, timeframe) for symbol, timeframe in markets})
    if keys:
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
            "FROM unnest($1::text[]) WITH ORDINALITY AS u(k, n) ORDER BY n",
            keys,
        )


_BARS_SINCE = """
SELECT m.n, b.ts, b.ts + m.width::interval AS ts_close, b.open, b.high, b.low, b.close, b.volume
FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) WITH ORDINALITY
    AS m(symbol, timeframe, width, since, n)
CROSS JOIN LATERAL (
    SELECT ts, open, high, low, close, volume FROM market.bars
    WHERE symbol = m.symbol AND timeframe = m.timeframe AND ts >= m.since ORDER BY ts LIMIT $5
) AS b
ORDER BY m.n, b.ts
"""


async def bars_since(
    conn: asyncpg.Connection, since_ns: Mapping[tuple[str, str], int], limit: int
) -> dict[tuple[str, str], list[Bar]]:
    """Per (symbol, timeframe), the stored (closed) bars opening at or after its instant, oldest
    first, as the fill model takes them (at most `limit` each); one query for all markets."""
    markets = list(since_ns)
    rows = await conn.fetch(
        _BARS_SINCE,
        [symbol for symbol, _ in markets],
        [timeframe for _, timeframe in markets],
        [timeframe_to_interval(timeframe) for _, timeframe in markets],
        [ns_to_datetime(since_ns[market]) for market in markets],
        limit,
    )
    found: dict[tuple[str, str], list[Bar]] = {market: [] for market in markets}
    for r in rows:
        found[markets[r["n"] - 1]].append(
            Bar(
                ts_open_ns=datetime_to_ns(r["ts"]),
                ts_close_ns=datetime_to_ns(r["ts_close"]),
                open=r["open"],
                high=r["high"],
                low=r["low"],
                close=r["close"],
                volume=r["volume"],
            )
        )
    return found


async def save_orders(conn: asyncpg.Connection, changes: Sequence[OrderChange]) -> None:
    """Write each changed order's latest state: one set-based UPDATE for all of them."""
    latest = {change.stored.order_id: change for change in changes}  # a later change wins
    if not latest:
        return
    columns = [list(column) for column in zip(*(_saved(c) for c in latest.values()), strict=True)]
    await conn.execute(
        """
        UPDATE trading.orders o SET status = u.status, filled_quantity = u.filled_quantity,
            average_fill_price = u.average_fill_price, filled_notional = u.filled_notional,
            fees = u.fees, reason_code = u.reason_code, reject_reason = nullif(u.reject_reason, ''),
            bars_seen = u.bars_seen, last_bar_open_ns = u.last_bar_open_ns,
            report_sequence = u.report_sequence, venue_state = u.venue_state,
            venue_order_id = nullif(u.venue_order_id, ''), updated_at = now()
        FROM unnest($1::uuid[], $2::text[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[],
                    $7::text[], $8::text[], $9::int[], $10::bigint[], $11::int[], $12::text[], $13::text[])
            AS u(order_id, status, filled_quantity, average_fill_price, filled_notional, fees,
                 reason_code, reject_reason, bars_seen, last_bar_open_ns, report_sequence, venue_state,
                 venue_order_id)
        WHERE o.order_id = u.order_id
        """,
        *columns,
    )


def _saved(change: OrderChange) -> tuple[Any, ...]:
    working = change.working
    order = working.order
    return (
        change.stored.order_id, order.status.name, order.filled_quantity, order.average_price,
        order.filled_notional, order.fees, order.reason, change.reason_text, working.bars_seen,
        working.last_bar_open_ns, change.sequence, change.venue_state.value, change.meta.venue_order_id,
    )  # fmt: skip


async def insert_fill(
    conn: asyncpg.Connection, stored: StoredOrder, traded: Traded, report_event_id: str
) -> bool:
    """Store a fill once (the key includes its deterministic time); False when already stored.
    The fee is what the venue charged, in the asset it charged it in."""
    fill = traded.fill
    row = await conn.fetchval(
        """
        INSERT INTO trading.fills (order_id, trade_id, ts, account, symbol, side, quantity, price, fee,
            fee_asset, liquidity, report_event_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT DO NOTHING
        RETURNING trade_id
        """,
        stored.order_id, fill.fill_id, ns_to_datetime(fill.ts_ns), stored.meta.account, fill.symbol,
        fill.side.name, fill.quantity, fill.price, traded.commission, traded.commission_asset,
        fill.liquidity.name, report_event_id,
    )  # fmt: skip
    return row is not None


async def apply_fill_to_position(conn: asyncpg.Connection, account: str, fill: Fill) -> Position:
    """Move the (account, symbol) position by the fill with kestrel_trading.portfolio's accounting."""
    row = await conn.fetchrow(
        "SELECT quantity, cost_basis, realized_pnl, fees_paid FROM trading.positions "
        "WHERE account = $1 AND symbol = $2 FOR UPDATE",
        account,
        fill.symbol,
    )
    before = (
        Position(fill.symbol, row["quantity"], row["cost_basis"], row["realized_pnl"], row["fees_paid"])
        if row is not None
        else Position(fill.symbol)
    )
    after = before.apply(fill)
    await conn.execute(
        """
        INSERT INTO trading.positions (account, symbol, quantity, cost_basis, average_entry_price,
            realized_pnl, fees_paid, last_fill_ts, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
        ON CONFLICT (account, symbol) DO UPDATE SET quantity = EXCLUDED.quantity,
            cost_basis = EXCLUDED.cost_basis, average_entry_price = EXCLUDED.average_entry_price,
            realized_pnl = EXCLUDED.realized_pnl, fees_paid = EXCLUDED.fees_paid,
            last_fill_ts = EXCLUDED.last_fill_ts, updated_at = now()
        """,
        account, fill.symbol, after.quantity, after.cost_basis, _entry_price(after), after.realized_pnl,
        after.fees, ns_to_datetime(fill.ts_ns),
    )  # fmt: skip
    return after


def _entry_price(position: Position) -> Decimal | None:
    average = position.average_price
    return abs(average) if average is not None else None


async def add_to_outbox(conn: asyncpg.Connection, reports: Sequence[ExecutionReport]) -> None:
    if not reports:
        return
    await conn.executemany(
        "INSERT INTO trading.execution_report_outbox (client_order_id, sequence, symbol, payload) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        [(r.client_order_id, r.sequence, r.symbol, r.SerializeToString()) for r in reports],
    )


async def unpublished(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    client_order_id: str | None = None,
    older_than_s: float = 0.0,
    limit: int = 500,
) -> list[ExecutionReport]:
    """Reports committed but not yet marked published, in commit order (per order: by sequence)."""
    rows = await conn.fetch(
        """
        SELECT payload FROM trading.execution_report_outbox
        WHERE published_at IS NULL AND ($1::text IS NULL OR client_order_id = $1)
          AND created_at <= now() - make_interval(secs => $2)
        ORDER BY created_at, client_order_id, sequence
        LIMIT $3
        """,
        client_order_id,
        older_than_s,
        limit,
    )
    reports = []
    for row in rows:
        report = ExecutionReport()
        report.ParseFromString(row["payload"])
        reports.append(report)
    return reports


async def mark_published(conn: asyncpg.Connection | asyncpg.Pool, reports: Sequence[ExecutionReport]) -> None:
    if not reports:
        return
    await conn.execute(
        """
        UPDATE trading.execution_report_outbox o SET published_at = now()
        FROM unnest($1::text[], $2::int[]) AS k(client_order_id, sequence)
        WHERE o.client_order_id = k.client_order_id AND o.sequence = k.sequence
        """,
        [r.client_order_id for r in reports],
        [r.sequence for r in reports],
    )
