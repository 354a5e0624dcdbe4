"""The read-only SIGNED endpoints: GET /api/v3/openOrders, allOrders, myTrades and account."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from aiohttp import web

from kestrel_testing.fake_binance_matching import FakeExchange
from kestrel_testing.fake_binance_params import combination_invalid, required_symbol
from kestrel_testing.fake_binance_rest import int_param, invalid_parameter, invalid_symbol, symbol_param
from kestrel_testing.fake_binance_wire import balance_entries, my_trade, query_order

SignedParams = Callable[[web.Request, frozenset[str]], Awaitable[dict[str, str]]]
_T = TypeVar("_T")
_RANGE = frozenset({"startTime", "endTime", "limit"})


def register_queries(app: web.Application, engine: FakeExchange, signed: SignedParams) -> None:
    queries = _Queries(engine, signed)
    app.router.add_get("/api/v3/openOrders", queries.open_orders)
    app.router.add_get("/api/v3/allOrders", queries.all_orders)
    app.router.add_get("/api/v3/myTrades", queries.my_trades)
    app.router.add_get("/api/v3/account", queries.account)


def _limit(params: Mapping[str, str]) -> int:
    limit = int_param(params, "limit")
    if limit is None:
        return 500
    if not 1 <= limit <= 1000:
        raise invalid_parameter("limit")
    return limit


def _window(items: Sequence[_T], times: Sequence[int], params: Mapping[str, str]) -> list[_T]:
    """startTime/endTime (inclusive) on the item times, then the oldest `limit` of them."""
    start, end = int_param(params, "startTime"), int_param(params, "endTime")
    chosen = [
        item
        for item, at in zip(items, times, strict=True)
        if (start is None or at >= start) and (end is None or at <= end)
    ]
    return chosen[: _limit(params)]


class _Queries:
    def __init__(self, engine: FakeExchange, signed: SignedParams) -> None:
        self._engine = engine
        self._signed = signed

    def _known_symbol(self, params: Mapping[str, str], *, required: bool = True) -> str | None:
        symbol = required_symbol(params) if required else symbol_param(params, required=False)
        if symbol is not None and symbol not in self._engine.symbols:
            raise invalid_symbol()
        return symbol

    async def open_orders(self, request: web.Request) -> web.Response:
        params = await self._signed(request, frozenset({"symbol"}))
        symbol = self._known_symbol(params, required=False)
        return web.json_response([query_order(o) for o in self._engine.open_orders(symbol)])

    async def all_orders(self, request: web.Request) -> web.Response:
        params = await self._signed(request, frozenset({"symbol", "orderId"}) | _RANGE)
        symbol = self._known_symbol(params)
        assert symbol is not None
        from_id = int_param(params, "orderId")
        orders = [o for o in self._engine.all_orders(symbol) if from_id is None or o.order_id >= from_id]
        chosen = _window(orders, [o.time_ms for o in orders], params)
        return web.json_response([query_order(o) for o in chosen])

    async def my_trades(self, request: web.Request) -> web.Response:
        params = await self._signed(request, frozenset({"symbol", "orderId", "fromId"}) | _RANGE)
        symbol = self._known_symbol(params)
        assert symbol is not None
        order_id, from_id = int_param(params, "orderId"), int_param(params, "fromId")
        # Binance refuses fromId together with a time range.
        if from_id is not None and ("startTime" in params or "endTime" in params):
            raise combination_invalid()
        fills = [
            f
            for f in self._engine.trades(symbol)
            if (order_id is None or f.order_id == order_id) and (from_id is None or f.trade_id >= from_id)
        ]
        chosen = _window(fills, [f.time_ms for f in fills], params)
        return web.json_response([my_trade(f) for f in chosen])

    async def account(self, request: web.Request) -> web.Response:
        params = await self._signed(request, frozenset({"omitZeroBalances"}))
        omit = params.get("omitZeroBalances", "false")
        if omit not in {"true", "false"}:
            raise invalid_parameter("omitZeroBalances")
        bps = int(self._engine.commission_rate * 10_000)  # the legacy fields are in basis points
        body: dict[str, Any] = {
            "makerCommission": bps,
            "takerCommission": bps,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": f"{self._engine.commission_rate:.8f}",
                "taker": f"{self._engine.commission_rate:.8f}",
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": self._engine.account.update_time_ms,
            "accountType": "SPOT",
            "balances": balance_entries(self._engine.balances(), omit_zero=omit == "true"),
            "permissions": ["SPOT"],
            "uid": 1,
        }
        return web.json_response(body)
