"""Errors, document endpoints, OAuth details and Intuit's 2025-2026 changes (issue 12, points 4 and 5)."""
import base64
import re

import pytest
import requests

from simulator import CA_REALM, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, US_REALM, Simulator
from simulator.__main__ import build_parser
from simulator.client import SimClient
from simulator.metering import month_of

BASIC = "Basic " + base64.b64encode(("%s:%s" % (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)).encode()).decode()


def ok(answer, entity):
    assert answer.status == 200, answer
    return answer.json[entity]


def invoice(**extra):
    body = {"CustomerRef": {"value": "1"},
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 100, "Description": "Design (work)",
                      "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "TaxCodeRef": {"value": "NON"}}}]}
    body.update(extra)
    return body


def raw_get(sim, us_api, path, accept="application/pdf, application/json", **params):
    return requests.get(us_api.url(path, **params), timeout=10,
                        headers={"Authorization": "Bearer " + us_api.token, "Accept": accept})


# ----- errors and paths ------------------------------------------------------------------------------------------
def test_non_numeric_id_answers_2030(us_api):
    for path in ("customer/abc", "invoice/1x", "item/-1"):
        answer = us_api.get(path)
        assert answer.status == 400 and answer.fault_code == "2030", path
        assert answer.json["Fault"]["Error"][0]["Message"] == "Invalid ID"
    assert us_api.get("taxcode/TAX").status == 200           # the US pseudo codes are not numbers
    assert us_api.get("customer/999").fault_code == "610"


def test_unsupported_paths_answer_400(us_api):
    for method, path in (("GET", "customer/1/5"), ("GET", "invoice/1/json"), ("GET", "customer/1/pdf"),
                         ("GET", "invoice/1/pdf/2"), ("POST", "customer/1"), ("POST", "invoice/1/pdf"),
                         ("GET", "query/x"), ("POST", "customer/1/send")):
        answer = us_api.call(method, path, {} if method == "POST" else None)
        assert answer.status == 400 and answer.json["Fault"], (method, path)
        assert "Customer" not in answer.json and "Invoice" not in answer.json


def test_invoice_estimate_credit_memo_pdf(sim, us_api):
    inv = ok(us_api.create("Invoice", invoice(DocNumber="PDF-1")), "Invoice")
    answer = raw_get(sim, us_api, "invoice/%s/pdf" % inv["Id"])
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/pdf"
    data = answer.content
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
    assert b"INVOICE PDF-1" in data and b"Amy's Bird Sanctuary" in data and b"Design \\(work\\)" in data
    xref = int(re.search(rb"startxref\n(\d+)", data).group(1))
    assert data[xref:xref + 4] == b"xref"
    for entity in ("Estimate", "CreditMemo"):
        rec = ok(us_api.create(entity, invoice()), entity)
        answer = raw_get(sim, us_api, "%s/%s/pdf" % (entity.lower(), rec["Id"]))
        assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    assert raw_get(sim, us_api, "invoice/9999/pdf").status_code == 400
    refused = raw_get(sim, us_api, "invoice/%s/pdf" % inv["Id"], accept="application/json")
    assert refused.status_code == 400 and refused.json()["Fault"]
    assert sim.counters(US_REALM)["read"] >= 4


def test_many_lines_make_several_pdf_pages(sim, us_api):
    lines = [dict(invoice()["Line"][0], Amount=n) for n in range(1, 80)]
    inv = ok(us_api.create("Invoice", invoice(Line=lines)), "Invoice")
    data = raw_get(sim, us_api, "invoice/%s/pdf" % inv["Id"]).content
    assert int(re.search(rb"/Count (\d+)", data).group(1)) >= 2


def test_send_marks_the_invoice_sent(sim, us_api):
    inv = ok(us_api.create("Invoice", invoice()), "Invoice")
    sent = ok(us_api.call("POST", "invoice/%s/send" % inv["Id"], "", content_type="application/octet-stream",
                          sendTo="ap@example.com"), "Invoice")
    assert sent["EmailStatus"] == "EmailSent" and sent["BillEmail"]["Address"] == "ap@example.com"
    assert sent["DeliveryInfo"]["DeliveryType"] == "Email" and sent["DeliveryInfo"]["DeliveryTime"]
    assert sent["SyncToken"] == "1"
    assert ok(us_api.read("Invoice", inv["Id"]), "Invoice")["EmailStatus"] == "EmailSent"
    again = ok(us_api.call("POST", "invoice/%s/send" % inv["Id"], ""), "Invoice")   # BillEmail is used
    assert again["BillEmail"]["Address"] == "ap@example.com" and again["SyncToken"] == "2"
    bare = ok(us_api.create("Invoice", invoice()), "Invoice")
    assert us_api.call("POST", "invoice/%s/send" % bare["Id"], "").fault_code == "2020"
    assert us_api.call("POST", "invoice/%s/send" % bare["Id"], "", sendTo="not-an-address").status == 400
    est = ok(us_api.create("Estimate", invoice()), "Estimate")
    assert ok(us_api.call("POST", "estimate/%s/send" % est["Id"], "", sendTo="x@example.com"),
              "Estimate")["EmailStatus"] == "EmailSent"
    assert sim.counters(US_REALM)["send"] == 3


def test_python_quickbooks_pdf_and_send(sim, monkeypatch):
    pytest.importorskip("quickbooks")
    from quickbooks import QuickBooks
    from quickbooks.objects.invoice import Invoice
    from intuitlib.client import AuthClient
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    tokens = sim.issue_tokens(US_REALM)
    auth = AuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, "http://localhost:8069/qbo/oauth/callback",
                      environment=sim.discovery_url, access_token=tokens["access_token"],
                      refresh_token=tokens["refresh_token"], realm_id=US_REALM)
    qb = QuickBooks(auth_client=auth, refresh_token=tokens["refresh_token"], company_id=US_REALM, minorversion=75)
    qb.api_url_v3 = sim.api_base
    inv = Invoice.from_json(SimClient(sim.url, US_REALM, tokens["access_token"]).create(
        "Invoice", invoice()).json["Invoice"])
    assert inv.download_pdf(qb=qb).startswith(b"%PDF")
    answer = inv.send(qb=qb, send_to="books@example.com")
    assert answer["Invoice"]["EmailStatus"] == "EmailSent"


