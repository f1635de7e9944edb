"""What Intuit changed in 2025-26 and what the recorded sandbox answers show, in the simulator: addresses
without Lat/Long and with ISO 3-letter countries, no Level on top-level customers, accounts with their
currency, updates that change nothing, the realm-wide /batch ceiling, and webhook retries on Intuit's schedule."""
import time

import pytest

from simulator import CA_REALM, DEFAULT_CLIENT_ID, US_REALM, webhooks
from simulator.client import SimClient
from test_sim_api import ok


def test_addresses_answer_iso_countries_and_no_lat_long(us_api, ca_api):
    sent = {"Line1": "1 Main St", "City": "Austin", "Country": "United States", "Lat": "30.26", "Long": "-97.74"}
    cust = ok(us_api.create("Customer", {"DisplayName": "Geo Co", "BillAddr": sent,
                                         "ShipAddr": dict(sent, Country="us")}), "Customer")
    assert cust["BillAddr"]["Country"] == cust["ShipAddr"]["Country"] == "USA"
    assert not {"Lat", "Long"} & (set(cust["BillAddr"]) | set(cust["ShipAddr"]))
    assert ok(us_api.read("Customer", cust["Id"]), "Customer")["BillAddr"] == cust["BillAddr"]
    # written again as the client has it ("US"), nothing changes: compared on codes
    same = ok(us_api.post("customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True,
                                       "BillAddr": dict(sent, Country="US", Id=cust["BillAddr"]["Id"])}), "Customer")
    assert same["SyncToken"] == "0"
    vendor = ok(ca_api.create("Vendor", {"DisplayName": "Maple Co", "BillAddr": {"City": "Ottawa",
                                                                                 "Country": "Canada"}}), "Vendor")
    assert vendor["BillAddr"]["Country"] == "CAN"
    odd = ok(us_api.create("Customer", {"DisplayName": "Odd Co", "BillAddr": {"Country": "Narnia"}}), "Customer")
    assert odd["BillAddr"]["Country"] == "Narnia"          # unknown to ISO 3166: kept as written
    info = ok(us_api.get("companyinfo/%s" % US_REALM), "CompanyInfo")
    assert info["Country"] == "US" and info["CompanyAddr"]["Country"] == info["LegalAddr"]["Country"] == "USA"
    assert ok(ca_api.get("companyinfo/%s" % CA_REALM), "CompanyInfo")["CompanyAddr"]["Country"] == "CAN"
    assert ok(us_api.read("Customer", "1"), "Customer")["BillAddr"]["Country"] == "USA"


def test_top_level_customer_has_no_level(us_api):
    top = ok(us_api.create("Customer", {"DisplayName": "Top Co"}), "Customer")
    assert "Level" not in top and top["Job"] is False
    job = ok(us_api.create("Customer", {"DisplayName": "Job One", "Job": True, "ParentRef": {"value": top["Id"]}}),
             "Customer")
    deeper = ok(us_api.create("Customer", {"DisplayName": "Job Two", "Job": True, "ParentRef": {"value": job["Id"]}}),
                "Customer")
    assert (job["Level"], deeper["Level"]) == (1, 2)
    rows = us_api.query("select * from Customer").json["QueryResponse"]["Customer"]
    assert all(("Level" in c) == c["Job"] for c in rows)


def test_accounts_carry_their_currency(us_api, ca_api):
    for api, code in ((us_api, "USD"), (ca_api, "CAD")):
        rows = api.query("select * from Account where Active in (true, false) maxresults 100")
        accounts = rows.json["QueryResponse"]["Account"]
        assert accounts and all(a["CurrencyRef"]["value"] == code for a in accounts)
    made = ok(us_api.create("Account", {"Name": "Euro Bank", "AccountType": "Bank",
                                        "CurrencyRef": {"value": "EUR"}}), "Account")
    assert made["CurrencyRef"] == {"value": "EUR", "name": "Euro"}
    changed = us_api.post("account", dict(made, CurrencyRef={"value": "USD"}))
    assert changed.fault_code == "6000"                    # read-only once set
    assert ca_api.create("Account", {"Name": "Euro", "AccountType": "Bank",
                                     "CurrencyRef": {"value": "EUR"}}).fault_code == "6000"   # no multicurrency


