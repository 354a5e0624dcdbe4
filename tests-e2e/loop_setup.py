"""The fixed inputs of tests-e2e/test_trading_loop.py: the replay, the model, the five services' settings."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from kestrel_cli.supervisor import ServiceSpec
from kestrel_featurelib import default_feature_set
from kestrel_inference.testing import register_tiny_model
from kestrel_ingestion.domain import RawBar, UnreadableRow
from kestrel_ingestion.sources.merged import sample_source
from kestrel_trading.domain import Bar
from kestrel_trading.paper import PaperConfig

SAMPLES = ("sp500", "nasdaq")  # the reference symbol first
REFERENCE = "SP500"
BARS_PER_SYMBOL = 650  # the 498-bar feature warm-up plus 153 bars that trade
WARMUP = default_feature_set(REFERENCE).warmup
FAST_STEPS = 20  # post-warm-up instants replayed at once with the warm-up, as `kestrel demo` does
KILL_FROM_STEP = 30  # post-warm-up instant from which execution is killed with orders in flight
LAST_KILL_STEP = 60  # where it is killed anyway (right after the bars are published) if not before
ENGAGE_AFTER_STEP = 105  # the kill switch is engaged after the first instant from here that
LAST_ENGAGE_STEP = 125  # leaves an order working (or here at the latest)
INITIAL_CASH = Decimal(100_000)
SLIPPAGE_BPS, FEE_BPS = Decimal(5), Decimal(10)
PAPER = PaperConfig(slippage_bps=SLIPPAGE_BPS, taker_fee_bps=FEE_BPS, maker_fee_bps=FEE_BPS)
# The tiny model's P(up) follows the sign of its first feature; roc_10 changes sign every few bars
# on these samples, so the signals turn between BUY and SELL often (P(up) is about 0.43..0.62).
FIRST_FEATURE = "roc_10"
BUY_THRESHOLD, SELL_THRESHOLD = "0.5", "0.495"
MODEL_SEED = 7
ACCOUNT = "paper"
WORKING = ("NEW", "PARTIALLY_FILLED")
STEP_TIMEOUT_S = 120.0  # one instant through the loop; generous for the restart after the kill
WHOLE_RUN_TIMEOUT_S = 780.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(slots=True)
class ListSource:
    """Some of the merged samples' bars, as an ingestion BarSource (one replay chunk)."""

    name: str
    items: Sequence[RawBar]

    async def bars(self) -> AsyncIterator[RawBar | UnreadableRow]:
        for bar in self.items:
            yield bar


def replay_steps() -> tuple[list[RawBar], list[list[RawBar]]]:
    """The warm-up bars (replayed at once) and the later instants (replayed one by one)."""
    source = sample_source(SAMPLES, last=BARS_PER_SYMBOL)
    bars = [item for item in source.items() if isinstance(item, RawBar)]
    seen: Counter[str] = Counter()
    warmup: list[RawBar] = []
    steps: dict[int, list[RawBar]] = {}
    for bar in bars:
        # A symbol's first vector comes with its WARMUP-th bar: everything before is warm-up.
        if seen[bar.symbol] < WARMUP - 1 and not steps:
            warmup.append(bar)
        else:
            steps.setdefault(bar.ts_open, []).append(bar)
        seen[bar.symbol] += 1
    return warmup, [steps[ts] for ts in sorted(steps)]


def log_excerpt(path: Path, problems: int = 12, last: int = 4, width: int = 700) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    quiet = ('"level": "info"', '"level": "debug"')
    picked = [line for line in lines if not any(q in line for q in quiet)][-problems:]
    picked += ["...", *lines[-last:]] if lines else []
    return "\n".join(line if len(line) <= width else line[:width] + " ..." for line in picked)


def domain_bar(bar: RawBar) -> Bar:
    return Bar(bar.ts_open, bar.ts_close, bar.open, bar.high, bar.low, bar.close, bar.volume)


def register_model(tracking_uri: str, name: str) -> str:
    """A tiny LightGBM over the live feature set whose first feature is FIRST_FEATURE, alias live."""
    catalogue = default_feature_set(REFERENCE)
    names = [FIRST_FEATURE, *(n for n in catalogue.names if n != FIRST_FEATURE)]
    return register_tiny_model(tracking_uri, name, name, names, catalogue.version, seed=MODEL_SEED)


def service_specs(ns: str, model_name: str) -> list[ServiceSpec]:
    return [
        ServiceSpec(
            "features",
            free_port(),
            {
                "KESTREL_TIMEFRAME": "1d",
                "KESTREL_REFERENCE_SYMBOL": REFERENCE,
                "KESTREL_VECTOR_KEY_PREFIX": f"{ns}:feat:",
                "KESTREL_STATE_KEY_PREFIX": f"{ns}:featstate:",
                "KESTREL_CONSUMER_GROUP": f"{ns}-features",
            },
        ),
        ServiceSpec(
            "inference",
            free_port(),
            {
                "KESTREL_MODEL_NAME": model_name,
                "KESTREL_MODEL_ALIAS": "live",
                "KESTREL_BUY_THRESHOLD": BUY_THRESHOLD,
                "KESTREL_SELL_THRESHOLD": SELL_THRESHOLD,
                "KESTREL_CONSUMER_GROUP": f"{ns}-inference",
            },
        ),
        ServiceSpec(
            "risk",
            free_port(),
            {
                "KESTREL_RISK_ACCOUNT": ACCOUNT,
                "KESTREL_RISK_INITIAL_CASH": str(INITIAL_CASH),
                "KESTREL_RISK_SIGNALS_GROUP": f"{ns}-risk-signals",
                "KESTREL_RISK_REPORTS_GROUP": f"{ns}-risk-reports",
                "KESTREL_RISK_COMMANDS_GROUP": f"{ns}-risk-commands",
            },
        ),
        ServiceSpec(
            "execution",
            free_port(),
            {
                "KESTREL_CONSUMER_GROUP": f"{ns}-execution",
                "KESTREL_BARS_CONSUMER_GROUP": f"{ns}-execution-paper",
                "KESTREL_COMMANDS_CONSUMER_GROUP": f"{ns}-execution-commands",
                # A stable name, as a StatefulSet pod would have: the restarted process first
                # finishes the stream entries its previous life read and never acknowledged.
                "KESTREL_CONSUMER_NAME": f"{ns}-execution-0",
                "KESTREL_PAPER_SLIPPAGE_BPS": str(SLIPPAGE_BPS),
                "KESTREL_PAPER_TAKER_FEE_BPS": str(FEE_BPS),
                "KESTREL_PAPER_MAKER_FEE_BPS": str(FEE_BPS),
            },
        ),
        ServiceSpec("gateway", free_port(), {"KESTREL_GATEWAY_RATE_LIMIT_PER_MINUTE": "0"}),
    ]
