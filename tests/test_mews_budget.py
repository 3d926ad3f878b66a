"""The kiosk never starves the unit's main job (issue 21 item 11).

A real agent (kiosk enabled) against the Mews simulator enforcing the platform's rate
limit; the window is scaled down (40 requests per 4 s instead of 200 per 30 s) so a
kiosk flood spends the budget in about a second. Threads call the kiosk's own client
as the kiosk's lookups would, as fast as they can, while a Printer command travels.
The bound compares two measurements of the same run: the print's latency under the
flood must stay within 2x its latency with the platform idle.
"""

from __future__ import annotations

import pytest

from agent.mews import errors as mews_errors
from agent.mews.ratelimit import RateLimiter


class FakeClock:
    """Monotonic time that moves only when someone sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


# ---- the limiter's lanes, on a fake clock

def test_kiosk_lane_leaves_the_reserved_share_to_device_work():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)  # 200 per 31 s, 40 reserved
    assert limiter.reserved == 40
    for _ in range(160):
        limiter.acquire("t", "kiosk")
        clock.now += 0.01
    assert limiter.available("t", "kiosk") == 0
    assert limiter.available("t", "device") == 40
    for _ in range(40):  # device work goes through at once while the kiosk's share is spent
        assert limiter.acquire("t", "device") == 0.0
    assert clock.sleeps == []


def test_kiosk_request_fails_fast_when_its_slot_is_further_off_than_its_timeout():
    clock = FakeClock()
    limiter = RateLimiter(limit=10, window=30.0, reserved=2, clock=clock, sleep=clock.sleep)
    for _ in range(8):
        limiter.acquire("t", "kiosk")
    clock.now += 10.0
    with pytest.raises(mews_errors.BudgetSpent) as caught:
        limiter.acquire("t", "kiosk", max_wait=15.0)  # the first slot frees at +30 s: 20 s away
    assert isinstance(caught.value, mews_errors.RateLimited)
    assert caught.value.retry_after == pytest.approx(20.0)
    assert clock.sleeps == []  # it failed without sleeping
    clock.now += 8.0
    assert limiter.acquire("t", "kiosk", max_wait=15.0) == pytest.approx(12.0)  # 12 s is within the timeout


def test_after_a_429_device_work_waits_what_the_platform_asked_and_the_kiosk_longer():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    limiter.refused("t", 2.0)
    assert limiter.acquire("t", "device") == pytest.approx(2.0)  # no longer than Retry-After
    assert limiter.acquire("t", "kiosk") == pytest.approx(2.0)  # resumes 4 s after the 429: device first
    limiter.refused("t", None)  # no Retry-After: the device's callers back off themselves
    assert limiter.acquire("t", "device") == 0.0
    assert limiter.acquire("t", "kiosk") == pytest.approx(1.0)


def test_lanes_and_reserve_are_checked():
    with pytest.raises(ValueError):
        RateLimiter(limit=10, reserved=10)
    with pytest.raises(ValueError):
        RateLimiter().acquire("t", "guest")

