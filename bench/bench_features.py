"""Cost of the feature library: streaming update per bar per symbol, batch throughput, restore.

Runs the default catalogue (with its cross-asset features) on the S&P 500 daily sample shipped in
the `arch` package, NASDAQ as the reference, and on a long random series for training-scale batch.

    uv run python bench/bench_features.py [--repeat 3] [--long-bars 200000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from kestrel_featurelib import FeatureSet, default_feature_set
from kestrel_featurelib.samples import arch_daily_bars
from kestrel_featurelib.testing import RandomSeries, random_bars

RESULTS = Path(__file__).parent / "results"

Row = tuple[int, float, float, float, float, float, float | None]


def _rows(bars: pd.DataFrame, reference: pd.DataFrame) -> list[Row]:
    ref = dict(zip(reference["ts"].tolist(), reference["close"].tolist(), strict=True))
    cols = (bars[c].tolist() for c in ("ts", "open", "high", "low", "close", "volume"))
    return [(ts, o, h, lo, c, v, ref.get(ts)) for ts, o, h, lo, c, v in zip(*cols, strict=True)]


def _stream_us_per_bar(fs: FeatureSet, rows: list[Row], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        state = fs.new_state()
        update = state.update
        start = time.perf_counter()
        for row in rows:
            update(*row)
        best = min(best, time.perf_counter() - start)
    return best / len(rows) * 1e6


def _batch_bars_per_s(fs: FeatureSet, bars: pd.DataFrame, reference: pd.DataFrame, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fs.batch(bars, reference)
        best = min(best, time.perf_counter() - start)
    return len(bars) / best


def _restore_figures(fs: FeatureSet, rows: list[Row]) -> dict[str, float]:
    state = fs.new_state()
    for row in rows[:1000]:
        state.update(*row)
    start = time.perf_counter()
    blob = state.to_bytes()
    fs.restore(blob)
    restore_ms = (time.perf_counter() - start) * 1e3
    start = time.perf_counter()
    rebuilt = fs.new_state()
    for row in rows[1000 - fs.replay_window : 1000]:
        rebuilt.update(*row)
    replay_ms = (time.perf_counter() - start) * 1e3
    return {"snapshot_bytes": len(blob), "snapshot_roundtrip_ms": restore_ms, "replay_rebuild_ms": replay_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--long-bars", type=int, default=200_000)
    args = parser.parse_args()

    fs = default_feature_set("NASDAQ")
    sp500, nasdaq = arch_daily_bars("sp500"), arch_daily_bars("nasdaq")
    rows = _rows(sp500, nasdaq)
    long_bars, long_ref = random_bars(
        RandomSeries(seed=1, n=args.long_bars, flat_runs=50, missing_ref_prob=0.01)
    )
    results: dict[str, float | int | str] = {
        "features": len(fs.names),
        "feature_set_version": fs.version,
        "warmup_bars": fs.warmup,
        "replay_window_bars": fs.replay_window,
        "stream_us_per_bar_per_symbol": _stream_us_per_bar(fs, rows, args.repeat),
        "batch_bars_per_s_sp500": _batch_bars_per_s(fs, sp500, nasdaq, args.repeat),
        f"batch_bars_per_s_{args.long_bars}_bars": _batch_bars_per_s(fs, long_bars, long_ref, 1),
        **_restore_figures(fs, rows),
    }
    long_key = f"batch_bars_per_s_{args.long_bars}_bars"
    lines = [
        f"feature library: {results['features']} features, version {results['feature_set_version']}",
        f"  warm-up {fs.warmup} bars, replay window {fs.replay_window} bars",
        f"  streaming update: {results['stream_us_per_bar_per_symbol']:.1f} µs/bar/symbol (S&P 500)",
        f"  batch, S&P 500 ({len(sp500)} bars): {results['batch_bars_per_s_sp500']:,.0f} bars/s",
        f"  batch, random ({args.long_bars} bars): {results[long_key]:,.0f} bars/s",
        f"  snapshot {results['snapshot_bytes']} bytes, round trip {results['snapshot_roundtrip_ms']:.2f} ms",
        f"  rebuild by replaying {fs.replay_window} bars: {results['replay_rebuild_ms']:.1f} ms",
    ]
    print("\n".join(lines))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "features_lib.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
