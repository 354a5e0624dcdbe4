"""The demo's closing summary: what the loop did, read back from the store and the gateway's API."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import aiohttp
from rich.console import Console
from rich.table import Table

from kestrel_cli.demo_loop import DemoCounts
from kestrel_cli.settings import CliSettings
from kestrel_store.pool import create_pool

ACCOUNT = "paper"


async def _grouped(pool: Any, sql: str) -> str:
    rows = await pool.fetch(sql)
    return ", ".join(f"{row[0] or '-'} {row[1]}" for row in rows) or "none"


async def store_breakdown(database_url: str) -> dict[str, str]:
    pool = await create_pool(database_url, application_name="kestrel-demo", min_size=1, max_size=1)
    try:
        return {
            "bars by symbol": await _grouped(
                pool, "SELECT symbol, count(*) FROM market.bars GROUP BY 1 ORDER BY 1"
            ),
            "signals by action": await _grouped(
                pool, "SELECT action, count(*) FROM trading.signals GROUP BY 1 ORDER BY 1"
            ),
            "risk rejections by reason": await _grouped(
                pool,
                "SELECT reason, count(*) FROM trading.risk_decisions WHERE outcome = 'REJECTED' "
                "GROUP BY 1 ORDER BY 2 DESC",
            ),
            "orders by status": await _grouped(
                pool, "SELECT status, count(*) FROM trading.orders GROUP BY 1 ORDER BY 2 DESC"
            ),
            "fees paid": str(await pool.fetchval("SELECT coalesce(sum(fee), 0) FROM trading.fills")),
        }
    finally:
        await pool.close()


def max_drawdown(curve: list[Decimal]) -> Decimal:
    """Largest fall from a running peak, as a fraction of that peak (0 for a rising curve)."""
    peak, worst = Decimal(0), Decimal(0)
    for equity in curve:
        peak = max(peak, equity)
        if peak > 0:
            worst = max(worst, (peak - equity) / peak)
    return worst


async def portfolio(gateway_url: str, api_key: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession(headers={"X-API-Key": api_key}) as http,
        http.get(f"{gateway_url}/api/portfolio/{ACCOUNT}") as response,
    ):
        response.raise_for_status()
        body: dict[str, Any] = await response.json()
        return body


async def print_summary(
    console: Console,
    settings: CliSettings,
    database_url: str,
    counts: DemoCounts,
    gateway_url: str,
    *,
    model: Sequence[tuple[str, str]] = (),
    venue: Sequence[tuple[str, str]] = (),
) -> None:
    """``model``: rows on the served model (version, out-of-sample metrics, in or out of sample);
    ``venue``: rows on the broker when it is not the paper one (which, its URL, its refusals)."""
    from kestrel_gateway.adapters.key_store import create_key  # noqa: PLC0415
    from kestrel_gateway.keys import Role  # noqa: PLC0415

    pool = await create_pool(database_url, application_name="kestrel-demo", min_size=1, max_size=1)
    try:
        issued, _ = await create_key(pool, "demo-admin", Role.ADMIN)
    finally:
        await pool.close()
    api_key = issued.key
    breakdown = await store_breakdown(database_url)
    book = await portfolio(gateway_url, api_key)
    curve = [Decimal(str(point["equity"])) for point in book.get("equity_curve", [])]
    how = "trading on the local Binance-protocol exchange" if venue else "the paper-trading loop"
    table = Table(title=f"Kestrel demo: {how} on replayed market data", show_header=False)
    rows = [
        ("bars replayed", f"{counts.bars} ({breakdown['bars by symbol']})"),
        ("feature vectors", str(counts.vectors)),
        ("signals", f"{counts.signals} ({breakdown['signals by action']})"),
        ("risk decisions", str(counts.decisions)),
        ("rejections by reason", breakdown["risk rejections by reason"]),
        ("orders by status", breakdown["orders by status"]),
        ("fills", str(counts.fills)),
        ("fees paid", breakdown["fees paid"]),
        *((name, str(book.get(name, "-"))) for name in ("cash", "realized_pnl", "unrealized_pnl", "equity")),
        ("max drawdown", f"{max_drawdown(curve):.2%}"),
        *model,
        *venue,
        ("gateway", gateway_url),
        ("OpenAPI", f"{gateway_url}/docs"),
        ("Prometheus", settings.prometheus_url),
        ("MLflow", settings.mlflow_tracking_uri),
        ("admin API key (demo database)", api_key),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
