"""QBOClient against a scripted fake transport (cases a server cannot force)."""
import logging

import pytest
import requests

from qbo import (AuthenticationError, BatchItemResult, ConnectionConfigError, DuplicateNameError,
                 QBOClient, QBOError, RevokedError, ThrottledError, TransientError)
from qbo.testing import fake_session

REALM = "9130"
BASE = "https://quickbooks.api.intuit.com"
XML_429 = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="2024-01-01T00:00:00">'
           '<Fault type="SERVICE"><Error code="3001">'
           '<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>'
           '<Detail>The request limit was reached.  Try again later</Detail>'
           '</Error></Fault></IntuitResponse>')
FAULT_401 = {"warnings": None, "intuitObject": None, "fault": {"error": [{
    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
    "detail": "Token expired: SECRET-ACCESS-TOKEN-1", "code": "3200", "element": None}],
    "type": "AUTHENTICATION"}, "time": "2024-01-01T00:00:00"}


def fault(code, message="msg", detail="detail", element=None):
    return {"Fault": {"Error": [{"Message": message, "Detail": detail, "code": str(code),
                                 "element": element}], "type": "ValidationFault"}}


def make_client(*answers, **kwargs):
    session, transport = fake_session(*answers)
    delays = []
    kwargs.setdefault("sleep", delays.append)
    client = QBOClient(REALM, BASE, kwargs.pop("access_token", "SECRET-ACCESS-TOKEN-1"),
                       session=session, **kwargs)
    client.random.seed(1)
    return client, transport, delays


def test_read_sends_minorversion_timeout_and_bearer():
    client, transport, _ = make_client((200, {"Customer": {"Id": "1", "SyncToken": "0"}}),
                                       timeout=12)
    assert client.read("Customer", "1") == {"Id": "1", "SyncToken": "0"}
    req = transport.requests[0]
    assert req.method == "GET"
    assert req.url.startswith(BASE + "/v3/company/9130/customer/1?")
    assert transport.params()["minorversion"] == "75"
    assert "requestid" not in transport.params()
    assert req.headers["Authorization"] == "Bearer SECRET-ACCESS-TOKEN-1"
    assert req.headers["Accept"] == "application/json"
    assert transport.kwargs[0]["timeout"] == 12


def test_create_generates_requestid_and_reuses_it_on_retry():
    client, transport, delays = make_client(
        requests.ConnectionError("dropped"), requests.Timeout("slow"),
        (503, "Service Unavailable"), (200, {"Customer": {"Id": "7"}}))
    assert client.create("Customer", {"DisplayName": "A"}) == {"Id": "7"}
    ids = {transport.params(i)["requestid"] for i in range(4)}
    assert len(ids) == 1 and len(ids.pop()) == 36
    assert len(delays) == 3
    assert all(req.method == "POST" and "/customer?" in req.url for req in transport.requests)
    # two logical writes get two ids
    transport.add((200, {"Customer": {"Id": "8"}}))
    client.create("Customer", {"DisplayName": "B"})
    assert transport.params()["requestid"] not in ids


def test_caller_requestid_used_and_long_one_hashed_deterministically():
    client, transport, _ = make_client((200, {"Customer": {}}), (200, {"Customer": {}}),
                                       (200, {"Customer": {}}))
    client.create("Customer", {}, requestid="odoo-res.partner-42-v3")
    assert transport.params()["requestid"] == "odoo-res.partner-42-v3"
    long_id = "x" * 80
    client.create("Customer", {}, requestid=long_id)
    first = transport.params()["requestid"]
    client.create("Customer", {}, requestid=long_id)
    assert first == transport.params()["requestid"] and len(first) == 50


def test_backoff_grows_with_jitter_then_transient_error():
    client, transport, delays = make_client(*[(500, fault(10000, "An application error"))] * 4,
                                            max_retries=3, backoff_base=1.0, backoff_cap=3.0)
    with pytest.raises(TransientError) as info:
        client.read("Customer", "1")
    assert info.value.code == "10000" and info.value.status == 500 and info.value.transient
    assert len(transport.requests) == 4
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0 and 1.5 <= delays[2] <= 3.0


def test_xml_429_with_retry_after_is_honoured():
    client, transport, delays = make_client((429, XML_429, {"Retry-After": "7"}),
                                            (200, {"QueryResponse": {}}))
    assert client.query("select * from Customer") == {}
    assert delays == [7.0]
    assert transport.requests[0].headers["Content-Type"] == "application/text"
    assert transport.requests[0].body == b"select * from Customer"


def test_throttle_exhausted_and_max_retry_after():
    client, _, delays = make_client((429, XML_429, {"Retry-After": "120", "intuit_tid": "tid-9"}),
                                    max_retry_after=30)
    with pytest.raises(ThrottledError) as info:
        client.read("Item", "1")
    assert delays == [] and info.value.retry_after == 120.0 and info.value.code == "3001"
    assert info.value.intuit_tid == "tid-9" and info.value.transient
    client, _, delays = make_client(*[(429, {"Fault": {"Error": [{"code": "3001", "Message":
                                    "message=ThrottleExceeded"}]}})] * 3, max_retries=2)
    with pytest.raises(ThrottledError):
        client.read("Item", "1")
    assert len(delays) == 2


