"""The book: fills applied once, realized P&L by UTC market day, the equity peak, undo of a batch."""

from __future__ import annotations

from decimal import Decimal

from kestrel_risk.testing import T0
from kestrel_riskengine.book import RiskBook
from kestrel_trading.domain import Fill, Side

DAY = 86_400 * 10**9


def fill(fill_id: str, side: Side, qty: str, price: str, ts: int = T0, fee: str = "0") -> Fill:
    return Fill(fill_id, "c", "ETH", side, Decimal(price), Decimal(qty), Decimal(fee), ts)


def test_a_fill_is_applied_once_by_its_id() -> None:
    book = RiskBook(Decimal(1_000))
    assert book.apply_fill(fill("a", Side.BUY, "2", "100"))
    assert not book.apply_fill(fill("a", Side.BUY, "2", "100"))
    assert (book.position("ETH"), book.cash) == (Decimal(2), Decimal(800))
    assert book.marks["ETH"] == 100  # priced at its fill until a signal marks it


def test_realized_pnl_net_of_fees_is_kept_per_utc_market_day() -> None:
    book = RiskBook(Decimal(1_000))
    book.apply_fill(fill("a", Side.BUY, "2", "100"))
    book.apply_fill(fill("b", Side.SELL, "1", "90", fee="1"))  # -10 realized, 1 fee
    book.apply_fill(fill("c", Side.SELL, "1", "130", ts=T0 + DAY))  # +30 the next day
    assert book.state(T0, kill_switch=False).realized_pnl_today == Decimal(-11)
    assert book.state(T0 + DAY, kill_switch=False).realized_pnl_today == Decimal(30)
    assert book.state(T0 + 2 * DAY, kill_switch=False).realized_pnl_today == 0


def test_the_equity_peak_follows_marks_and_never_falls() -> None:
    book = RiskBook(Decimal(1_000))
    book.apply_fill(fill("a", Side.BUY, "5", "100"))
    book.mark("ETH", Decimal(150))
    book.mark("ETH", Decimal(80))
    state = book.state(T0, kill_switch=True)
    assert (state.equity, state.equity_peak, state.kill_switch) == (Decimal(900), Decimal(1_250), True)
    assert state.unrealized_pnl == Decimal(-100)


def test_restore_undoes_everything_since_the_snapshot() -> None:
    book = RiskBook(Decimal(1_000))
    saved = book.snapshot()
    book.apply_fill(fill("a", Side.BUY, "5", "100"))
    book.mark("ETH", Decimal(300))
    book.record_order(T0)
    book.restore(saved)
    assert (book.position("ETH"), book.cash, book.equity_peak) == (Decimal(0), Decimal(1_000), Decimal(1_000))
    assert book.marks == {} and list(book.order_times) == [] and not book.knows_fill("a")


def test_order_times_keep_only_the_last_minute_of_market_time() -> None:
    book = RiskBook(Decimal(1_000))
    for seconds in (0, 30, 61, 90):
        book.record_order(T0 + seconds * 10**9)
    assert list(book.order_times) == [T0 + 61 * 10**9, T0 + 90 * 10**9]


def test_sizing_equity_takes_other_symbols_at_their_mark_of_an_earlier_bar_time() -> None:
    book = RiskBook(Decimal(1_000))
    book.apply_fill(fill("a", Side.BUY, "2", "100"))  # ETH
    book.apply_fill(Fill("b", "c", "BTC", Side.BUY, Decimal(200), Decimal(1), Decimal(0), T0))
    assert book.sizing_equity("BTC", T0 + DAY) == book.equity() == Decimal(1_000)  # fill prices only
    book.mark("ETH", Decimal(110), T0 + DAY)
    book.mark("ETH", Decimal(120), T0 + 2 * DAY)
    book.mark("BTC", Decimal(300), T0 + 2 * DAY)
    # cash 600; BTC at its own latest mark; ETH at its mark before the decision's time.
    assert book.sizing_equity("BTC", T0 + 2 * DAY) == 600 + 300 + 2 * 110
    assert book.sizing_equity("BTC", T0 + 3 * DAY) == 600 + 300 + 2 * 120
    # BTC has no mark before then: its nearest one stands in.
    assert book.sizing_equity("ETH", T0 + 2 * DAY) == 600 + 2 * 120 + 300
    assert book.equity() == 600 + 300 + 2 * 120  # everything else reads the latest marks
    saved = book.snapshot()
    book.mark("ETH", Decimal(500), T0 + 3 * DAY)
    book.restore(saved)
    assert book.sizing_equity("BTC", T0 + 4 * DAY) == 600 + 300 + 2 * 120
