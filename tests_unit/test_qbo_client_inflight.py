"""The client tells its rate limiter when each attempt is over, so a limiter can count the
requests in flight (Intuit's 10 at once per company)."""
import requests

from qbo import QBOClient, TransientError
from qbo.testing import fake_session


class CountingLimiter:
    def __init__(self):
        self.in_flight = 0
        self.peak = 0
        self.events = []

    def acquire(self, kind):
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self.events.append(("acquire", kind))

    def release(self):
        self.in_flight -= 1
        self.events.append(("release",))


def test_every_attempt_is_released_answered_or_not():
    session, _transport = fake_session(requests.ConnectionError("x"), (503, {"Fault": {"Error": [
        {"Message": "m", "Detail": "d", "code": "10000"}], "type": "SystemFault"}}), (200, {"Item": {"Id": "1"}}))
    limiter = CountingLimiter()
    client = QBOClient("9130", "https://quickbooks.api.intuit.com", "token", session=session, rate_limiter=limiter,
                       sleep=lambda s: None)
    assert client.read("Item", "1") == {"Id": "1"}
    assert limiter.events == [("acquire", "request"), ("release",)] * 3
    assert limiter.in_flight == 0 and limiter.peak == 1


def test_a_limiter_without_release_still_works():
    class Old:
        def acquire(self, kind):
            pass
    session, _transport = fake_session(requests.Timeout("slow"))
    client = QBOClient("9130", "https://quickbooks.api.intuit.com", "token", session=session, rate_limiter=Old(),
                       sleep=lambda s: None, max_retries=0)
    try:
        client.read("Item", "1")
    except TransientError as exc:
        assert exc.code == "timeout"
    else:
        raise AssertionError("a timeout is a TransientError")
