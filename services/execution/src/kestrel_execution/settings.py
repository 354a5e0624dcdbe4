"""Settings of the execution service, read from `KESTREL_*` environment variables."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import SecretStr, field_validator, model_validator

from kestrel_platform.settings import ServiceSettings
from kestrel_trading.paper import PaperConfig

__all__ = ["ExecutionSettings"]


class ExecutionSettings(ServiceSettings):
    """Frozen and validated; the endpoints and their defaults come from `ServiceSettings`."""

    service_name: str = "execution"
    http_port: int = 8006
    # Consumer group on the Redis stream execution.orders, and on Kafka market.bars (paper fills).
    consumer_group: str = "execution"
    bars_consumer_group: str = "execution-paper"
    # Kafka ops.commands (kill switch, controller); one partition, so one replica acts on each command.
    commands_consumer_group: str = "execution-commands"
    consumer_name: str = ""  # empty: "<service>-<hostname>-<pid>"
    # A stream entry pending this long with a dead consumer is claimed by a live one (XAUTOCLAIM).
    reclaim_idle_ms: int = 30_000
    max_attempts: int = 5
    # Stream entries (orders) taken and stored per transaction; a failing batch goes one by one.
    orders_batch_size: int = 100
    retry_backoff_s: float = 0.1
    # How long `order:idem:{client_order_id}` lives in Redis (the fast path; PostgreSQL is the truth).
    idempotency_ttl_s: int = 7 * 24 * 3600
    # Paper broker (kestrel_trading.paper.PaperConfig).
    paper_slippage_bps: Decimal = Decimal(5)  # fills no better than reality: pay the spread
    paper_taker_fee_bps: Decimal = Decimal(10)
    paper_maker_fee_bps: Decimal = Decimal(10)
    paper_max_volume_share: Decimal | None = None
    paper_expire_after_bars: int | None = None
    # Per-symbol tick/lot/min-notional filters (kestrel_trading.catalog); unset: the builtin defaults.
    instruments_file: str | None = None
    # Timeframe of the bars that fill an order whose OrderRequest.timeframe is empty.
    default_timeframe: str = "1m"
    # Fee currency when the symbol names none ("BTC/USDT" pays fees in USDT).
    default_fee_asset: str = "USD"
    # Reports still unpublished this long after their commit (a crash) are published by the sweeper.
    outbox_sweep_interval_s: float = 5.0
    # The venue adapter (KESTREL_BROKER): the paper broker, or Binance spot (testnet by default).
    broker: Literal["paper", "binance"] = "paper"
    # Orders the venue has not answered are asked about every `resolve_interval_s`, once untouched
    # for `resolve_pending_after_s` (longer than a request timeout plus the recvWindow, so no earlier
    # request for the order can still reach the venue).
    resolve_interval_s: float = 5.0
    resolve_pending_after_s: float = 15.0
    # Parent orders (TWAP, iceberg) are worked at least this often, and at once when a child moves.
    parents_interval_s: float = 0.5
    # Orders, fills and holdings compared with the venue at start and this often; an unexplained
    # break halts reconciliation, and so execution, in the production controller.
    reconcile_interval_s: float = 60.0
    # Submits and cancels that failed at the venue in a row (unreachable, refused, outcome unknown)
    # after which execution is halted for every account (kestrel_execution.controller); 0: never.
    venue_error_halt_after: int = 5
    # Binance spot testnet; for a real testnet key keep these, for the local exchange point them at it.
    binance_rest_url: str = "https://testnet.binance.vision"
    binance_ws_api_url: str = "wss://ws-api.testnet.binance.vision/ws-api/v3"
    # Keys only from the environment or a secrets file (JSON: api_key + api_secret or private_key_pem).
    binance_api_key: SecretStr | None = None
    binance_api_secret: SecretStr | None = None
    binance_private_key_file: str | None = None  # Ed25519 PEM, preferred over an HMAC secret
    binance_secrets_file: str | None = None
    binance_recv_window_ms: int = 5000
    binance_timeout_s: float = 5.0
    binance_rules_refresh_s: float = 3600.0

    @field_validator(
        "consumer_group",
        "bars_consumer_group",
        "commands_consumer_group",
        "default_timeframe",
        "default_fee_asset",
    )
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("reclaim_idle_ms", "idempotency_ttl_s", "max_attempts", "orders_batch_size")
    @classmethod
    def _positive_int(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be > 0")
        return value

    @field_validator("venue_error_halt_after")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be >= 0 (0 never halts)")
        return value

    @field_validator("binance_recv_window_ms")
    @classmethod
    def _recv_window(cls, value: int) -> int:
        if not 0 < value <= 60_000:
            raise ValueError("must be in (0, 60000] ms, Binance's limit")
        return value

    @field_validator(
        "outbox_sweep_interval_s", "resolve_interval_s", "resolve_pending_after_s", "binance_timeout_s",
        "reconcile_interval_s", "parents_interval_s",
        "binance_rules_refresh_s",
    )  # fmt: skip
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be > 0")
        return value

    @model_validator(mode="after")
    def _paper(self) -> ExecutionSettings:
        self.paper_config()  # fail fast on negative bps or a share outside (0, 1]
        return self

    def paper_config(self) -> PaperConfig:
        return PaperConfig(
            slippage_bps=self.paper_slippage_bps,
            taker_fee_bps=self.paper_taker_fee_bps,
            maker_fee_bps=self.paper_maker_fee_bps,
            max_volume_share=self.paper_max_volume_share,
            expire_after_bars=self.paper_expire_after_bars,
        )
