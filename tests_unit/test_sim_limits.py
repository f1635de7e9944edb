"""Intuit's limits in the simulator: per minute, concurrent, batches per minute, items per batch."""
import threading
import time

from simulator import US_REALM, Simulator
from simulator.client import SimClient


def test_500_per_minute_then_429_with_retry_after(sim, us_api):
    sim.set_limits(per_minute=5)
    statuses = [us_api.read("Customer", "1").status for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    throttled = us_api.read("Customer", "1")
    assert throttled.fault_code == "3001" and int(throttled.headers["Retry-After"]) >= 1
    error = throttled.json["Fault"]["Error"][0]
    assert error["Message"] == "message=ThrottleExceeded; errorCode=003001; statusCode=429"
    assert error["Detail"] == "The request limit was reached.  Try again later"
    sim.advance(61)
    assert us_api.read("Customer", "1").status == 200


def test_default_per_minute_limit_is_500():
    sim = Simulator(port=0, time_scale=1.0).start()
    try:
        api = SimClient(sim.url, US_REALM, sim.issue_tokens(US_REALM)["access_token"])
        statuses = [api.query("select count(*) from Customer").status for _ in range(501)]
        assert statuses.count(200) == 500 and statuses[-1] == 429
    finally:
        sim.stop()


def test_time_scale_shrinks_the_minute():
    sim = Simulator(port=0, time_scale=600.0).start()  # a simulated minute lasts 0.1 s
    try:
        sim.set_limits(per_minute=3)
        api = SimClient(sim.url, US_REALM, sim.issue_tokens(US_REALM)["access_token"])
        assert [api.read("Customer", "1").status for _ in range(4)][-1] == 429

        time.sleep(0.15)
        assert api.read("Customer", "1").status == 200
    finally:
        sim.stop()


def test_ten_requests_at_once(sim, us_api):
    sim.set_faults(US_REALM, latency_ms=400)
    results = []
    barrier = threading.Barrier(12)

    def call():
        api = SimClient(sim.url, US_REALM, us_api.token)
        barrier.wait()
        results.append(api.read("Customer", "1").status)

    threads = [threading.Thread(target=call) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(200) == 10 and results.count(429) == 2


def test_40_batches_per_minute(sim, us_api):
    body = {"BatchItemRequest": [{"bId": "1", "Query": "select * from Term"}]}
    statuses = [us_api.post("batch", body).status for _ in range(41)]
    assert statuses[:40] == [200] * 40 and statuses[40] == 429
    assert us_api.read("Customer", "1").status == 200   # plain requests are still allowed
    sim.advance(60)
    assert us_api.post("batch", body).status == 200


def test_30_items_per_batch(sim, us_api):
    items = [{"bId": str(n), "operation": "create", "Customer": {"DisplayName": "Bulk %d" % n}}
             for n in range(31)]
    too_many = us_api.post("batch", {"BatchItemRequest": items})
    assert too_many.status == 400 and too_many.fault_code == "2000"
    assert not [c for c in sim.entities(US_REALM, "Customer") if c["DisplayName"].startswith("Bulk")]
    answer = us_api.post("batch", {"BatchItemRequest": items[:30]})
    assert answer.status == 200 and len(answer.json["BatchItemResponse"]) == 30
    assert sim.counters(US_REALM)["batch_items"] == 30


def test_injected_throttles_alternate_json_and_xml(sim, us_api):
    sim.set_faults(US_REALM, throttle_rate=1.0, seed=1)
    first, second = us_api.read("Customer", "1"), us_api.read("Customer", "1")
    assert first.status == second.status == 429
    bodies = sorted([first.headers["Content-Type"], second.headers["Content-Type"]])
    assert bodies == ["application/json", "application/xml"]
    xml = first if "xml" in first.headers["Content-Type"] else second
    assert '<Error code="3001">' in xml.text


def test_limits_can_be_switched_off(sim, us_api):
    sim.set_limits(per_minute=2, enabled=False)
    assert {us_api.read("Customer", "1").status for _ in range(5)} == {200}
