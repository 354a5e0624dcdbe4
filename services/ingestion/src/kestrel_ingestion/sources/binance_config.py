"""Where the Binance source connects, how patient it is, and the errors it raises when patience ends."""

from __future__ import annotations

from dataclasses import dataclass, replace

BINANCE_REST_URL = "https://api.binance.com"
BINANCE_WS_URL = "wss://stream.binance.com:9443"
TESTNET_REST_URL = "https://testnet.binance.vision"
TESTNET_WS_URL = "wss://stream.testnet.binance.vision"


@dataclass(frozen=True, slots=True)
class BinanceConfig:
    """Endpoints and limits. The defaults talk to Binance spot; tests point the URLs at a local server."""

    rest_url: str = BINANCE_REST_URL
    ws_url: str = BINANCE_WS_URL
    page_limit: int = 1000  # klines per request; Binance's maximum
    request_timeout_s: float = 30.0
    # 429/418: wait Retry-After, at most this many times in a row for one request; a ban longer than
    # max_retry_after_s is not waited out (418 bans last minutes to days) but reported.
    max_rate_limit_retries: int = 5
    max_retry_after_s: float = 300.0
    default_retry_after_s: float = 60.0  # when a 429/418 comes without Retry-After
    # 5xx and network errors: exponential backoff, at most this many retries in a row for one request.
    max_server_error_retries: int = 5
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    # Past this share of the minute's request weight, wait for the next minute before asking again.
    weight_soft_fraction: float = 0.8
    default_weight_limit: int = 6000  # used until exchangeInfo says otherwise
    # WebSocket: reconnect backoff, and how long a silent socket (no data, no ping) is trusted.
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0
    max_reconnect_attempts: int | None = None  # failed attempts in a row; None = keep trying
    ws_idle_timeout_s: float = 60.0

    @classmethod
    def testnet(cls) -> BinanceConfig:
        """Binance's spot testnet: same API, play money, its own hosts."""
        return cls(rest_url=TESTNET_REST_URL, ws_url=TESTNET_WS_URL)

    def with_urls(self, rest_url: str, ws_url: str) -> BinanceConfig:
        return replace(self, rest_url=rest_url.rstrip("/"), ws_url=ws_url.rstrip("/"))


class BinanceError(Exception):
    """The Binance source cannot go on; what was already yielded stays good, and a rerun resumes."""


class BinanceApiError(BinanceError):
    """Binance answered with an error body `{"code": ..., "msg": ...}` that retrying will not fix."""

    def __init__(self, status: int, code: int | None, msg: str, path: str) -> None:
        super().__init__(f"Binance {path} answered HTTP {status}, code {code}: {msg}")
        self.status = status
        self.code = code
        self.msg = msg
        self.path = path


class UnknownSymbolError(BinanceError):
    """A requested symbol is not listed on Binance spot."""


class BinanceRateLimitError(BinanceError):
    """Still rate-limited (429) or banned (418) after the retries the config allows."""


class BinanceUnavailableError(BinanceError):
    """5xx answers or network failures outlasted the retries the config allows."""
