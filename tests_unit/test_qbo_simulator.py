"""QBOClient and QBOAuth against the local QBO simulator (real HTTP, real faults)."""
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

from qbo import (AuthenticationError, DuplicateDocNumberError, DuplicateNameError,
                 InvalidReferenceError, NotFoundError, QBOAuth, QBOClient, QueryError,
                 RevokedError, StaleObjectError, ThrottledError, TransientError, ValidationError,
                 in_list, quote)

simulator = pytest.importorskip("simulator")
US_REALM, CA_REALM = simulator.US_REALM, simulator.CA_REALM
REDIRECT = "http://localhost:8069/qbo/oauth/callback"

# the ``sim`` fixture (reset per test) comes from tests_unit/conftest.py


class RecordingAdapter(HTTPAdapter):
    """A real HTTP adapter that remembers every request it sent (even unanswered ones)."""

    def __init__(self):
        super().__init__()
        self.sent = []

    def send(self, request, **kwargs):
        self.sent.append(request)
        return super().send(request, **kwargs)

    def params(self, index):
        query = parse_qs(urlsplit(self.sent[index].url).query)
        return {key: values[-1] for key, values in query.items()}


def make_client(sim, realm=US_REALM, advance=True, heal=False, **kwargs):
    """A client on ``sim``; its sleep records the delay and moves the simulator clock.

    ``heal``: the first sleep clears the injected faults (so only the first attempt fails).
    """
    session = requests.Session()
    adapter = RecordingAdapter()
    session.mount("http://", adapter)
    delays = []

    def sleep(seconds):
        delays.append(seconds)
        if heal:
            sim.set_faults(realm)
        if advance:
            sim.advance(seconds)

    kwargs.setdefault("sleep", sleep)
    kwargs.setdefault("timeout", 5)
    client = QBOClient(realm, sim.url, sim.issue_tokens(realm)["access_token"], session=session,
                       **kwargs)
    client.adapter = adapter
    return client, delays


def customers_named(sim, realm, name):
    return [c for c in sim.entities(realm, "Customer") if c.get("DisplayName") == name]


def sales_line(item="1", amount=75, **detail):
    return {"DetailType": "SalesItemLineDetail", "Amount": amount,
            "SalesItemLineDetail": dict({"ItemRef": {"value": item}, "Qty": 1,
                                         "UnitPrice": amount}, **detail)}


# ---------------------------------------------------------------- plumbing


def test_company_info_preferences_minorversion(sim):
    client, _ = make_client(sim)
    assert client.company_info()["CompanyName"]
    assert "TaxPrefs" in client.preferences()
    assert all(client.adapter.params(i)["minorversion"] == "75"
               for i in range(len(client.adapter.sent)))


def test_throttle_retry_after_honoured(sim):
    sim.set_limits(per_minute=3)
    seen = []
    client, delays = make_client(sim)
    client.session.hooks["response"].append(
        lambda r, *a, **k: seen.append((r.status_code, r.headers.get("Retry-After"), r.text)))
    for _ in range(5):
        client.read("Customer", "1")
    throttles = [s for s in seen if s[0] == 429]
    assert throttles, "the simulator never throttled"
    assert delays[0] == float(throttles[0][1])


def test_throttle_injected_xml_body_understood(sim):
    sim.set_faults(US_REALM, throttle_rate=1.0, seed=3)
    bodies = []
    client, delays = make_client(sim, max_retries=2, advance=False)
    client.session.hooks["response"].append(lambda r, *a, **k: bodies.append(r.text))
    with pytest.raises(ThrottledError) as info:
        client.read("Customer", "1")
    assert info.value.code == "3001" and info.value.status == 429
    assert len(bodies) == 3 and delays == [1.0, 1.0]  # every 429 understood, Retry-After used
    assert any(b.lstrip().startswith("<IntuitResponse") or b.lstrip().startswith("<?xml")
               for b in bodies), "no XML throttle body seen"
    assert any(b.lstrip().startswith("{") for b in bodies), "no JSON throttle body seen"
    assert "ThrottleExceeded" in info.value.message and info.value.retry_after == 1.0
    sim.set_faults(US_REALM, throttle_rate=0.0)
    assert client.read("Customer", "1")["Id"] == "1"