def test_403_throttle_body_is_throttled():
    client, _, delays = make_client((403, XML_429), (200, {"Item": {"Id": "1"}}))
    assert client.read("Item", "1") == {"Id": "1"}
    assert len(delays) == 1


def test_401_refresh_once_then_retry_same_requestid():
    calls = []

    def refresh():
        calls.append(1)
        return "SECRET-ACCESS-TOKEN-2"

    client, transport, delays = make_client((401, FAULT_401), (200, {"Invoice": {"Id": "3"}}),
                                            refresh=refresh)
    assert client.create("Invoice", {"Line": []}, requestid="inv-3") == {"Id": "3"}
    assert calls == [1] and delays == []
    assert transport.requests[1].headers["Authorization"] == "Bearer SECRET-ACCESS-TOKEN-2"
    assert transport.params(0)["requestid"] == transport.params(1)["requestid"] == "inv-3"


def test_second_401_raises_authentication_error_masked():
    client, _, _ = make_client((401, FAULT_401), (401, FAULT_401),
                               refresh=lambda: "SECRET-ACCESS-TOKEN-2")
    with pytest.raises(AuthenticationError) as info:
        client.read("Customer", "1")
    assert not isinstance(info.value, RevokedError)
    assert info.value.code == "3200" and info.value.status == 401
    assert "SECRET-ACCESS-TOKEN" not in str(info.value)
    assert "SECRET-ACCESS-TOKEN" not in info.value.user_message()


def test_401_without_refresh_raises():
    client, transport, _ = make_client((401, FAULT_401))
    with pytest.raises(AuthenticationError):
        client.read("Customer", "1")
    assert len(transport.requests) == 1


def test_no_access_token_refreshes_first():
    client, transport, _ = make_client((200, {"CompanyInfo": {"CompanyName": "X"}}),
                                       access_token=None, refresh=lambda: "SECRET-NEW-TOKEN-3")
    assert client.company_info() == {"CompanyName": "X"}
    assert transport.requests[0].url.startswith(BASE + "/v3/company/9130/companyinfo/9130")
    assert transport.requests[0].headers["Authorization"] == "Bearer SECRET-NEW-TOKEN-3"


def test_validation_fault_not_retried_and_typed():
    client, transport, delays = make_client(
        (400, fault(6240, "Duplicate Name Exists Error", "The name supplied already exists."),
         {"intuit_tid": "1-abc"}))
    with pytest.raises(DuplicateNameError) as info:
        client.create("Customer", {"DisplayName": "A"})
    assert len(transport.requests) == 1 and delays == []
    err = info.value
    assert (err.code, err.status, err.intuit_tid, err.transient) == ("6240", 400, "1-abc", False)
    assert "6240" in err.user_message() and "already exists" in err.user_message()


def test_unreadable_success_body_is_transient_and_retried():
    client, _, delays = make_client((200, "<html>proxy</html>"), (200, {"Item": {"Id": "1"}}))
    assert client.read("Item", "1") == {"Id": "1"}
    assert len(delays) == 1


def test_rate_limiter_and_on_request_called_every_attempt():
    kinds, seen = [], []

    class Limiter:
        def acquire(self, kind):
            kinds.append(kind)

    client, _, _ = make_client(requests.ConnectionError("x"), (200, {"Item": {}}),
                               (200, {"BatchItemResponse": [{"bId": "1", "Item": {}}]}),
                               rate_limiter=Limiter(),
                               on_request=lambda *args: seen.append(args))
    client.read("Item", "1")
    client.batch([{"bId": "1", "operation": "create", "Item": {"Name": "x"}}])
    assert kinds == ["request", "request", "batch"]
    assert [(m, p, s, k) for m, p, s, _e, k in seen] == [
        ("GET", "item/1", None, "request"), ("GET", "item/1", 200, "request"),
        ("POST", "batch", 200, "batch")]


def test_update_delete_void_shapes():
    client, transport, _ = make_client((200, {"Customer": {"Id": "1", "SyncToken": "1"}}),
                                       (200, {"Invoice": {"Id": "2", "status": "Deleted"}}),
                                       (200, {"Invoice": {"Id": "3"}}))
    client.update("Customer", {"Id": "1", "SyncToken": "0", "DisplayName": "B"})
    import json
    assert json.loads(transport.requests[0].body)["sparse"] is True
    assert client.delete("Invoice", "2", "4")["status"] == "Deleted"
    assert transport.params(1)["operation"] == "delete"
    assert json.loads(transport.requests[1].body) == {"Id": "2", "SyncToken": "4"}
    client.void("Invoice", 3, 0)
    assert transport.params(2)["operation"] == "void"
    with pytest.raises(ValueError):
        client.update("Customer", {"Id": "1"})


