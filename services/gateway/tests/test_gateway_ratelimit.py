"""Sliding-window counter arithmetic (pure)."""

from __future__ import annotations

import pytest

from kestrel_gateway.ratelimit import decide, window_index


def test_requests_under_the_limit_pass_and_count_down_the_remainder() -> None:
    first = decide(now_s=600.0, window_s=60, limit=3, previous=0, current=0)
    third = decide(now_s=600.0, window_s=60, limit=3, previous=0, current=2)
    assert (first.allowed, first.remaining, first.retry_after_s) == (True, 2, 0)
    assert (third.allowed, third.remaining) == (True, 0)


def test_the_request_over_the_limit_waits_for_its_count_to_slide_out() -> None:
    # 3 of 3 used 15 s into the window: the next window starts in 45 s, and then the 3 requests
    # count (1 - f) each; one more fits when 3 * (1 - f) + 1 <= 3, i.e. f >= 1/3: 20 s later.
    denied = decide(now_s=615.0, window_s=60, limit=3, previous=0, current=3)
    assert (denied.allowed, denied.remaining, denied.retry_after_s) == (False, 0, 65)
    assert decide(now_s=680.0, window_s=60, limit=3, previous=3, current=0).allowed
    assert not decide(now_s=679.0, window_s=60, limit=3, previous=3, current=0).allowed


def test_the_previous_window_weighs_by_the_share_still_inside_the_sliding_window() -> None:
    # 30 s into the window, the previous window's 10 requests count as 5.
    assert decide(now_s=630.0, window_s=60, limit=10, previous=10, current=4).allowed
    denied = decide(now_s=630.0, window_s=60, limit=10, previous=10, current=5)
    assert not denied.allowed
    # 5 + 1 <= 10 needs 10 * (1 - f) <= 4: f >= 0.6, i.e. 36 s into the window, 6 s from now.
    assert denied.retry_after_s == 6


def test_no_double_burst_across_a_window_boundary() -> None:
    # A fixed window would allow 10 more right after the boundary; the sliding one does not.
    assert not decide(now_s=660.5, window_s=60, limit=10, previous=10, current=0).allowed


def test_retry_after_is_at_least_one_second() -> None:
    denied = decide(now_s=659.9, window_s=60, limit=1, previous=0, current=1)
    assert denied.retry_after_s >= 1


def test_window_index_and_argument_checks() -> None:
    assert (window_index(59.9, 60), window_index(60.0, 60)) == (0, 1)
    with pytest.raises(ValueError):
        decide(now_s=0, window_s=60, limit=0, previous=0, current=0)