def test_max_retry_after_raises_instead_of_sleeping(sim):
    sim.set_faults(US_REALM, throttle_rate=1.0, seed=4)
    client, delays = make_client(sim, max_retry_after=0.001)
    with pytest.raises(ThrottledError) as info:
        client.query("select * from Customer")
    assert info.value.retry_after == 1.0 and delays == []


def test_lost_response_retried_with_same_requestid_one_record(sim):
    sim.set_faults(US_REALM, lost_rate=1.0, seed=5)
    client, delays = make_client(sim, timeout=2, heal=True)
    created = client.create("Customer", {"DisplayName": "Lost And Found"})
    assert created["DisplayName"] == "Lost And Found"
    assert len(delays) >= 1
    ids = {client.adapter.params(i)["requestid"] for i in range(len(client.adapter.sent))}
    assert len(ids) == 1 and len(client.adapter.sent) >= 2
    assert len(customers_named(sim, US_REALM, "Lost And Found")) == 1


def test_5xx_retried_with_backoff_then_transient(sim):
    sim.set_faults(US_REALM, error_rate=1.0, seed=6)
    calls = []
    client, delays = make_client(sim, max_retries=3, backoff_base=1.0, backoff_cap=8.0,
                                 on_request=lambda *a: calls.append(a))
    with pytest.raises(TransientError) as info:
        client.read("Customer", "1")
    assert info.value.transient and info.value.status >= 500
    assert len(calls) == 4 and len(delays) == 3
    # a 503 carries Retry-After: 1 (used as is); a 500 SystemFault gets backoff with jitter
    bounds = [(0.5, 1.0), (1.0, 2.0), (2.0, 4.0)]
    assert all(d == 1.0 or low <= d <= high for d, (low, high) in zip(delays, bounds))


def test_timeouts_retried(sim):
    sim.set_faults(US_REALM, timeout_rate=1.0, timeout_s=1.5, seed=7)
    client, delays = make_client(sim, timeout=0.5, heal=True)
    assert client.read("Customer", "1")["Id"] == "1"
    assert len(delays) == 1


def test_refresh_once_on_401(sim):
    refreshes = []

    def refresh():
        refreshes.append(1)
        return sim.issue_tokens(US_REALM)["access_token"]

    client, _ = make_client(sim, refresh=refresh)
    sim.advance(3700)  # past the access token's hour
    assert client.read("Customer", "1")["Id"] == "1"
    assert refreshes == [1]
    statuses = []
    client.on_request = lambda m, p, status, e, k: statuses.append(status)
    client.refresh = lambda: refreshes.append(2) or "not-a-valid-token"
    sim.advance(3700)
    with pytest.raises(AuthenticationError) as info:
        client.read("Customer", "1")
    assert info.value.code == "3200" and info.value.status == 401
    assert refreshes == [1, 2] and statuses == [401, 401]


def test_401_without_refresh(sim):
    client = QBOClient(US_REALM, sim.url, "garbage-token", timeout=5)
    with pytest.raises(AuthenticationError) as info:
        client.read("Customer", "1")
    assert info.value.code == "3200" and "3200" in info.value.user_message()


# ---------------------------------------------------------------- typed faults


def test_duplicate_name_6240(sim):
    client, _ = make_client(sim)
    with pytest.raises(DuplicateNameError) as info:
        client.create("Customer", {"DisplayName": "Emily Platt"})  # an employee's name
    assert info.value.code == "6240" and info.value.status == 400
    assert info.value.intuit_tid
    assert "6240" in info.value.user_message()


def test_duplicate_doc_number_6140(sim):
    client, _ = make_client(sim)
    invoice = {"CustomerRef": {"value": "1"}, "DocNumber": "DUP-1", "Line": [sales_line()]}
    client.create("Invoice", invoice)
    with pytest.raises(DuplicateDocNumberError) as info:
        client.create("Invoice", invoice)
    assert info.value.code == "6140"


