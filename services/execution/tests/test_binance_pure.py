"""The Binance adapter's pure parts: signatures, exchange filters, error reasons, wire mapping."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pydantic import SecretStr

from kestrel_execution.binance.rules import SymbolRules, rejection_reason
from kestrel_execution.binance.signing import CredentialsError, Ed25519Signer, HmacSigner, load_credentials
from kestrel_execution.binance.user_stream import signed_ws_params
from kestrel_execution.binance.wire import OrderMapper, order_params, venue_symbol
from kestrel_execution.venue import Acked, Canceled, Expired, Traded, VenueRejected
from kestrel_trading.domain import Liquidity, Side
from kestrel_trading.orders import Order, OrderType, TimeInForce

# Binance's documented HMAC example (endpoint security: SIGNED).
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_PAYLOAD = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"  # noqa: E501
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"

RULES = SymbolRules.from_exchange_info(
    {
        "symbol": "BTCUSDT",
        "status": "TRADING",
        "baseAsset": "BTC",
        "quoteAsset": "USDT",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000", "tickSize": "0.01"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.001", "maxQty": "100", "stepSize": "0.001"},
            {"filterType": "NOTIONAL", "minNotional": "5", "maxNotional": "9000000"},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 3},
        ],
    }
)


def limit(qty: str = "0.01", price: str = "1000.00", tif: TimeInForce = TimeInForce.GTC) -> Order:
    return Order("c-1", "BTC/USDT", Side.BUY, OrderType.LIMIT, Decimal(qty), Decimal(price), tif)


def market(qty: str = "0.01") -> Order:
    return Order("c-1", "BTC/USDT", Side.SELL, OrderType.MARKET, Decimal(qty), time_in_force=TimeInForce.IOC)


def test_hmac_signature_matches_binance_documented_example() -> None:
    assert HmacSigner(SecretStr(DOC_SECRET)).sign(DOC_PAYLOAD) == DOC_SIGNATURE


def test_ed25519_signature_verifies_and_keys_never_show_in_repr(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    signature = Ed25519Signer.from_pem(pem).sign(DOC_PAYLOAD)
    key.public_key().verify(base64.b64decode(signature), DOC_PAYLOAD.encode())  # raises if wrong
    (tmp_path / "key.pem").write_bytes(pem)
    creds = load_credentials(
        api_key=SecretStr("the-key"),
        api_secret=None,
        private_key_file=str(tmp_path / "key.pem"),
        secrets_file=None,
    )
    assert isinstance(creds.signer, Ed25519Signer)
    assert "the-key" not in repr(creds) and "PRIVATE" not in repr(creds)


def test_credentials_from_a_secrets_file_and_clear_errors_without(tmp_path: Path) -> None:
    secrets = tmp_path / "binance.json"
    secrets.write_text(json.dumps({"api_key": "k", "api_secret": DOC_SECRET}))
    creds = load_credentials(api_key=None, api_secret=None, private_key_file=None, secrets_file=str(secrets))
    assert creds.signer.sign(DOC_PAYLOAD) == DOC_SIGNATURE
    with pytest.raises(CredentialsError, match="KESTREL_BINANCE_API_KEY"):
        load_credentials(api_key=None, api_secret=None, private_key_file=None, secrets_file=None)
    with pytest.raises(CredentialsError, match="API_SECRET"):
        load_credentials(api_key=SecretStr("k"), api_secret=None, private_key_file=None, secrets_file=None)
    secrets.write_text("not json")
    with pytest.raises(CredentialsError, match="cannot read"):
        load_credentials(api_key=None, api_secret=None, private_key_file=None, secrets_file=str(secrets))


def test_websocket_signature_is_over_the_sorted_parameters() -> None:
    key = SecretStr("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A")
    creds = load_credentials(
        api_key=key, api_secret=SecretStr(DOC_SECRET), private_key_file=None, secrets_file=None
    )
    params = signed_ws_params(creds, 1_649_729_878_532, 5000)
    payload = f"apiKey={params['apiKey']}&recvWindow=5000&timestamp=1649729878532"
    assert params["signature"] == HmacSigner(SecretStr(DOC_SECRET)).sign(payload)


def test_filters_are_checked_before_sending() -> None:
    assert RULES.check(limit(), open_orders=0) == []
    found = {v.filter: v.reason for v in RULES.check(limit("0.000015", "100.005"), open_orders=3)}
    assert found == {
        "LOT_SIZE": "EXECUTION_REASON_INVALID_QUANTITY",
        "PRICE_FILTER": "EXECUTION_REASON_INVALID_PRICE",
        "NOTIONAL": "EXECUTION_REASON_MIN_NOTIONAL",
        "MAX_NUM_ORDERS": "EXECUTION_REASON_VENUE_REJECTED",
    }
    # A market order is judged by MARKET_LOT_SIZE when the symbol has one.
    assert [v.filter for v in RULES.check(market("0.0005"), open_orders=0)] == ["MARKET_LOT_SIZE"]
    assert RULES.check(limit("0.0005", "20000.00"), open_orders=0) == []  # LOT_SIZE allows it


@pytest.mark.parametrize(
    ("code", "msg", "reason"),
    [
        (-1013, "Filter failure: PRICE_FILTER", "EXECUTION_REASON_INVALID_PRICE"),
        (-1013, "Filter failure: NOTIONAL", "EXECUTION_REASON_MIN_NOTIONAL"),
        (-1013, "Filter failure: MARKET_LOT_SIZE", "EXECUTION_REASON_INVALID_QUANTITY"),
        (
            -2010,
            "Account has insufficient balance for requested action.",
            "EXECUTION_REASON_INSUFFICIENT_BALANCE",
        ),
        (-2010, "Duplicate order sent.", "EXECUTION_REASON_VENUE_REJECTED"),
        (-1121, "Invalid symbol.", "EXECUTION_REASON_UNKNOWN_SYMBOL"),
    ],
)
def test_venue_errors_map_to_execution_reasons(code: int, msg: str, reason: str) -> None:
    assert rejection_reason(code, msg) == reason


def test_order_parameters() -> None:
    assert venue_symbol("BTC/USDT") == "BTCUSDT"
    params = order_params(limit(tif=TimeInForce.FOK), "BTCUSDT")
    assert params == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": Decimal("0.01"),
        "newClientOrderId": "c-1",
        "newOrderRespType": "FULL",
        "timeInForce": "FOK",
        "price": Decimal("1000.00"),
    }
    assert "timeInForce" not in order_params(market(), "BTCUSDT")  # Binance takes none on MARKET


MAPPER = OrderMapper("BTC/USDT", "BTC", "USDT")


def test_a_full_response_becomes_ack_trades_and_expiry_with_fees_in_quote_terms() -> None:
    placed = {
        "symbol": "BTCUSDT",
        "orderId": 28,
        "clientOrderId": "c-1",
        "transactTime": 1507725176595,
        "side": "SELL",
        "type": "MARKET",
        "timeInForce": "GTC",
        "status": "EXPIRED",
        "fills": [
            {
                "price": "4000.00",
                "qty": "1.0",
                "commission": "4.00",
                "commissionAsset": "USDT",
                "tradeId": 56,
            },
            {
                "price": "3999.00",
                "qty": "0.5",
                "commission": "0.0005",
                "commissionAsset": "BTC",
                "tradeId": 57,
            },
            {"price": "3998.00", "qty": "0.1", "commission": "0.01", "commissionAsset": "BNB", "tradeId": 58},
        ],
    }
    events = MAPPER.order_events("c-1", placed)
    assert isinstance(events[0], Acked) and events[0].venue_order_id == "28"
    trades = [e for e in events if isinstance(e, Traded)]
    assert [t.fill.fill_id for t in trades] == [
        "binance:BTC/USDT:56",
        "binance:BTC/USDT:57",
        "binance:BTC/USDT:58",
    ]
    assert [t.fill.fee for t in trades] == [Decimal("4.00"), Decimal("1.9995000"), Decimal(0)]
    assert [(t.commission, t.commission_asset) for t in trades][2] == (Decimal("0.01"), "BNB")
    assert all(
        t.fill.ts_ns == 1507725176595 * 1_000_000 and t.fill.liquidity is Liquidity.TAKER for t in trades
    )
    assert isinstance(events[-1], Expired) and events[-1].reason == "EXECUTION_REASON_TIME_IN_FORCE"


def test_execution_reports_name_the_original_order_on_a_cancel() -> None:
    report = {
        "e": "executionReport",
        "E": 1,
        "s": "BTCUSDT",
        "c": "cancel-req-7",
        "C": "c-1",
        "S": "BUY",
        "o": "LIMIT",
        "f": "GTC",
        "x": "CANCELED",
        "X": "CANCELED",
        "i": 4293153,
        "r": "NONE",
    }
    coid, events = MAPPER.report_events(report, cancel_reason="EXECUTION_REASON_KILL_SWITCH")
    assert coid == "c-1"
    assert isinstance(events[-1], Canceled) and events[-1].reason == "EXECUTION_REASON_KILL_SWITCH"
    trade = {
        **report,
        "c": "c-1",
        "C": "",
        "x": "TRADE",
        "X": "PARTIALLY_FILLED",
        "l": "0.2",
        "L": "100.5",
        "n": "0.0002",
        "N": "BTC",
        "T": 1700000000123,
        "t": 99,
        "m": True,
    }
    coid, events = MAPPER.report_events(trade)
    assert coid == "c-1" and isinstance(events[1], Traded)
    fill = events[1].fill
    assert (fill.quantity, fill.price, fill.liquidity, fill.ts_ns) == (
        Decimal("0.2"),
        Decimal("100.5"),
        Liquidity.MAKER,
        1700000000123 * 1_000_000,
    )
    rejected = {**report, "c": "c-1", "x": "REJECTED", "X": "REJECTED", "r": "Filter failure: LOT_SIZE"}
    _, events = MAPPER.report_events(rejected)
    assert events == [
        VenueRejected(1_000_000, "EXECUTION_REASON_INVALID_QUANTITY", "Filter failure: LOT_SIZE")
    ]