def test_revoke_takes_json_or_form(sim):
    url = sim.url + "/v2/oauth2/tokens/revoke"
    first = sim.issue_tokens(US_REALM)
    answer = requests.post(url, json={"token": first["refresh_token"]}, headers={"Authorization": BASIC}, timeout=5)
    assert answer.status_code == 200
    second = sim.issue_tokens(US_REALM)
    answer = requests.post(url, data={"token": second["refresh_token"], "token_type_hint": "refresh_token"},
                           headers={"Authorization": BASIC}, timeout=5)
    assert answer.status_code == 200
    for tokens in (first, second):
        assert SimClient(sim.url, US_REALM, tokens["access_token"]).read("Customer", "1").status == 401
    assert requests.post(url, data={"token": "nope"}, headers={"Authorization": BASIC}, timeout=5).status_code == 400


def test_401_body_time_in_epoch_milliseconds_and_status(sim):
    answer = SimClient(sim.url, US_REALM, "bogus").read("Customer", "1")
    assert answer.status == 401
    body = answer.json
    assert isinstance(body["time"], int) and abs(body["time"] / 1000 - sim.clock.now()) < 60
    assert "status" in body and body["status"] is None and body["fault"]["error"][0]["code"] == "3200"


def test_batch_requestid_limits(us_api):
    items = [{"bId": "b1", "operation": "create", "Customer": {"DisplayName": "Batch One"}},
             {"bId": "bb2", "operation": "create", "Customer": {"DisplayName": "Batch Two"}}]
    answer = us_api.post("batch", {"BatchItemRequest": items}, requestid="r" * 32)
    assert answer.status == 200
    assert [("Fault" in i) for i in answer.json["BatchItemResponse"]] == [False, False]
    items = [{"bId": "c1", "operation": "create", "Customer": {"DisplayName": "Batch Three"}},
             {"bId": "cc2", "operation": "create", "Customer": {"DisplayName": "Batch Four"}}]
    answer = us_api.post("batch", {"BatchItemRequest": items}, requestid="s" * 36)   # 36 + 2 ok, 36 + 3 ok
    assert all("Customer" in i for i in answer.json["BatchItemResponse"])
    items = [{"bId": "d" * 14, "operation": "create", "Customer": {"DisplayName": "Batch Five"}},
             {"bId": "d" * 15, "operation": "create", "Customer": {"DisplayName": "Batch Six"}}]
    answer = us_api.post("batch", {"BatchItemRequest": items}, requestid="t" * 36)
    by_bid = {i["bId"]: i for i in answer.json["BatchItemResponse"]}
    assert "Customer" in by_bid["d" * 14]
    assert by_bid["d" * 15]["Fault"]["Error"][0]["code"] == "6000"
    too_long = us_api.post("batch", {"BatchItemRequest": items}, requestid="u" * 37)
    assert too_long.status == 400 and too_long.fault_code == "6000"
    assert us_api.query("SELECT COUNT(*) FROM Customer WHERE DisplayName = 'Batch Six'").json[
        "QueryResponse"]["totalCount"] == 0


# ----- 2025-2026 -----------------------------------------------------------------------------------------------
def test_minorversion_below_75_or_missing_is_served_as_75(sim, us_api):
    us_api.read("Customer", "1")
    us_api.call("GET", "customer/1", minorversion=4)
    us_api.call("GET", "customer/1", minorversion=None)
    SimClient(sim.url, US_REALM, us_api.token, minorversion=None).read("Customer", "1")
    served = [(e["minorversion_asked"], e["minorversion"]) for e in sim.request_log()]
    assert served == [("75", 75), ("4", 75), (None, 75), (None, 75)]