def test_stale_object_5010(sim):
    client, _ = make_client(sim)
    customer = client.read("Customer", "2")
    client.update("Customer", {"Id": "2", "SyncToken": customer["SyncToken"], "Notes": "a"})
    with pytest.raises(StaleObjectError) as info:
        client.update("Customer", {"Id": "2", "SyncToken": customer["SyncToken"], "Notes": "b"})
    assert info.value.code == "5010" and info.value.transient


def test_not_found_610_and_invalid_reference_2500(sim):
    client, _ = make_client(sim)
    with pytest.raises(NotFoundError) as info:  # customer 3 is inactive
        client.create("Invoice", {"CustomerRef": {"value": "3"}, "Line": [sales_line()]})
    assert info.value.code == "610"
    with pytest.raises(InvalidReferenceError) as info:
        client.create("Invoice", {"CustomerRef": {"value": "99999"}, "Line": [sales_line()]})
    assert info.value.code == "2500"


def test_required_2020_query_4000_business_6000(sim):
    client, _ = make_client(sim)
    with pytest.raises(ValidationError) as info:
        client.create("Invoice", {"CustomerRef": {"value": "1"}})
    assert info.value.code == "2020"
    with pytest.raises(QueryError) as info:
        client.query("SELEKT nonsense")
    assert info.value.code == "4000"
    ca, _ = make_client(sim, realm=CA_REALM)
    with pytest.raises(ValidationError) as info:
        ca.create("Invoice", {"CustomerRef": {"value": "1"}, "Line": [sales_line()]})
    assert info.value.code == "6000" and "GST" in info.value.user_message()


# ---------------------------------------------------------------- queries


@pytest.mark.parametrize("name", ["O'Brien", "50% off", "back\\slash", "trailing\\", "it's \\'x"])
def test_quoting_round_trips(sim, name):
    client, _ = make_client(sim)
    created = client.create("Customer", {"DisplayName": name})
    rows = client.query_rows("SELECT * FROM Customer WHERE DisplayName = %s" % quote(name))
    assert [r["Id"] for r in rows] == [created["Id"]]
    rows = client.query_rows("SELECT * FROM Customer WHERE DisplayName IN %s"
                             % in_list([name, "Amy's Bird Sanctuary"]))
    assert sorted(r["DisplayName"] for r in rows) == sorted([name, "Amy's Bird Sanctuary"])


def test_paging_past_1000_rows(sim):
    sim.set_limits(enabled=False)
    client, _ = make_client(sim)
    before = client.count("Customer")
    items = [{"bId": str(i), "operation": "create", "Customer": {"DisplayName": "Pager %04d" % i}}
             for i in range(1205)]
    results = client.batch(items, requestid="paging-test")
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    rows = list(client.query_all("Customer"))
    assert len(rows) == before + 1205 == client.count("Customer")
    assert len({r["Id"] for r in rows}) == len(rows)
    paged = list(client.query_all("Customer", where="DisplayName LIKE 'Pager%'"))
    assert len(paged) == 1205 == client.count("Customer", "DisplayName LIKE 'Pager%'")


def test_batch_splitting_order_and_item_fault(sim):
    calls = []
    client, _ = make_client(sim, on_request=lambda m, p, s, e, k: calls.append((p, k)))
    items = [{"bId": "c%d" % i, "operation": "create",
              "Customer": {"DisplayName": "Batch %d" % i}} for i in range(65)]
    items[40]["Customer"]["DisplayName"] = "Emily Platt"  # 6240
    items.append({"bId": "q", "Query": "SELECT * FROM Item WHERE Name = 'Pump'"})
    results = client.batch(items)
    assert calls == [("batch", "batch")] * 3
    assert [r.bId for r in results] == [i["bId"] for i in items]
    assert isinstance(results[40].error, DuplicateNameError)
    assert all(r.ok for i, r in enumerate(results) if i != 40)
    assert results[0].entity == "Customer" and results[0].data["DisplayName"] == "Batch 0"
    assert results[-1].data["Item"][0]["Name"] == "Pump"
    ids = [client.adapter.params(i)["requestid"] for i in range(3)]
    assert len(set(ids)) == 3 and all(len(i) <= 36 for i in ids)


