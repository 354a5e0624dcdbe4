"""What validation says about bars: outcomes, flags, gaps, and the report that adds them up (pure)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum

from kestrel_ingestion.domain import NS_PER_SECOND, RawBar, UnreadableRow


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    INVALID = "invalid"  # inconsistent OHLC, negative volume, non-positive price, unknown timeframe
    DUPLICATE = "duplicate"  # same ts_open and values as a bar already accepted
    CONFLICTING_DUPLICATE = "conflicting duplicate"  # same ts_open, different values
    OUT_OF_ORDER = "out of order"  # earlier than the last accepted bar of its series
    MISALIGNED = "misaligned"  # intraday ts_open not on the timeframe's grid
    NOT_CLOSED = "not closed"  # a still-forming bar: held back, never published


class BarFlag(IntEnum):
    """Quality marks on an ACCEPTED bar; the numbers are those of the proto's kestrel.v1.BarFlag."""

    OUTLIER = 1  # BAR_FLAG_OUTLIER
    AFTER_GAP = 2  # BAR_FLAG_AFTER_GAP

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")


@dataclass(frozen=True, slots=True)
class Gap:
    """`missing` session bars with ts_open strictly between `from_ts` and `to_ts` (both real bars)."""

    symbol: str
    timeframe: str
    from_ts: int  # ts_open of the last bar before the gap
    to_ts: int  # ts_open of the first bar after it
    missing: int


@dataclass(frozen=True, slots=True)
class Verdict:
    bar: RawBar
    outcome: Outcome
    reason: str = ""  # short and stable, for counting: "low > open", "values differ"
    detail: str = ""  # the specific values, for people
    flags: frozenset[BarFlag] = frozenset()
    gap: Gap | None = None

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


@dataclass(slots=True)
class SeriesSummary:
    accepted: int = 0
    first_ts: int | None = None
    last_ts: int | None = None


def iso(ts_ns: int, timeframe: str = "") -> str:
    """A bar time for people: the date alone for daily and weekly bars, else UTC to the second."""
    moment = datetime.fromtimestamp(ts_ns // NS_PER_SECOND, tz=UTC)
    return moment.strftime("%Y-%m-%d" if timeframe in ("1d", "1w") else "%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ValidationReport:
    """Counts by outcome and reason, every gap, and a bounded number of examples of what was refused."""

    max_examples: int = 20
    max_gaps: int = 10_000
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    reasons: Counter[tuple[Outcome, str]] = field(default_factory=Counter)
    flags: Counter[BarFlag] = field(default_factory=Counter)
    gaps: list[Gap] = field(default_factory=list)
    gap_count: int = 0
    missing_bars: int = 0
    rejected_examples: list[Verdict] = field(default_factory=list)
    unreadable: list[UnreadableRow] = field(default_factory=list)
    unreadable_count: int = 0
    series: dict[tuple[str, str], SeriesSummary] = field(default_factory=dict)

    def add(self, verdict: Verdict) -> None:
        self.outcomes[verdict.outcome] += 1
        if verdict.flags:
            self.flags.update(verdict.flags)
        if verdict.reason:
            self.reasons[(verdict.outcome, verdict.reason)] += 1
        if verdict.gap is not None:
            self.gap_count += 1
            self.missing_bars += verdict.gap.missing
            if len(self.gaps) < self.max_gaps:
                self.gaps.append(verdict.gap)
        bar = verdict.bar
        if verdict.accepted:
            summary = self.series.setdefault((bar.symbol, bar.timeframe), SeriesSummary())
            summary.accepted += 1
            summary.first_ts = bar.ts_open if summary.first_ts is None else min(summary.first_ts, bar.ts_open)
            summary.last_ts = bar.ts_open if summary.last_ts is None else max(summary.last_ts, bar.ts_open)
        elif verdict.outcome is not Outcome.NOT_CLOSED and len(self.rejected_examples) < self.max_examples:
            self.rejected_examples.append(verdict)

    def add_unreadable(self, row: UnreadableRow) -> None:
        self.unreadable_count += 1
        if len(self.unreadable) < self.max_examples:
            self.unreadable.append(row)

    @property
    def total(self) -> int:
        """Bars seen (unreadable rows are not bars and are counted apart)."""
        return sum(self.outcomes.values())

    @property
    def accepted(self) -> int:
        return self.outcomes[Outcome.ACCEPTED]

    @property
    def rejected(self) -> int:
        return self.total - self.accepted - self.outcomes[Outcome.NOT_CLOSED]

    @property
    def clean(self) -> bool:
        """Nothing refused, unreadable, missing or flagged."""
        return self.rejected == 0 and not self.unreadable_count and not self.gap_count and not self.flags

    def _more(self, total: int, kept: int) -> str:
        shown = min(kept, self.max_examples)
        return f" (first {shown:,} of {total:,})" if total > shown else ""

    def render(self) -> str:
        """The report as plain text for a terminal or a log."""
        lines = [
            f"{self.total:,} bars: {self.accepted:,} accepted, {self.rejected:,} rejected, "
            f"{self.outcomes[Outcome.NOT_CLOSED]:,} held back (not closed); "
            f"{self.unreadable_count:,} unreadable rows; {self.gap_count:,} gaps "
            f"({self.missing_bars:,} missing bars)"
        ]
        for outcome in Outcome:
            if not self.outcomes[outcome]:
                continue
            why = ", ".join(
                f"{reason}: {n:,}" for (o, reason), n in sorted(self.reasons.items()) if o is outcome
            )
            if outcome is Outcome.ACCEPTED:
                why = ", ".join(f"{flag.label}: {n:,}" for flag, n in sorted(self.flags.items()))
            lines.append(f"  {outcome:<22} {self.outcomes[outcome]:>9,}  {why}".rstrip())
        if self.series:
            lines.append("series:")
            lines += [
                f"  {symbol} {timeframe}: {s.accepted:,} accepted, "
                f"{iso(s.first_ts or 0, timeframe)} .. {iso(s.last_ts or 0, timeframe)}"
                for (symbol, timeframe), s in sorted(self.series.items())
            ]
        if self.gap_count:
            lines.append(
                f"gaps (missing bars are reported, never filled){self._more(self.gap_count, len(self.gaps))}:"
            )
            lines += [
                f"  {g.symbol} {g.timeframe}: {g.missing:,} missing between "
                f"{iso(g.from_ts, g.timeframe)} and {iso(g.to_ts, g.timeframe)}"
                for g in self.gaps[: self.max_examples]
            ]
        if self.rejected_examples:
            lines.append(f"rejected{self._more(self.rejected, len(self.rejected_examples))}:")
            lines += [
                f"  {v.bar.symbol} {v.bar.timeframe} {iso(v.bar.ts_open, v.bar.timeframe)}: {v.outcome}"
                f"{' - ' + v.detail if v.detail else ''}"
                for v in self.rejected_examples
            ]
        if self.unreadable:
            lines.append(f"unreadable rows{self._more(self.unreadable_count, len(self.unreadable))}:")
            lines += [f"  {row.location}: {row.reason}" for row in self.unreadable]
        return "\n".join(lines)
