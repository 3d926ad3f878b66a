"""Client-side sliding-window limiter and error mapping, on a fake clock (no network)."""

import threading

import pytest

from agent.mews import errors
from agent.mews.ratelimit import RateLimiter


class FakeClock:
    """Monotonic time that moves only when someone sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_limiter_lets_200_through_then_blocks_until_the_oldest_leaves_the_window():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    for i in range(200):
        assert limiter.acquire("token-A") == 0.0
        clock.now += 0.01  # 200 requests spread over 2 s
    assert limiter.available("token-A") == 0
    waited = limiter.acquire("token-A")
    # the first request was at t=1000.0; it leaves the 30 s window (plus the 1 s arrival margin) at 1031.0
    assert clock.now == pytest.approx(1031.0)
    assert waited == pytest.approx(31.0 - 2.0)
    assert clock.sleeps == [pytest.approx(29.0)]


def test_limiter_window_slides_rather_than_resetting():
    clock = FakeClock()
    limiter = RateLimiter(limit=3, window=10.0, clock=clock, sleep=clock.sleep)
    for t in (0.0, 4.0, 8.0):
        clock.now = 1000.0 + t
        limiter.acquire("k")
    clock.now = 1009.0
    assert limiter.available("k") == 0
    limiter.acquire("k")  # waits for the t=0 request to expire at 1010
    assert clock.now == pytest.approx(1010.0)
    clock.now = 1013.0
    assert limiter.available("k") == 0  # t=4, t=8 and t=10 are still inside (1003, 1013]
    clock.now = 1014.0
    assert limiter.available("k") == 1


def test_limiter_counts_each_token_separately():
    clock = FakeClock()
    limiter = RateLimiter(limit=2, window=30.0, clock=clock, sleep=clock.sleep)
    limiter.acquire("old-token")
    limiter.acquire("old-token")
    assert limiter.acquire("new-token") == 0.0  # a fresh sign-in has its own budget
    assert limiter.available("old-token") == 0 and limiter.available("new-token") == 1
    assert clock.sleeps == []


def test_limiter_is_safe_across_threads():
    clock = FakeClock()
    lock = threading.Lock()

    def sleep(seconds):
        with lock:
            clock.now += seconds

    limiter = RateLimiter(limit=50, window=30.0, clock=clock, sleep=sleep)
    threads = [threading.Thread(target=lambda: [limiter.acquire("t") for _ in range(25)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 100 requests at a limit of 50 per 30 s: time must have moved by at least one window
    assert clock.now - 1000.0 >= 30.0


def test_limiter_rejects_nonsense_settings():
    with pytest.raises(ValueError):
        RateLimiter(limit=0)
    with pytest.raises(ValueError):
        RateLimiter(window=0)


@pytest.mark.parametrize("status,cls", [
    (400, errors.BadRequest), (401, errors.Unauthorized), (403, errors.Forbidden), (404, errors.NotFound),
    (408, errors.Retryable), (409, errors.Conflict), (413, errors.PayloadTooLarge), (429, errors.RateLimited),
    (500, errors.Retryable), (503, errors.Retryable), (418, errors.BadRequest), (302, errors.InvalidResponse),
])
def test_status_maps_to_error_class(status, cls):
    e = errors.from_status(status, "the message", "req-1", retry_after="7")
    assert type(e) is cls
    assert (e.status, e.request_id, str(e)) == (status, "req-1", "the message")
    assert e.describe() == f"{cls.__name__}: the message (Request-Id req-1)"


def test_retryable_flags_and_hierarchy():
    assert errors.Retryable("x").retryable and errors.RateLimited("x").retryable
    assert not errors.Forbidden("x").retryable and not errors.BadRequest("x").retryable
    assert issubclass(errors.Displaced, errors.Unauthorized)
    assert issubclass(errors.PayloadTooLarge, errors.BadRequest)
    assert issubclass(errors.CardNumberNotObfuscated, ValueError)


@pytest.mark.parametrize("header,expected", [
    ("7", 7.0), ("0.5", 0.5), ("-3", None), (None, None), ("soon", None), ("nan", None), ("inf", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", None),  # a date in the past: back off as if none was given (never hammer)
])
def test_retry_after_header(header, expected):
    e = errors.from_status(429, "slow down", None, retry_after=header)
    assert e.retry_after == expected


def test_retry_after_http_date_in_the_future():
    assert errors.parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == pytest.approx(30.0)


def test_error_messages_are_redacted():
    from agent.runtime.logs import add_secret

    add_secret("SUPER-SECRET-TOKEN-XYZ")
    e = errors.from_status(400, "bad token SUPER-SECRET-TOKEN-XYZ given", None)
    assert "SUPER-SECRET-TOKEN-XYZ" not in str(e) and "SUPER-SECRET-TOKEN-XYZ" not in e.describe()