def test_metering_core_and_coreplus_per_realm_and_month(sim, us_api, ca_api):
    us_api.read("Customer", "1")
    us_api.query("SELECT * FROM Customer")
    us_api.get("cdc", entities="Customer", changedSince="2020-01-01T00:00:00-08:00")
    ok(us_api.create("Customer", {"DisplayName": "Metered"}), "Customer")
    us_api.post("batch", {"BatchItemRequest": [
        {"bId": "1", "Query": "SELECT * FROM Item"},
        {"bId": "2", "operation": "create", "Customer": {"DisplayName": "Metered Two"}},
        {"bId": "3", "operation": "create", "Customer": {"DisplayName": "Metered Three"}}]})
    ca_api.read("Customer", "1")
    usage = sim.usage(US_REALM)
    (month, counts), = usage.items()
    assert month == month_of(sim.clock.now()) and re.fullmatch(r"\d{4}-\d{2}", month)
    assert counts == {"core": 3, "coreplus": 4}     # the batch: one query item, two write items
    assert sim.usage()["realms"][US_REALM] == usage
    assert requests.get(sim.url + "/admin/usage", params={"realm_id": US_REALM}, timeout=5).json() == usage
    assert sim.usage(CA_REALM) == {month: {"core": 0, "coreplus": 1}}
    sim.advance(40 * 86400)   # next month
    us_api_token = sim.issue_tokens(US_REALM)["access_token"]
    SimClient(sim.url, US_REALM, us_api_token).read("Customer", "1")
    assert len(sim.usage(US_REALM)) == 2


def test_coreplus_allowance_answers_429_but_writes_go_on(sim, us_api):
    answer = requests.post(sim.url + "/admin/usage", json={"coreplus_allowance": 2}, timeout=5)
    assert answer.status_code == 200
    assert us_api.read("Customer", "1").status == 200
    assert us_api.query("SELECT * FROM Item").status == 200
    spent = us_api.read("Customer", "1")
    assert spent.status == 429 and spent.fault_code == "3001" and int(spent.headers["Retry-After"]) >= 1
    assert us_api.create("Customer", {"DisplayName": "Still Writing"}).status == 200
    batch = us_api.post("batch", {"BatchItemRequest": [
        {"bId": "q", "Query": "SELECT * FROM Item"},
        {"bId": "w", "operation": "create", "Customer": {"DisplayName": "Batch Writing"}}]})
    by_bid = {i["bId"]: i for i in batch.json["BatchItemResponse"]}
    assert by_bid["q"]["Fault"]["Error"][0]["code"] == "3001" and "Customer" in by_bid["w"]
    assert list(sim.usage(US_REALM).values()) == [{"core": 2, "coreplus": 2}]
    sim.advance(32 * 86400)   # a new month starts a new allowance
    fresh = SimClient(sim.url, US_REALM, sim.issue_tokens(US_REALM)["access_token"])
    assert fresh.read("Customer", "1").status == 200


def test_coreplus_allowance_from_the_command_line():
    args = build_parser().parse_args(["--coreplus-allowance", "500000"])
    assert args.coreplus_allowance == 500000
    sim = Simulator(coreplus_allowance=args.coreplus_allowance)
    assert sim.usage()["allowance"] == 500000
    sim.reset()
    assert sim.usage()["allowance"] == 500000


def test_refresh_token_hard_expiry(sim):
    url = sim.url + "/oauth2/v1/tokens/bearer"
    tokens = sim.issue_tokens(US_REALM)
    headers = {"Authorization": BASIC, "x-include-refresh-token-hard-expires-in": "true"}
    answer = requests.post(url, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                           headers=headers, timeout=5).json()
    five_years = 5 * 365 * 86400
    assert five_years - 120 <= answer["x_refresh_token_hard_expires_in"] <= five_years
    assert "x_refresh_token_lifetime_expires_in" not in answer   # the field's name in Intuit's SDKs is the hard one
    assert answer["expires_in"] == 3600 and answer["x_refresh_token_expires_in"] <= 8726400
    plain = requests.post(url, data={"grant_type": "refresh_token", "refresh_token": answer["refresh_token"]},
                          headers={"Authorization": BASIC}, timeout=5).json()
    assert "x_refresh_token_hard_expires_in" not in plain
    admin = requests.post(sim.url + "/admin/refresh_hard_expiry", json={"realm_id": US_REALM, "seconds": 3600},
                          timeout=5)
    assert admin.status_code == 200
    near = requests.post(url, data={"grant_type": "refresh_token", "refresh_token": plain["refresh_token"]},
                         headers=headers, timeout=5).json()
    assert 3500 <= near["x_refresh_token_hard_expires_in"] <= 3600
    assert near["x_refresh_token_expires_in"] <= 3600
    sim.advance(3601)
    dead = requests.post(url, data={"grant_type": "refresh_token", "refresh_token": near["refresh_token"]},
                         headers=headers, timeout=5)
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
    fresh = sim.issue_tokens(US_REALM)      # only a new consent works
    renewed = requests.post(url, data={"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"]},
                            headers=headers, timeout=5)
    assert renewed.status_code == 200 and renewed.json()["x_refresh_token_hard_expires_in"] > 3600
