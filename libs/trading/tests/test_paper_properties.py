"""Properties of the paper fill model over random bars and orders."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from kestrel_trading.domain import Bar, Side
from kestrel_trading.instruments import Instrument
from kestrel_trading.orders import Order, OrderType
from kestrel_trading.paper import PaperConfig, simulate

D = Decimal
MIN = 60_000_000_000
INSTRUMENT = Instrument("X", D("0.01"), D("0.001"), D("0.001"), D(1000), D(0))


@st.composite
def bars(draw: st.DrawFn) -> list[Bar]:
    out = []
    for i in range(draw(st.integers(min_value=1, max_value=8))):
        a, b, c, d = (draw(st.decimals(min_value=D(50), max_value=D(150), places=2)) for _ in range(4))
        o, cl = a, b
        hi, lo = max(a, b, c, d), min(a, b, c, d)
        vol = draw(st.decimals(min_value=D(0), max_value=D(100), places=3))
        out.append(Bar(i * MIN, (i + 1) * MIN, o, hi, lo, cl, vol))
    return out


@st.composite
def orders(draw: st.DrawFn) -> Order:
    side = draw(st.sampled_from(list(Side)))
    qty = draw(st.decimals(min_value=D("0.001"), max_value=D(20), places=3))
    if draw(st.booleans()):
        return Order("o", "X", side, OrderType.MARKET, qty)
    price = draw(st.decimals(min_value=D(50), max_value=D(150), places=2))
    return Order("o", "X", side, OrderType.LIMIT, qty, limit_price=price)


configs = st.builds(
    PaperConfig,
    slippage_bps=st.decimals(min_value=D(0), max_value=D(50), places=1),
    taker_fee_bps=st.decimals(min_value=D(0), max_value=D(20), places=1),
    maker_fee_bps=st.decimals(min_value=D(0), max_value=D(20), places=1),
    max_volume_share=st.none() | st.decimals(min_value=D("0.01"), max_value=D(1), places=2),
    expire_after_bars=st.none() | st.integers(min_value=1, max_value=5),
)


@settings(max_examples=300, deadline=None)
@given(bars=bars(), order=orders(), config=configs, decided_after=st.integers(min_value=0, max_value=8))
def test_fills_respect_time_filters_and_the_order(
    bars: list[Bar], order: Order, config: PaperConfig, decided_after: int
) -> None:
    submitted = decided_after * MIN  # the close of bar decided_after - 1
    final, fills = simulate(order, submitted, bars, INSTRUMENT, config)
    by_open = {b.ts_open_ns: b for b in bars}
    assert final.filled_quantity == sum((f.quantity for f in fills), D(0)) <= order.quantity
    assert len({f.fill_id for f in fills}) == len(fills)
    for f in fills:
        bar = by_open[int(f.fill_id.rsplit(":", 1)[1])]
        assert bar.ts_open_ns >= submitted  # no look-ahead: never on or before the decision bar
        assert f.price % INSTRUMENT.tick_size == 0
        assert f.quantity % INSTRUMENT.step_size == 0
        assert f.fee >= 0
        if order.order_type is OrderType.MARKET:
            assert f.ts_ns == bar.ts_open_ns
            # slippage and rounding never flatter the trader
            assert (f.price >= bar.open) if order.side is Side.BUY else (f.price <= bar.open)
        else:
            assert order.limit_price is not None
            assert (
                (f.price <= order.limit_price) if order.side is Side.BUY else (f.price >= order.limit_price)
            )
            assert (bar.low < f.price) if order.side is Side.BUY else (bar.high > f.price)
        if config.max_volume_share is not None:
            assert f.quantity <= bar.volume * config.max_volume_share