@pytest.mark.parametrize("realm", [US_REALM, CA_REALM])
@pytest.mark.parametrize("entity", ["Customer", "Vendor", "Employee", "Item", "Account"])
def test_an_update_that_changes_nothing_keeps_the_sync_token(sim, realm, entity):
    api = SimClient(sim.url, realm, sim.issue_tokens(realm)["access_token"])
    rows = sim.entities(realm, entity)
    assert rows
    for row in rows:
        current = ok(api.read(entity, row["Id"]), entity)
        again = api.post(entity.lower(), current)
        assert again.status == 200, (row["Id"], again)
        assert again.json[entity]["SyncToken"] == current["SyncToken"] == "0", (entity, row["Id"])
        assert again.json[entity]["MetaData"] == current["MetaData"]
        sparse = api.post(entity.lower(), {"Id": row["Id"], "SyncToken": "0", "sparse": True})
        assert sparse.json[entity]["SyncToken"] == "0", (entity, row["Id"])


def test_batch_ceiling_per_realm_across_apps_besides_forty_per_app(sim):
    assert sim.limiter.config["realm_batch_per_minute"] == 120 and sim.limiter.config["batch_per_minute"] == 40
    sim.set_limits(batch_per_minute=2, realm_batch_per_minute=3)
    apps = []
    for n in range(3):
        client_id = DEFAULT_CLIENT_ID if n == 0 else "app-%d" % n
        if n:
            sim.register_app(client_id, "secret-%d" % n, [])
        apps.append(SimClient(sim.url, US_REALM, sim.issue_tokens(US_REALM, client_id)["access_token"]))
    batch = {"BatchItemRequest": [{"bId": "1", "Query": "select count(*) from Customer"}]}
    statuses = [apps[0].post("batch", batch).status for _ in range(3)]
    assert statuses == [200, 200, 429]                     # 2 a minute for one app
    assert apps[1].post("batch", batch).status == 200      # another app has its own 2 ...
    refused = apps[2].post("batch", batch)
    assert refused.status == 429 and refused.fault_code == "3001"   # ... but the realm's 3 are spent
    assert int(refused.headers["Retry-After"]) >= 1
    assert apps[2].read("Customer", "1").status == 200     # single requests go on
    other_realm = SimClient(sim.url, CA_REALM, sim.issue_tokens(CA_REALM, "app-2")["access_token"])
    assert other_realm.post("batch", batch).status == 200  # each realm has its own ceiling
    sim.advance(61)
    assert apps[2].post("batch", batch).status == 200


def test_webhook_retries_follow_intuits_schedule_on_the_simulator_clock(sim, us_api):
    sim.webhooks.configure("http://receiver.invalid/hook", "verifier", auto=False)
    us_api.create("Customer", {"DisplayName": "Retry Schedule Co"})
    attempts = []

    def failing(url, body, headers):
        attempts.append(body)
        return 503
    assert sim.webhooks.flush(force=False, send=failing) == [503]
    waits = []
    for expected in (10, 20, 30, 300, 1200, 7200, 14400, 21600, 21600):
        sim.advance(expected - 1)
        assert sim.webhooks.flush(force=False, send=failing) == [], expected
        sim.advance(1)
        assert sim.webhooks.flush(force=False, send=failing) == [503], expected
        waits.append(expected)
    assert waits == list(webhooks.RETRY_DELAYS) + [webhooks.RETRY_EVERY] * 2
    assert len(set(attempts)) == 1 and len(attempts) == 10   # the same body every time
    # given up 3 days after the first attempt: the attempts are those whose wait adds up to 3 days at most
    for _ in range(20):
        sim.advance(webhooks.RETRY_EVERY)
        sim.webhooks.flush(force=False, send=failing)
    assert sim.webhooks.settings()["retrying"] == 0
    elapsed, expected = 0, 1
    while elapsed + webhooks.retry_delay(expected) <= webhooks.GIVE_UP_AFTER:
        elapsed += webhooks.retry_delay(expected)
        expected += 1
    assert len(attempts) == expected == 18


def test_a_webhook_answered_after_three_seconds_is_not_acknowledged(sim, us_api):
    sim.webhooks.configure("http://receiver.invalid/hook", "verifier", auto=False)
    us_api.create("Customer", {"DisplayName": "Slow Receiver Co"})

    def slow(url, body, headers):
        time.sleep(webhooks.ACK_SECONDS + 0.2)
        return 200
    assert sim.webhooks.flush(send=slow) == [None]
    delivery = sim.webhooks.settings()["deliveries"][-1]
    assert delivery["late"] is True and delivery["status"] == 200
    assert sim.webhooks.settings()["retrying"] == 1
    assert sim.webhooks.flush(send=lambda url, body, headers: 200) == [200]
    assert sim.webhooks.settings()["retrying"] == 0 and sim.webhooks.settings()["delivered_events"] == 1
