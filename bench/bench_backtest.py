"""Backtest engine: fast mode against vectorbt written directly and against backtesting.py, exact
mode's bars/s, and the parameter grid's bar-combinations/s (issue #9, section 8).

    uv run python -m bench.bench_backtest [--bars 1000000] [--bt-bars 50000] [--grid-bars 100000]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.backtest_cases import (
    Figures,
    fast_vs_vectorbt,
    grid_throughput,
    synthetic,
    vs_backtesting,
    warm_up,
)
from rich.console import Console
from rich.table import Table

from kestrel_backtest.domain import with_bar_identity
from kestrel_featurelib.samples import arch_daily_bars

RESULTS = Path(__file__).parent / "results"


def _yes(met: bool) -> str:
    return "[green]met[/]" if met else "[red]not met[/]"


def _table(a: Figures, b: list[Figures], d: list[Figures]) -> Table:
    table = Table(title="Backtest engine (sma_cross 10/50 unless stated; seconds are wall time)")
    for column in ("case", "ours", "reference", "ratio", "target", ""):
        table.add_column(column, justify="left" if column == "case" else "right")
    table.add_row(
        f"(a) fast end to end, {a['bars']:,} 1m bars, {a['fills']:,} fills",
        f"{a['ours_s']:.2f} s",
        f"vectorbt direct {a['vectorbt_direct_s']:.2f} s",
        f"{a['ratio']:.1f}x",
        "<= 1.5x",
        _yes(a["met"]),
    )
    for c in b:
        table.add_row(
            f"(b) fast vs backtesting.py, {c['data']} ({c['bars']:,} bars, {c['trades_ours']} trades)",
            f"{c['fast_s'] * 1e3:.0f} ms",
            f"backtesting.py {c['backtesting_s'] * 1e3:.0f} ms",
            f"{c['fast_speedup']:.1f}x faster",
            ">= 20x",
            _yes(c["fast_met"]),
        )
        table.add_row(
            f"(c) exact mode, {c['data']}",
            f"{c['exact_bars_per_s']:,.0f} bars/s",
            f"{c['backtesting_bars_per_s']:,.0f} bars/s",
            f"{c['exact_vs_backtesting']:.2f}x",
            ">= 1x",
            _yes(c["exact_met"]),
        )
    for g in d:
        table.add_row(
            f"(d) grid {g['strategy']}, {g['bars']:,} bars x {g['combinations']} combinations",
            f"{g['bar_combinations_per_s'] / 1e6:.1f} M/s",
            f"{g['seconds']:.2f} s",
            "",
            ">= 10 M/s",
            _yes(g["met"]),
        )
    return table


def _notes(a: Figures, b: list[Figures]) -> list[str]:
    lines = [
        f"(a) split: signals {a['ours_signals_s']:.2f} s, "
        f"risk + paper fills {a['ours_risk_and_fills_s']:.2f} s "
        f"({a['us_per_fill_risk_and_fills']:.0f} us per fill: each direction change is sized and checked "
        f"by the live RiskEngine in Decimal), accounting {a['ours_accounting_s']:.2f} s; "
        f"trades ours {a['ours_trades']:,}, vectorbt direct {a['vectorbt_direct_trades']:,} "
        "(vectorbt direct sizes in float from cash, ours in lots on the signal close)",
    ]
    for c in b:
        verdict = "IDENTICAL" if c["identical_trades"] else f"DIFFER: {c['first_difference']}"
        lines.append(
            f"(b) {c['data']}: trades (entry/exit bar, side, size, prices) vs backtesting.py: {verdict} "
            f"({c['trades_ours']} vs {c['trades_backtesting']}); exact mode's fills equal fast mode's"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bars", type=int, default=1_000_000, help="bars of case (a)")
    parser.add_argument("--bt-bars", type=int, default=50_000, help="synthetic bars of cases (b), (c)")
    parser.add_argument("--grid-bars", type=int, default=100_000, help="bars of case (d)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    console = Console(width=150)
    with console.status("warming up (numba compiles vectorbt's simulators once)"):
        warm_up()
    with console.status(f"(a) fast mode and vectorbt direct on {args.bars:,} bars"):
        a = fast_vs_vectorbt(args.bars)
    with console.status("(b), (c) against backtesting.py"):
        sp500 = with_bar_identity(arch_daily_bars("sp500"), "SP500", "BACKTEST", "1d")
        b = [
            vs_backtesting("S&P 500 daily", sp500, "1d", "SP500", args.repeat),
            vs_backtesting("synthetic 1m, cents", synthetic(args.bt_bars, 2, cents=True), "1m", "X", 1),
        ]
    with console.status(f"(d) parameter grids on {args.grid_bars:,} bars"):
        d = grid_throughput(args.grid_bars)
    console.print(_table(a, b, d))
    for line in _notes(a, b):
        console.print(line)
    figures: dict[str, Any] = {"fast_vs_vectorbt": a, "vs_backtesting": b, "grid": d, "args": vars(args)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "backtest.json").write_text(json.dumps(figures, indent=2, default=str))
    if not all(c["identical_trades"] for c in b):
        raise SystemExit("trades differ from backtesting.py (see above)")


if __name__ == "__main__":
    main()
