"""An account's portfolio: positions, cash, realized and unrealized P&L, fees, equity curve (viewer)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from kestrel_gateway.adapters.portfolio_store import load_inputs
from kestrel_gateway.auth import runtime_of
from kestrel_gateway.errors import ApiError
from kestrel_gateway.portfolio_view import PortfolioView, build_portfolio
from kestrel_gateway.routes.common import Viewer
from kestrel_gateway.serialize import jsonable, ns_iso

router = APIRouter(prefix="/api", tags=["portfolio"])


def _body(account: str, quote_asset: str, view: PortfolioView) -> dict[str, Any]:
    portfolio = view.portfolio
    body: dict[str, Any] = jsonable(
        {
            "account": account,
            "quote_asset": quote_asset,
            "initial_cash": view.initial_cash,
            "cash": portfolio.cash,
            "equity": view.equity,
            "realized_pnl": portfolio.realized_pnl,
            "unrealized_pnl": view.unrealized_pnl,
            "fees": portfolio.fees,
            "fills": len(portfolio.fill_ids),
            "positions": [
                {
                    "symbol": p.position.symbol,
                    "quantity": p.position.quantity,
                    "average_price": p.position.average_price,
                    "cost_basis": p.position.cost_basis,
                    "mark": p.mark,
                    "mark_source": p.mark_source,
                    "market_value": p.market_value,
                    "unrealized_pnl": p.unrealized_pnl,
                    "realized_pnl": p.position.realized_pnl,
                    "fees": p.position.fees,
                }
                for p in view.positions
            ],
            "equity_curve": [
                {"ts": ns_iso(point.ts_ns), "equity": point.equity} for point in view.equity_curve
            ],
        }
    )
    return body


@router.get("/portfolio/{account}", summary="Positions, cash, P&L, fees and the equity curve of an account")
async def portfolio(
    request: Request, _caller: Viewer, account: Annotated[str, Path(min_length=1, max_length=64)]
) -> dict[str, Any]:
    inputs = await load_inputs(runtime_of(request).pool, account)
    if inputs is None:
        raise ApiError(404, "not_found", f"no account {account!r}")
    view = build_portfolio(inputs.account.initial_cash, inputs.fills, inputs.latest_closes, inputs.prices)
    return _body(inputs.account.account, inputs.account.quote_asset, view)
