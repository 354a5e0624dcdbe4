"""Parameter rules of the trading endpoints: how a new order's parameters are read and refused."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import parse_qsl

from aiohttp import web

from kestrel_testing.fake_binance_model import ORDER_TYPES, SIDES, TIME_IN_FORCE, OrderRequest
from kestrel_testing.fake_binance_rest import (
    RejectedRequestError,
    illegal_chars,
    int_param,
    invalid_parameter,
    mandatory_missing,
    symbol_param,
)

NEW_ORDER_PARAMS = frozenset(
    {
        "symbol",
        "side",
        "type",
        "timeInForce",
        "quantity",
        "quoteOrderQty",
        "price",
        "newClientOrderId",
        "newOrderRespType",
    }
)
RESPONSE_TYPES = frozenset({"ACK", "RESULT", "FULL"})
_DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
_CLIENT_ID_RANGE = "^[.A-Z:/a-z0-9_-]{1,36}$"


async def request_params(request: web.Request) -> tuple[dict[str, str], str, str]:
    """(merged params, raw query, raw body): a form body's params, overridden by the query's (Binance)."""
    raw_query = request.rel_url.raw_query_string
    raw_body = ""
    if request.content_type == "application/x-www-form-urlencoded" and request.body_exists:
        raw_body = await request.text()
    merged = dict(parse_qsl(raw_body, keep_blank_values=True))
    merged.update(request.query)
    return merged, raw_query, raw_body


def not_required(param: str) -> RejectedRequestError:
    return RejectedRequestError(400, -1106, f"Parameter '{param}' sent when not required.")


def one_of_missing(first: str, second: str) -> RejectedRequestError:
    msg = f"Param '{first}' or '{second}' must be sent, but both were empty/null!"
    return RejectedRequestError(400, -1102, msg)


def combination_invalid() -> RejectedRequestError:
    return RejectedRequestError(400, -1128, "Combination of optional parameters invalid.")


def decimal_param(params: Mapping[str, str], name: str) -> Decimal | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not re.fullmatch(_DECIMAL_RANGE[1:-1], value):
        raise illegal_chars(name, _DECIMAL_RANGE)
    return Decimal(value)


def client_id_param(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if not value:
        return None
    if not re.fullmatch(_CLIENT_ID_RANGE[1:-1], value):
        raise illegal_chars(name, _CLIENT_ID_RANGE)
    return value


def required_symbol(params: Mapping[str, str]) -> str:
    symbol = symbol_param(params)
    assert symbol is not None  # symbol_param raised -1102 otherwise
    return symbol


def order_lookup(params: Mapping[str, str], id_name: str, client_name: str) -> tuple[int | None, str | None]:
    order_id, client_id = int_param(params, id_name), client_id_param(params, client_name)
    if order_id is None and client_id is None:
        raise one_of_missing(client_name, id_name)
    return order_id, client_id


def parse_new_order(params: Mapping[str, str]) -> tuple[OrderRequest, str]:
    """The order and its newOrderRespType, with Binance's errors for missing or contradictory params."""
    symbol = required_symbol(params)
    side, order_type = params.get("side"), params.get("type")
    if not side:
        raise mandatory_missing("side")
    if side not in SIDES:
        raise invalid_parameter("side")
    if not order_type:
        raise mandatory_missing("type")
    if order_type not in ORDER_TYPES:
        raise RejectedRequestError(400, -1116, "Invalid orderType.")
    tif = params.get("timeInForce") or None
    quantity, quote_qty = decimal_param(params, "quantity"), decimal_param(params, "quoteOrderQty")
    price = decimal_param(params, "price")
    if order_type == "MARKET":
        _check_market(quantity, quote_qty, price, tif)
    else:
        _check_limit(order_type, quantity, quote_qty, price, tif)
    resp_type = params.get("newOrderRespType") or ("FULL" if order_type in {"MARKET", "LIMIT"} else "ACK")
    if resp_type not in RESPONSE_TYPES:
        raise invalid_parameter("newOrderRespType")
    request = OrderRequest(
        symbol=symbol,
        side=side,
        type=order_type,
        quantity=quantity,
        quote_order_qty=quote_qty,
        price=price,
        time_in_force=tif,
        client_order_id=client_id_param(params, "newClientOrderId"),
    )
    return request, resp_type


def _check_market(
    quantity: Decimal | None, quote_qty: Decimal | None, price: Decimal | None, tif: str | None
) -> None:
    if quantity is None and quote_qty is None:
        raise one_of_missing("quantity", "quoteOrderQty")
    if quantity is not None and quote_qty is not None:
        raise combination_invalid()
    for name, value in (("price", price), ("timeInForce", tif)):
        if value is not None:
            raise not_required(name)


def _check_limit(
    order_type: str,
    quantity: Decimal | None,
    quote_qty: Decimal | None,
    price: Decimal | None,
    tif: str | None,
) -> None:
    if order_type == "LIMIT" and tif is None:
        raise mandatory_missing("timeInForce")
    if order_type == "LIMIT_MAKER" and tif is not None:
        raise not_required("timeInForce")
    if tif is not None and tif not in TIME_IN_FORCE:
        raise RejectedRequestError(400, -1115, "Invalid timeInForce.")
    if quantity is None:
        raise mandatory_missing("quantity")
    if price is None:
        raise mandatory_missing("price")
    if quote_qty is not None:
        raise not_required("quoteOrderQty")