def test_query_all_pages_until_short_page():
    page = lambda n, start: (200, {"QueryResponse": {"Customer": [{"Id": str(start + i)}
                                                                  for i in range(n)]}})
    client, transport, _ = make_client(page(3, 1), page(3, 4), page(1, 7))
    rows = list(client.query_all("Customer", where="Active = true", page_size=3))
    assert [r["Id"] for r in rows] == [str(i) for i in range(1, 8)]
    assert [r.body.decode() for r in transport.requests] == [
        "SELECT * FROM Customer WHERE Active = true ORDERBY Id STARTPOSITION %d MAXRESULTS 3" % s
        for s in (1, 4, 7)]


def test_count():
    client, transport, _ = make_client((200, {"QueryResponse": {"totalCount": 42}}))
    assert client.count("Invoice", "DocNumber = 'A'") == 42
    assert transport.requests[0].body == b"SELECT COUNT(*) FROM Invoice WHERE DocNumber = 'A'"


def test_batch_chunks_order_and_faults():
    def answer(request):
        import json
        body = json.loads(request.body)["BatchItemRequest"]
        out = []
        for item in reversed(body):  # any order
            if item["bId"] == "b5":
                out.append({"bId": "b5", "Fault": fault(6240)["Fault"]})
            else:
                out.append({"bId": item["bId"], "Customer": {"Id": item["bId"]}})
        return 200, {"BatchItemResponse": out}

    client, transport, _ = make_client(answer, answer, answer)
    items = [{"bId": "b%d" % i, "operation": "create", "Customer": {"DisplayName": str(i)}}
             for i in range(65)]
    results = client.batch(items, requestid="sync-2024-01-01-customers-run-000001")
    assert len(transport.requests) == 3
    assert [len(__import__("json").loads(r.body)["BatchItemRequest"])
            for r in transport.requests] == [30, 30, 5]
    assert [r.bId for r in results] == ["b%d" % i for i in range(65)]
    assert all(isinstance(r, BatchItemResult) for r in results)
    assert isinstance(results[5].error, DuplicateNameError) and not results[5].ok
    assert all(r.ok and r.entity == "Customer" and r.data == {"Id": r.bId}
               for r in results if r.bId != "b5")
    ids = [transport.params(i)["requestid"] for i in range(3)]
    assert len(set(ids)) == 3 and all(len(i) <= 36 for i in ids)
    # deterministic for the same base id
    transport.add(answer, answer, answer)
    client.batch(items, requestid="sync-2024-01-01-customers-run-000001")
    assert [transport.params(i)["requestid"] for i in range(3, 6)] == ids
    transport.add(answer)
    client.batch(items[:2], requestid="short")
    assert transport.params()["requestid"] == "short-0"


def test_batch_chunk_failure_and_missing_answers():
    client, transport, _ = make_client(
        (400, fault(2020, "Required param missing")),
        (200, {"BatchItemResponse": [{"bId": "31", "QueryResponse": {"Item": []}}]}),
        max_retries=0)
    items = [{"Query": "select * from Item"} for _ in range(32)]
    results = client.batch(items)
    assert len(transport.requests) == 2
    assert all(r.error and r.error.code == "2020" for r in results[:30])
    assert results[30].ok and results[30].entity == "QueryResponse"
    assert results[30].data == {"Item": []}
    assert results[31].error.code == "missing" and results[31].error.transient


def test_batch_stops_after_authentication_failure():
    client, transport, _ = make_client((401, FAULT_401))
    results = client.batch([{"Query": "select * from Item"}] * 40)
    assert len(transport.requests) == 1
    assert all(isinstance(r.error, AuthenticationError) for r in results)


def test_batch_rejects_duplicate_bids():
    client, _, _ = make_client()
    with pytest.raises(ValueError):
        client.batch([{"bId": "1", "Query": "x"}, {"bId": "1", "Query": "y"}])


def test_config_errors():
    with pytest.raises(ConnectionConfigError):
        QBOClient("", BASE, "t")
    with pytest.raises(ConnectionConfigError):
        QBOClient(REALM, "quickbooks.api.intuit.com", "t")
    with pytest.raises(ConnectionConfigError):
        QBOClient(REALM, BASE, None)
    client = QBOClient(REALM, BASE + "/v3/", "t")
    assert client.base_url == BASE and isinstance(client.session, requests.Session)


def test_secrets_never_logged(caplog):
    caplog.set_level(logging.DEBUG)
    client, _, _ = make_client((401, FAULT_401), (503, "down"), (401, FAULT_401),
                               refresh=lambda: "SECRET-ACCESS-TOKEN-2")
    with pytest.raises(QBOError) as info:
        client.read("Customer", "1")
    assert "SECRET-ACCESS-TOKEN" not in caplog.text
    assert "SECRET-ACCESS-TOKEN" not in str(info.value)
    assert "SECRET-ACCESS-TOKEN" not in repr(client)


def test_503_retry_after_is_honoured():
    client, _, delays = make_client((503, "<html>busy</html>", {"Retry-After": "4"}),
                                    (200, {"Item": {"Id": "1"}}))
    assert client.read("Item", "1") == {"Id": "1"}
    assert delays == [4.0]
