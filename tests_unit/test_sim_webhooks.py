"""The simulator's webhooks (both formats, signature, batching, retry) and the page actions of a
QuickBooks user (edit, receive payment, void, delete, merge) that fire them and show in CDC."""
import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from simulator import CA_REALM, US_REALM
from simulator.webhooks import sign

VERIFIER = "verifier-token-123"


class Receiver:
    """A tiny HTTP endpoint that records deliveries; `fail` answers 500 that many times first."""

    def __init__(self, fail=0):
        self.bodies, self.fail = [], fail
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.bodies.append((body, self.headers.get("intuit-signature")))
                status = 500 if owner.fail > 0 else 200
                owner.fail -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/qbo/webhook" % self.server.server_address[1]

    def events(self):
        return [json.loads(body) for body, _sig in self.bodies]


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.server.shutdown()


def post_form(sim, path, **form):
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(sim.url + path, data=data, method="POST")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    try:
        return opener.open(request)
    except urllib.error.HTTPError as exc:
        return exc


def new_invoice(us_api, amount=100):
    answer = us_api.create("Invoice", {"CustomerRef": {"value": "1"}, "Line": [
        {"DetailType": "SalesItemLineDetail", "Amount": amount,
         "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "TaxCodeRef": {"value": "NON"}}}]})
    assert answer.status == 200, answer
    return answer.json["Invoice"]


def test_cloudevents_signed_and_batched(sim, us_api, receiver):
    sim.webhooks.configure(receiver.url, VERIFIER, "cloudevents", auto=False)
    inv = new_invoice(us_api)
    us_api.create("Customer", {"DisplayName": "Hook Co"})
    assert sim.webhooks.flush() == [200]
    (body, signature), = receiver.bodies
    expected = base64.b64encode(hmac.new(VERIFIER.encode(), body, hashlib.sha256).digest()).decode()
    assert signature == expected == sign(VERIFIER, body)
    events = json.loads(body)
    assert [e["type"] for e in events] == ["qbo.invoice.created.v1", "qbo.customer.created.v1"]
    assert events[0]["intuitentityid"] == inv["Id"] and events[0]["intuitaccountid"] == US_REALM
    assert events[0]["specversion"] == "1.0" and events[0]["id"].endswith("-Invoice-" + inv["Id"])
    assert len({e["id"] for e in events}) == 2


def test_legacy_format_groups_by_realm(sim, us_api, ca_api, receiver):
    sim.webhooks.configure(receiver.url, VERIFIER, "legacy", auto=False)
    us_api.create("Customer", {"DisplayName": "Legacy US"})
    ca_api.create("Customer", {"DisplayName": "Legacy CA"})
    sim.webhooks.flush()
    payload, = receiver.events()
    realms = {n["realmId"]: n["dataChangeEvent"]["entities"] for n in payload["eventNotifications"]}
    assert set(realms) == {US_REALM, CA_REALM}
    assert realms[US_REALM][0]["name"] == "Customer" and realms[US_REALM][0]["operation"] == "Create"


def test_failed_delivery_retried_with_backoff_same_events(sim, us_api):
    rec = Receiver(fail=2)
    try:
        sim.webhooks.configure(rec.url, VERIFIER, auto=False)
        us_api.create("Customer", {"DisplayName": "Retry Co"})
        assert sim.webhooks.flush(force=False) == [500]
        assert sim.webhooks.flush(force=False) == []          # not due yet: backoff
        assert sim.webhooks.flush(force=True) == [500]
        assert sim.webhooks.flush(force=True) == [200]
        first, second, third = rec.bodies
        assert first == second == third                       # same body, same event ids
        attempts = [d["attempt"] for d in sim.webhooks.settings()["deliveries"]]
        assert attempts == [1, 2, 3]
    finally:
        rec.server.shutdown()


def test_background_delivery_batches_a_burst(sim, us_api, receiver):
    sim.webhooks.configure(receiver.url, VERIFIER, window=0.3, auto=True)
    for i in range(5):
        us_api.create("Customer", {"DisplayName": "Burst %d" % i})
    deadline = time.monotonic() + 5
    while sum(len(e) for e in receiver.events()) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sum(len(e) for e in receiver.events()) == 5
    assert len(receiver.bodies) <= 2                           # batched, not one POST per change


def test_page_payment_void_delete_fire_webhooks_and_cdc(sim, us_api, receiver):
    sim.webhooks.configure(receiver.url, VERIFIER, auto=False)
    inv = new_invoice(us_api, 250)
    page = urllib.request.urlopen(sim.url + "/company/%s/invoice/%s" % (US_REALM, inv["Id"])).read().decode()
    assert "Record payment" in page and "/pay" in page
    answer = post_form(sim, "/company/%s/invoice/%s/pay" % (US_REALM, inv["Id"]), amount="100")
    assert answer.status == 303
    stored = sim.companies[US_REALM].data["Invoice"][inv["Id"]]
    assert stored["Balance"] == 150 and int(stored["SyncToken"]) > int(inv["SyncToken"])
    assert any(l["TxnType"] == "Payment" for l in stored["LinkedTxn"])
    since = inv["MetaData"]["CreateTime"]
    cdc = us_api.get("cdc", entities="Invoice,Payment", changedSince=since).json["CDCResponse"][0]["QueryResponse"]
    assert {e for part in cdc for e in part if e in ("Invoice", "Payment")} == {"Invoice", "Payment"}
    voided, deleted = new_invoice(us_api, 10), new_invoice(us_api, 20)
    assert post_form(sim, "/company/%s/invoice/%s/void" % (US_REALM, voided["Id"])).status == 303
    assert post_form(sim, "/company/%s/invoice/%s/delete" % (US_REALM, deleted["Id"])).status == 303
    assert sim.companies[US_REALM].data["Invoice"][voided["Id"]]["TotalAmt"] == 0
    assert deleted["Id"] not in sim.companies[US_REALM].data["Invoice"]
    sim.webhooks.flush()
    types = [(e["type"], e["intuitentityid"]) for batch in receiver.events() for e in batch]
    assert ("qbo.payment.created.v1", types[1][1]) == types[1]
    assert ("qbo.invoice.voided.v1", voided["Id"]) in types
    assert ("qbo.invoice.deleted.v1", deleted["Id"]) in types
    rows = us_api.get("cdc", entities="Invoice", changedSince=since).json["CDCResponse"][0]["QueryResponse"][0]
    assert {"Id": deleted["Id"], "status": "Deleted"}.items() <= next(
        r for r in rows["Invoice"] if r["Id"] == deleted["Id"]).items()


def test_page_edit_customer_fires_update(sim, us_api, receiver):
    sim.webhooks.configure(receiver.url, VERIFIER, auto=False)
    answer = post_form(sim, "/company/%s/customer/1/edit" % US_REALM, DisplayName="Amy's Birds",
                       Email="amy@example.com", Phone="555-0100")
    assert answer.status == 303
    cust = sim.companies[US_REALM].data["Customer"]["1"]
    assert cust["DisplayName"] == "Amy's Birds" and cust["PrimaryEmailAddr"]["Address"] == "amy@example.com"
    assert cust["SyncToken"] == "1"
    sim.webhooks.flush()
    event, = receiver.events()[0]
    assert event["type"] == "qbo.customer.updated.v1" and event["intuitentityid"] == "1"


def test_page_merge_customers(sim, us_api, receiver):
    sim.webhooks.configure(receiver.url, VERIFIER, auto=False)
    drop = us_api.create("Customer", {"DisplayName": "Dup Amy"}).json["Customer"]
    inv = us_api.create("Invoice", {"CustomerRef": {"value": drop["Id"]}, "Line": [
        {"DetailType": "SalesItemLineDetail", "Amount": 40,
         "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]}).json["Invoice"]
    sim.webhooks.flush()
    receiver.bodies.clear()
    answer = post_form(sim, "/company/%s/customer/%s/merge" % (US_REALM, drop["Id"]), into="1")
    assert answer.status == 303 and answer.headers["Location"].endswith("/customer/1")
    company = sim.companies[US_REALM]
    assert drop["Id"] not in company.data["Customer"]
    assert company.data["Invoice"][inv["Id"]]["CustomerRef"]["value"] == "1"
    assert company.data["Customer"]["1"]["Balance"] == 40
    sim.webhooks.flush()
    event, = receiver.events()[0]
    assert event["type"] == "qbo.customer.merged.v1"
    assert event["intuitentityid"] == "1" and event["data"] == {"deletedid": drop["Id"]}
    rows = us_api.get("cdc", entities="Customer", changedSince=drop["MetaData"]["CreateTime"]).json
    customers = rows["CDCResponse"][0]["QueryResponse"][0]["Customer"]
    assert any(r["Id"] == drop["Id"] and r.get("status") == "Deleted" for r in customers)


def test_admin_configures_and_flushes(sim, us_api, receiver):
    body = json.dumps({"url": receiver.url, "verifier": VERIFIER, "format": "legacy", "auto": False}).encode()
    request = urllib.request.Request(sim.url + "/admin/webhooks", data=body, method="POST")
    settings = json.loads(urllib.request.urlopen(request).read())
    assert settings["format"] == "legacy" and settings["auto"] is False
    us_api.create("Customer", {"DisplayName": "Admin Hook"})
    request = urllib.request.Request(sim.url + "/admin/webhooks/flush", data=b"{}", method="POST")
    assert json.loads(urllib.request.urlopen(request).read()) == {"statuses": [200]}