def test_batch_requestid_replay_creates_nothing_new(sim):
    client, _ = make_client(sim)
    items = [{"bId": str(i), "operation": "create", "Customer": {"DisplayName": "Replay %d" % i}}
             for i in range(35)]
    first = client.batch(items, requestid="replay-base")
    again = client.batch(items, requestid="replay-base")
    assert [r.data["Id"] for r in first] == [r.data["Id"] for r in again]
    assert len([c for c in sim.entities(US_REALM, "Customer")
                if c["DisplayName"].startswith("Replay ")]) == 35


# ---------------------------------------------------------------- OAuth


def consent(sim, auth, realm=US_REALM, state="st-1"):
    """Walk the simulator's consent page: returns the redirect's code and realmId."""
    url = auth.authorization_url(state)
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    form_action = re.search(r'<form[^>]*action="([^"]*)"', page.text)
    target = requests.compat.urljoin(url, form_action.group(1).replace("&amp;", "&")) \
        if form_action and form_action.group(1) else url
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page.text))
    fields.update(realmId=realm, realm_id=realm, realm=realm)
    answer = requests.post(target, data=fields, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text[:300]
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == [state] and query["realmId"] == [realm]
    return query["code"][0]


def make_auth(sim, **kwargs):
    return QBOAuth(simulator.DEFAULT_CLIENT_ID, simulator.DEFAULT_CLIENT_SECRET, REDIRECT,
                   sim.discovery_url, **kwargs)


def test_oauth_exchange_and_rotating_refresh(sim, caplog):
    caplog.set_level(logging.DEBUG)
    persisted = []
    auth = make_auth(sim, on_tokens=persisted.append)
    assert auth.api_base_url == sim.url
    code = consent(sim, auth)
    tokens = auth.exchange_code(code, US_REALM)
    assert persisted == [tokens] and tokens.refresh_expires_at
    refresh_tokens = {tokens.refresh_token}
    for _ in range(2):
        tokens = auth.refresh(tokens.refresh_token)
        assert persisted[-1] is tokens
        refresh_tokens.add(tokens.refresh_token)
    assert len(refresh_tokens) == 3 and len(persisted) == 3
    client = QBOClient(US_REALM, auth.api_base_url, tokens.access_token, timeout=5)
    assert client.read("Customer", "1")["Id"] == "1"
    for secret in [code, simulator.DEFAULT_CLIENT_SECRET, tokens.access_token] + list(refresh_tokens):
        assert secret not in caplog.text
    auth.revoke(tokens.refresh_token)


def test_revoked_connection_raises_revoked_error(sim, caplog):
    caplog.set_level(logging.DEBUG)
    auth = make_auth(sim)
    tokens = auth.exchange_code(consent(sim, auth), US_REALM)
    sim.revoke_all(US_REALM)
    with pytest.raises(RevokedError) as info:
        auth.refresh(tokens.refresh_token)
    err = info.value
    assert err.code == "invalid_grant" and err.status == 400 and not err.transient
    assert "reconnect" in err.user_message().lower()
    for text in (str(err), err.user_message(), caplog.text):
        assert tokens.refresh_token not in text
        assert simulator.DEFAULT_CLIENT_SECRET not in text


def test_invalid_client_secret(sim):
    auth = QBOAuth(simulator.DEFAULT_CLIENT_ID, "wrong-secret-value", REDIRECT, sim.discovery_url)
    with pytest.raises(AuthenticationError) as info:
        auth.refresh(sim.issue_tokens(US_REALM)["refresh_token"])
    assert not isinstance(info.value, RevokedError)
    assert "wrong-secret-value" not in str(info.value)
