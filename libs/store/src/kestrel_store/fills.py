"""An account's fills as `kestrel_trading` fills: what risk rebuilds its book from and the gateway
values a portfolio with (written by execution; `trade_id` is the fill id its reports carry)."""

from __future__ import annotations

from kestrel_contracts.events import datetime_to_ns
from kestrel_store.pool import Queryable
from kestrel_trading.commissions import position_fills
from kestrel_trading.domain import Fill, Liquidity, Side

_ACCOUNT_FILLS = """
SELECT f.trade_id, o.client_order_id, f.symbol, f.side, f.price,
    f.quantity, f.fee, f.fee_asset, f.ts, f.liquidity
FROM trading.fills f JOIN trading.orders o ON o.order_id = f.order_id
WHERE f.account = $1
ORDER BY f.ts, f.recorded_at, f.trade_id
"""


def fill_key(client_order_id: str, trade_id: str) -> str:
    """A fill's identity across orders. A venue's trade id is unique only within its order (the
    table's key is order + trade id; exchange trade ids repeat across symbols), so the order is part
    of it: the stored fill and the same fill arriving in an ExecutionReport get the same key."""
    return f"{client_order_id}/{trade_id}"


async def account_fills(db: Queryable, account: str) -> list[Fill]:
    """Every fill of `account`, in market-time order (then in the order they were recorded), as its
    position sees it: a commission taken from the base asset is a second, fee-only reduction
    (`kestrel_trading.commissions`), as in execution's positions and risk's book."""
    fills: list[Fill] = []
    for r in await db.fetch(_ACCOUNT_FILLS, account):
        fill = Fill(
            fill_id=fill_key(r["client_order_id"], r["trade_id"]),
            client_order_id=r["client_order_id"],
            symbol=r["symbol"],
            side=Side.BUY if r["side"] == "BUY" else Side.SELL,
            price=r["price"],
            quantity=r["quantity"],
            fee=r["fee"],
            ts_ns=datetime_to_ns(r["ts"]),
            liquidity=Liquidity.MAKER if r["liquidity"] == "MAKER" else Liquidity.TAKER,
        )
        fills += position_fills(fill, r["fee"], r["fee_asset"])
    return fills
