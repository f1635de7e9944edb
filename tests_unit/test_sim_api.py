"""The simulator's accounting API: CRUD, faults, totals, queries, batch, idempotency."""
import json
import threading
import time
import urllib.error

import pytest

from simulator import CA_REALM, US_REALM, Simulator
from simulator.client import SimClient


def line(item="1", amount=None, qty=None, price=None, tax=None):
    detail = {"ItemRef": {"value": item}}
    if qty is not None:
        detail["Qty"] = qty
    if price is not None:
        detail["UnitPrice"] = price
    if tax is not None:
        detail["TaxCodeRef"] = {"value": tax}
    result = {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}
    if amount is not None:
        result["Amount"] = amount
    return result


def invoice(customer="1", lines=None, **extra):
    body = {"CustomerRef": {"value": customer}, "Line": lines or [line(amount=100, tax="NON")]}
    body.update(extra)
    return body


def ok(answer, entity):
    assert answer.status == 200, answer
    return answer.json[entity]


# ----- create / read / update ------------------------------------------------------------------------------
def test_customer_create_read_sparse_and_full_update(us_api):
    cust = ok(us_api.create("Customer", {"GivenName": "Jane", "FamilyName": "Doe",
                                         "PrimaryEmailAddr": {"Address": "jane@example.com"}}), "Customer")
    assert cust["DisplayName"] == "Jane Doe" and cust["SyncToken"] == "0" and isinstance(cust["Id"], str)
    assert cust["MetaData"]["CreateTime"] and cust["domain"] == "QBO"
    read = ok(us_api.read("Customer", cust["Id"]), "Customer")
    assert read == cust
    sparse = ok(us_api.post("customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True,
                                         "CompanyName": "Doe Inc"}), "Customer")
    assert sparse["SyncToken"] == "1" and sparse["CompanyName"] == "Doe Inc"
    assert sparse["PrimaryEmailAddr"]["Address"] == "jane@example.com"
    full = ok(us_api.post("customer", {"Id": cust["Id"], "SyncToken": "1", "DisplayName": "Jane Doe"}),
              "Customer")
    assert full["SyncToken"] == "2" and "PrimaryEmailAddr" not in full and "CompanyName" not in full


def test_sub_customer_fully_qualified_name(us_api):
    job = ok(us_api.create("Customer", {"DisplayName": "Pier Shop", "Job": True, "ParentRef": {"value": "2"},
                                        "BillWithParent": True}), "Customer")
    assert job["FullyQualifiedName"] == "Bill's Windsurf Shop:Pier Shop" and job["Level"] == 1
    assert job["Job"] is True and job["BillWithParent"] is True
    top = ok(us_api.read("Customer", "2"), "Customer")
    ok(us_api.post("customer", {"Id": "2", "SyncToken": top["SyncToken"], "sparse": True,
                                "DisplayName": "Bill's Surf"}), "Customer")
    assert ok(us_api.read("Customer", job["Id"]), "Customer")["FullyQualifiedName"] == "Bill's Surf:Pier Shop"
    back = us_api.post("customer", {"Id": job["Id"], "SyncToken": "0", "DisplayName": "Pier Shop"})
    assert back.status == 400 and back.fault_code == "6000"


def test_name_uniqueness_follows_renames_across_name_families(us_api):
    """Names are found through an index, not a scan: a rename frees the old name and takes the new
    one, a parent's rename moves its sub-customers' names, and vendors share the customers' names."""
    first = ok(us_api.create("Customer", {"DisplayName": "Index Alpha"}), "Customer")
    assert us_api.create("Customer", {"DisplayName": " index alpha "}).fault_code == "6240"
    ok(us_api.post("customer", {"Id": first["Id"], "SyncToken": "0", "sparse": True, "DisplayName": "Index Beta"}),
       "Customer")
    ok(us_api.create("Customer", {"DisplayName": "Index Alpha"}), "Customer")      # free again
    assert us_api.create("Vendor", {"DisplayName": "Index Beta"}).fault_code == "6240"
    job = ok(us_api.create("Customer", {"DisplayName": "Shop", "Job": True, "ParentRef": {"value": first["Id"]}}),
             "Customer")
    assert job["FullyQualifiedName"] == "Index Beta:Shop"
    ok(us_api.post("customer", {"Id": first["Id"], "SyncToken": "1", "sparse": True, "DisplayName": "Index Gamma"}),
       "Customer")
    assert us_api.create("Customer", {"DisplayName": "Shop", "Job": True,
                                      "ParentRef": {"value": first["Id"]}}).fault_code == "6240"
    assert ok(us_api.read("Customer", job["Id"]), "Customer")["FullyQualifiedName"] == "Index Gamma:Shop"
    ok(us_api.create("Customer", {"DisplayName": "Index Beta"}), "Customer")        # the old parent name is free


def test_item_types_and_required_accounts(us_api):
    svc = ok(us_api.create("Item", {"Name": "Consulting", "Type": "Service", "UnitPrice": 120,
                                    "IncomeAccountRef": {"value": "2"}}), "Item")
    assert svc["IncomeAccountRef"]["name"] == "Services"
    missing = us_api.create("Item", {"Name": "No Account", "Type": "Service"})
    assert missing.status == 400 and missing.fault_code == "2020"
    inv = us_api.create("Item", {"Name": "Widget", "Type": "Inventory", "IncomeAccountRef": {"value": "1"}})
    assert inv.fault_code == "2020"
    ok(us_api.create("Item", {"Name": "Widget", "Type": "Inventory", "IncomeAccountRef": {"value": "1"},
                              "AssetAccountRef": {"value": "4"}, "ExpenseAccountRef": {"value": "3"},
                              "TrackQtyOnHand": True, "QtyOnHand": 5, "InvStartDate": "2025-01-01"}), "Item")


def test_name_lists_are_deactivated_not_deleted(us_api):
    answer = us_api.post("customer", {"Id": "1", "SyncToken": "0"}, operation="delete")
    assert answer.status == 400 and answer.fault_code == "500"
    ok(us_api.post("customer", {"Id": "1", "SyncToken": "0", "sparse": True, "Active": False}), "Customer")
    names = [c["DisplayName"] for c in us_api.query("select * from Customer").json["QueryResponse"]["Customer"]]
    assert "Amy's Bird Sanctuary" not in names
    inactive = us_api.query("select * from Customer where Active = false").json["QueryResponse"]["Customer"]
    assert {c["Id"] for c in inactive} == {"1", "3"}


def test_delete_and_void_transactions(us_api):
    inv = ok(us_api.create("Invoice", invoice()), "Invoice")
    voided = ok(us_api.post("invoice", {"Id": inv["Id"], "SyncToken": "0"}, operation="void"), "Invoice")
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0 and voided["PrivateNote"] == "Voided"
    assert voided["SyncToken"] == "1" and voided["DocNumber"] == inv["DocNumber"]
    deleted = ok(us_api.post("invoice", {"Id": inv["Id"], "SyncToken": "1"}, operation="delete"), "Invoice")
    assert deleted["status"] == "Deleted"
    assert us_api.read("Invoice", inv["Id"]).fault_code == "610"


def test_payment_reduces_invoice_balance(us_api):
    inv = ok(us_api.create("Invoice", invoice(lines=[line(amount=200, tax="NON")])), "Invoice")
    pay = ok(us_api.create("Payment", {"CustomerRef": {"value": "1"}, "TotalAmt": 150, "Line": [
        {"Amount": 150, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}]}), "Payment")
    assert pay["UnappliedAmt"] == 0
    after = ok(us_api.read("Invoice", inv["Id"]), "Invoice")
    assert after["Balance"] == 50 and after["LinkedTxn"] == [{"TxnId": pay["Id"], "TxnType": "Payment"}]
    assert ok(us_api.read("Customer", "1"), "Customer")["Balance"] == 50


def test_estimate_and_credit_memo(us_api):
    est = ok(us_api.create("Estimate", invoice(lines=[line(qty=2, price=75, tax="TAX")],
                                               TxnTaxDetail={"TxnTaxCodeRef": {"value": "3"}})), "Estimate")
    assert est["TxnStatus"] == "Pending" and est["TotalAmt"] == 163.31  # 150 + 8.875 %
    memo = ok(us_api.create("CreditMemo", invoice(lines=[line(amount=20, tax="NON")])), "CreditMemo")
    assert memo["TotalAmt"] == 20 and memo["Balance"] == 20


def test_company_info_preferences_and_read_only_lists(us_api, ca_api):
    info = ok(us_api.get("companyinfo/%s" % US_REALM), "CompanyInfo")
    assert info["Country"] == "US" and info["CompanyName"] == "Sim US Company (Demo Co.)"
    prefs = ok(ca_api.get("preferences"), "Preferences")
    assert prefs["CurrencyPrefs"]["HomeCurrency"]["value"] == "CAD"
    terms = us_api.query("select * from Term").json["QueryResponse"]["Term"]
    assert [t["Name"] for t in terms] == ["Due on receipt", "Net 15", "Net 30", "Net 60"]
    assert us_api.post("term", {"Name": "Net 90"}).fault_code == "500"
    assert len(ca_api.query("select * from TaxCode").json["QueryResponse"]["TaxCode"]) == 6


# ----- faults --------------------------------------------------------------------------------------------------
def test_6240_display_name_taken_by_customer_vendor_employee_or_inactive(us_api):
    for name in ("amy's bird sanctuary", "Brosnahan Insurance Agency", "Emily Platt", "Old Customer Ltd"):
        answer = us_api.create("Customer", {"DisplayName": name})
        assert answer.status == 400 and answer.fault_code == "6240", name
        assert answer.json["Fault"]["type"] == "ValidationFault"
    assert us_api.create("Item", {"Name": "old item", "Type": "Service",
                                  "IncomeAccountRef": {"value": "2"}}).fault_code == "6240"


def test_6140_duplicate_doc_number_and_autonumbering(us_api):
    first = ok(us_api.create("Invoice", invoice(DocNumber="INV-7")), "Invoice")
    dup = us_api.create("Invoice", invoice(DocNumber="INV-7"))
    assert dup.fault_code == "6140" and "DocNumber=INV-7" in dup.json["Fault"]["Error"][0]["Detail"]
    auto = [ok(us_api.create("Invoice", invoice()), "Invoice")["DocNumber"] for _ in range(2)]
    assert auto == ["1001", "1002"] and first["DocNumber"] == "INV-7"


def test_5010_stale_sync_token(us_api):
    ok(us_api.post("customer", {"Id": "1", "SyncToken": "0", "sparse": True, "Notes": "a"}), "Customer")
    stale = us_api.post("customer", {"Id": "1", "SyncToken": "0", "sparse": True, "Notes": "b"})
    assert stale.status == 400 and stale.fault_code == "5010"
    assert "Stale Object Error" in stale.json["Fault"]["Error"][0]["Detail"]


def test_610_inactive_or_deleted_reference_and_missing_read(us_api):
    assert us_api.create("Invoice", invoice(customer="3")).fault_code == "610"
    assert us_api.create("Invoice", invoice(lines=[line(item="4", amount=5)])).fault_code == "610"
    assert us_api.read("Customer", "9999").fault_code == "610"


def test_2500_unknown_reference(us_api):
    answer = us_api.create("Invoice", invoice(customer="583"))
    assert answer.fault_code == "2500"
    assert answer.json["Fault"]["Error"][0]["Detail"] == "Invalid Reference Id : Names element id 583 not found"
    assert us_api.create("Item", {"Name": "X", "Type": "Service",
                                  "IncomeAccountRef": {"value": "77"}}).fault_code == "2500"


def test_2020_required_fields(us_api):
    assert us_api.create("Invoice", {"CustomerRef": {"value": "1"}}).fault_code == "2020"
    assert us_api.create("Invoice", {"Line": [line(amount=1)]}).fault_code == "2020"
    assert us_api.create("Customer", {"Notes": "no name"}).fault_code == "2020"


def test_2050_length_limits(us_api):
    assert us_api.create("Invoice", invoice(DocNumber="X" * 22)).fault_code == "2050"
    assert us_api.create("Invoice", invoice(DocNumber="X" * 21)).status == 200
    assert us_api.create("Item", {"Name": "N" * 101, "Type": "Service",
                                  "IncomeAccountRef": {"value": "2"}}).fault_code == "2050"
    assert us_api.create("Customer", {"DisplayName": "D" * 501}).fault_code == "2050"
    assert us_api.create("Customer", {"DisplayName": "D" * 500}).status == 200


def test_6000_business_rules(us_api, ca_api):
    colon = us_api.create("Customer", {"DisplayName": "Parent:Child"})
    assert colon.fault_code == "6000" and "colon" in colon.json["Fault"]["Error"][0]["Detail"]
    assert us_api.create("Customer", {"DisplayName": "Tab\tName"}).fault_code == "6000"
    no_tax = ca_api.create("Invoice", invoice(lines=[line(amount=10)]))
    assert no_tax.fault_code == "6000"
    assert "GST/HST" in no_tax.json["Fault"]["Error"][0]["Detail"]
    foreign = ca_api.create("Invoice", invoice(lines=[line(amount=10, tax="3")], CurrencyRef={"value": "USD"}))
    assert foreign.fault_code == "6000" and "Multicurrency" in foreign.json["Fault"]["Error"][0]["Detail"]


def test_4000_query_errors_never_500(us_api):
    for bad in ("selec * from Customer", "select * from", "select * from Customer where", "garbage ''' (",
                "select * from Customer where A = 'x' OR B = 'y'"):
        answer = us_api.query(bad)
        assert answer.status == 400 and answer.fault_code == "4000", bad


def test_malformed_json_unknown_entity_and_wrong_realm(sim, us_api):
    bad = us_api.post("customer", "{not json")
    assert bad.status == 400 and bad.json["Fault"]["Error"][0]["code"] == "2010"
    unknown = us_api.post("spaceship", {"Name": "x"})
    assert unknown.status == 400 and unknown.json["Fault"]
    wrong = SimClient(sim.url, "123", us_api.token).get("customer/1")
    assert wrong.status == 403 and wrong.json["Fault"]["Error"][0]["code"] == "3100"
    other = SimClient(sim.url, CA_REALM, us_api.token).get("customer/1")
    assert other.status == 403


def test_10000_unexpected_error_is_a_system_fault(sim, us_api, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("forced")
    monkeypatch.setattr(sim.companies[US_REALM], "read", boom)
    answer = us_api.read("Customer", "1")
    assert answer.status == 500 and answer.fault_code == "10000"
    assert answer.json["Fault"]["type"] == "SystemFault" and "Traceback" not in answer.text


def test_401_3200_lower_case_body(sim, us_api):
    missing = SimClient(sim.url, US_REALM, "").get("customer/1")
    assert missing.status == 401 and missing.json["fault"]["error"][0]["code"] == "3200"
    sim.advance(3601)
    expired = us_api.read("Customer", "1")
    assert expired.status == 401 and "Token expired" in expired.json["fault"]["error"][0]["detail"]
    assert expired.json["fault"]["type"] == "AUTHENTICATION" and "intuit_tid" in expired.headers


# ----- totals ---------------------------------------------------------------------------------------------------
def test_us_totals_tax_non_lines_and_discount(us_api):
    body = invoice(lines=[line(qty=2, price=75, tax="TAX"),                 # 150 taxable
                          line(item="2", amount=50, tax="NON"),             # 50 not taxable
                          {"DetailType": "DiscountLineDetail", "Amount": 0,
                           "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10}}],
                   TxnTaxDetail={"TxnTaxCodeRef": {"value": "2"}},          # California 8.25 %
                   ApplyTaxAfterDiscount=True)
    inv = ok(us_api.create("Invoice", body), "Invoice")
    # discount 20 spread 15/5; taxable 135 * 8.25 % = 11.1375 -> 11.14; total 180 + 11.14
    assert inv["TxnTaxDetail"]["TotalTax"] == 11.14
    assert inv["TotalAmt"] == 191.14 and inv["Balance"] == 191.14
    amounts = {l["DetailType"]: l["Amount"] for l in inv["Line"]}
    assert amounts["DiscountLineDetail"] == 20 and amounts["SubTotalLineDetail"] == 200
    rates = {t["TaxLineDetail"]["TaxRateRef"]["value"]: t["Amount"] for t in inv["TxnTaxDetail"]["TaxLine"]}
    assert rates == {"1": 8.1, "2": 3.04}


def test_ca_totals_gst_pst_and_inclusive(ca_api):
    inv = ok(ca_api.create("Invoice", invoice(lines=[line(amount=100, tax="5"),    # GST 5 + PST 7
                                                     line(item="2", amount=33.33, tax="3")])), "Invoice")
    # GST on 133.33 = 6.6665, PST on 100 = 7 -> 13.6665 -> 13.67
    assert inv["TxnTaxDetail"]["TotalTax"] == 13.67 and inv["TotalAmt"] == 147.0
    assert inv["GlobalTaxCalculation"] == "TaxExcluded" and inv["CurrencyRef"]["value"] == "CAD"



def test_foreign_currency_on_us_company(us_api):
    ok(us_api.create("Customer", {"DisplayName": "Euro GmbH", "CurrencyRef": {"value": "EUR"}}), "Customer")
    cust = us_api.query("select * from Customer where DisplayName = 'Euro GmbH'").json["QueryResponse"]
    inv = ok(us_api.create("Invoice", invoice(customer=cust["Customer"][0]["Id"], CurrencyRef={"value": "EUR"},
                                              ExchangeRate=1.1)), "Invoice")
    assert inv["TotalAmt"] == 100 and inv["HomeTotalAmt"] == 110


# ----- queries -----------------------------------------------------------------------------------------------------
def test_query_language(us_api):
    ok(us_api.create("Customer", {"DisplayName": "O'Brien"}), "Customer")
    rows = us_api.query(r"select * from Customer where DisplayName = 'O\'Brien'").json["QueryResponse"]
    assert [c["DisplayName"] for c in rows["Customer"]] == ["O'Brien"]
    like = us_api.query("SELECT * FROM Customer WHERE DisplayName LIKE 'bill%'").json["QueryResponse"]
    assert [c["DisplayName"] for c in like["Customer"]] == ["Bill's Windsurf Shop"]
    ids = us_api.query("select * from Customer where Id IN ('1', '2') ORDERBY DisplayName DESC").json
    assert [c["Id"] for c in ids["QueryResponse"]["Customer"]] == ["2", "1"]
    ordered = us_api.query("select * from Item ORDER BY Name ASC").json["QueryResponse"]["Item"]
    assert [i["Name"] for i in ordered] == ["Design", "Gardening", "Pump", "Rock Fountain"]
    assert "Sku" not in ordered[0]
    with_sku = us_api.query("SELECT *, Sku FROM Item MAXRESULTS 100").json["QueryResponse"]["Item"]
    assert with_sku[0]["Sku"] == "DES-1"
    count = us_api.query("SELECT COUNT(*) FROM Customer").json["QueryResponse"]
    assert count == {"totalCount": 4}
    empty = us_api.query("select * from Invoice").json
    assert empty["QueryResponse"] == {}
    dated = us_api.get("query", query="select * from Customer where MetaData.LastUpdatedTime > '2000-01-01'")
    assert len(dated.json["QueryResponse"]["Customer"]) == 4


def test_query_paging(sim, us_api):
    for n in range(12):
        ok(us_api.create("Customer", {"DisplayName": "Pager %02d" % n}), "Customer")
    seen = []
    for start in (1, 6, 11):
        page = us_api.query("select * from Customer where DisplayName LIKE 'Pager%%' "
                            "STARTPOSITION %d MAXRESULTS 5" % start).json["QueryResponse"]
        assert page["startPosition"] == start
        seen += [c["DisplayName"] for c in page["Customer"]]
    assert seen == ["Pager %02d" % n for n in range(12)]
    capped = us_api.query("select * from Customer MAXRESULTS 5000").json["QueryResponse"]
    assert capped["maxResults"] == 15


# ----- batch and idempotency -------------------------------------------------------------------------------------
def test_batch_mixed_items_independent(us_api):
    body = {"BatchItemRequest": [
        {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch One"}},
        {"bId": "2", "operation": "create", "Customer": {"DisplayName": "Emily Platt"}},
        {"bId": "3", "Query": "select * from Term where Name = 'Net 15'"},
        {"bId": "4", "operation": "update", "Customer": {"Id": "2", "SyncToken": "0", "sparse": True,
                                                         "Notes": "from batch"}},
        {"bId": "5", "operation": "delete", "Invoice": {"Id": "999", "SyncToken": "0"}}]}
    answer = us_api.post("batch", body)
    assert answer.status == 200
    items = {i["bId"]: i for i in answer.json["BatchItemResponse"]}
    assert items["1"]["Customer"]["DisplayName"] == "Batch One"
    assert items["2"]["Fault"]["Error"][0]["code"] == "6240"
    assert items["3"]["QueryResponse"]["Term"][0]["DueDays"] == 15
    assert items["4"]["Customer"]["SyncToken"] == "1"
    assert items["5"]["Fault"]["Error"][0]["code"] == "610"


def test_requestid_replay_outside_batch(sim, us_api):
    first = us_api.create("Customer", {"DisplayName": "Once Only"}, requestid="rid-1")
    second = us_api.create("Customer", {"DisplayName": "Once Only"}, requestid="rid-1")
    assert first.status == second.status == 200 and first.json == second.json
    assert len([c for c in sim.entities(US_REALM, "Customer") if c["DisplayName"] == "Once Only"]) == 1
    assert sim.counters(US_REALM)["replayed"] == 1
    assert us_api.create("Customer", {"DisplayName": "X"}, requestid="r" * 51).fault_code == "6000"


def test_requestid_replay_inside_batch(sim, us_api):
    body = {"BatchItemRequest": [{"bId": str(n), "operation": "create",
                                  "Invoice": invoice()} for n in range(3)]}
    first = us_api.post("batch", body, requestid="batch-1")
    second = us_api.post("batch", body, requestid="batch-1")
    assert first.json == second.json
    assert len(sim.entities(US_REALM, "Invoice")) == 3


def test_lost_response_applies_the_write(sim, us_api):
    sim.set_faults(US_REALM, lost_rate=1.0, seed=1)
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        us_api.create("Customer", {"DisplayName": "Lost Answer"}, requestid="lost-1")
    assert [c["DisplayName"] for c in sim.entities(US_REALM, "Customer")].count("Lost Answer") == 1
    sim.set_faults(US_REALM)
    replay = ok(us_api.create("Customer", {"DisplayName": "Lost Answer"}, requestid="lost-1"), "Customer")
    assert replay["DisplayName"] == "Lost Answer"
    assert [c["DisplayName"] for c in sim.entities(US_REALM, "Customer")].count("Lost Answer") == 1
    assert sim.counters(US_REALM)["lost"] == 1


def test_injected_5xx_and_timeouts(sim, us_api):
    sim.set_faults(US_REALM, error_rate=1.0, seed=2)
    statuses = {us_api.read("Customer", "1").status for _ in range(6)}
    assert statuses <= {500, 503} and statuses
    sim.set_faults(US_REALM, timeout_rate=1.0, timeout_s=0.3)
    short = SimClient(sim.url, US_REALM, us_api.token, timeout=2)
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        short.read("Customer", "1")
    counters = sim.counters(US_REALM)
    assert counters["injected_5xx"] == 6 and counters["timeouts"] == 1


def test_ten_threads_update_one_customer_without_losing_updates(sim):
    token = sim.issue_tokens(US_REALM)["access_token"]
    seen, errors = [], []

    def worker(n):
        api = SimClient(sim.url, US_REALM, token)
        for attempt in range(200):
            cust = api.read("Customer", "1").json["Customer"]
            notes = cust.get("Notes", "")
            answer = api.post("customer", {"Id": "1", "SyncToken": cust["SyncToken"], "sparse": True,
                                           "Notes": notes + "[%d]" % n})
            if answer.status == 200:
                seen.append(int(answer.json["Customer"]["SyncToken"]))
                return
            if answer.fault_code != "5010":
                errors.append(answer)
                return
        errors.append("gave up")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(seen) == list(range(1, 11))
    final = sim.entities(US_REALM, "Customer")[0]
    assert final["SyncToken"] == "10" and all("[%d]" % n in final["Notes"] for n in range(10))


# ----- dashboard, counters, persistence ---------------------------------------------------------------------------
def test_dashboard_and_record_pages(sim, us_api):
    import requests
    inv = ok(us_api.create("Invoice", invoice(DocNumber="DASH-1")), "Invoice")
    page = requests.get(sim.url + "/", timeout=5)
    assert page.status_code == 200 and "DASH-1" in page.text and "Sim Canada Company" in page.text
    assert "/v3/company/%s/invoice" % US_REALM in page.text
    rec = requests.get(sim.url + "/app/invoice", params={"txnId": inv["Id"], "realmId": US_REALM}, timeout=5)
    assert rec.status_code == 200 and "<h2>Invoice DASH-1</h2>" in rec.text, "the entity once"
    cust = requests.get(sim.url + "/app/customerdetail?nameId=1", timeout=5)
    assert "<h2>Customer: Amy&#x27;s Bird Sanctuary</h2>" in cust.text
    assert requests.get(sim.url + "/app/item?itemId=1", timeout=5).status_code == 200
    assert requests.get(sim.url + "/app/item?itemId=999", timeout=5).status_code == 404


def test_counters(sim, us_api):
    us_api.read("Customer", "1")
    us_api.query("select * from Item")
    us_api.create("Customer", {"DisplayName": "Counted"})
    counters = sim.counters(US_REALM)
    assert (counters["total"], counters["read"], counters["query"], counters["create"]) == (3, 1, 1, 1)
    assert sim.counters()["total"] == 3


def test_persistence_round_trip(sim, us_api, tmp_path):
    ok(us_api.create("Customer", {"DisplayName": "Saved Customer"}), "Customer")
    tokens = sim.issue_tokens(US_REALM)
    path = str(tmp_path / "state.json")
    sim.save(path)
    json.load(open(path))
    other = Simulator(port=0, data_file=path).start()
    try:
        assert "Saved Customer" in [c["DisplayName"] for c in other.entities(US_REALM, "Customer")]
        api = SimClient(other.url, US_REALM, tokens["access_token"])
        assert ok(api.create("Customer", {"DisplayName": "Next"}), "Customer")["Id"] == "9"
    finally:
        other.stop()
    reloaded = Simulator(port=0, data_file=path)
    assert "Next" in [c["DisplayName"] for c in reloaded.entities(US_REALM, "Customer")]


def test_batch_item_does_not_see_earlier_items(us_api):
    body = {"BatchItemRequest": [
        {"bId": "c", "operation": "create", "Customer": {"DisplayName": "Fresh"}},
        {"bId": "i", "operation": "create", "Invoice": invoice(customer="8")}]}   # 8 = the id "Fresh" gets
    items = {i["bId"]: i for i in us_api.post("batch", body).json["BatchItemResponse"]}
    assert items["c"]["Customer"]["Id"] == "8"
    assert items["i"]["Fault"]["Error"][0]["code"] == "2500"
    assert us_api.create("Invoice", invoice(customer="8")).status == 200


def test_invoice_from_estimate_closes_it(us_api):
    est = ok(us_api.create("Estimate", invoice()), "Estimate")
    inv = ok(us_api.create("Invoice", invoice(LinkedTxn=[{"TxnId": est["Id"], "TxnType": "Estimate"}])),
             "Invoice")
    assert inv["LinkedTxn"] == [{"TxnId": est["Id"], "TxnType": "Estimate"}]
    closed = ok(us_api.read("Estimate", est["Id"]), "Estimate")
    assert closed["TxnStatus"] == "Closed" and closed["LinkedTxn"] == [{"TxnId": inv["Id"], "TxnType": "Invoice"}]
    missing = us_api.create("Invoice", invoice(LinkedTxn=[{"TxnId": "4242", "TxnType": "Estimate"}]))
    assert missing.fault_code == "2500"


def test_change_data_capture(sim, us_api):
    sim.advance(600)
    start = sim.clock.iso()
    sim.advance(1)
    cust = ok(us_api.create("Customer", {"DisplayName": "Changed"}), "Customer")
    inv = ok(us_api.create("Invoice", invoice()), "Invoice")
    us_api.post("invoice", {"Id": inv["Id"], "SyncToken": "0"}, operation="delete")
    answer = us_api.get("cdc", entities="Customer,Invoice", changedSince=start)
    customers, invoices = answer.json["CDCResponse"][0]["QueryResponse"]
    assert [c["Id"] for c in customers["Customer"]] == [cust["Id"]]
    assert invoices["Invoice"] == [{"Id": inv["Id"], "status": "Deleted", "domain": "QBO",
                                    "MetaData": invoices["Invoice"][0]["MetaData"]}]
    assert us_api.get("cdc", entities="Customer").fault_code == "2020"


@pytest.mark.parametrize("entity,body", [
    ("Customer", {"DisplayName": "Typed", "PrimaryEmailAddr": "not-an-object"}),
    ("Invoice", {"CustomerRef": {"value": "1"}, "Line": ["not-a-line"]}),
    ("Invoice", {"CustomerRef": {"value": "1"}, "Line": [{"DetailType": "SalesItemLineDetail",
                                                         "SalesItemLineDetail": 5, "Amount": 1}]}),
    ("Payment", {"CustomerRef": {"value": "1"}, "TotalAmt": 5, "Line": [{"Amount": 5, "LinkedTxn": ["x"]}]}),
    ("Item", {"Name": "Typed", "Type": "Service", "IncomeAccountRef": {"value": "2"}, "UnitPrice": "abc"}),
])
def test_wrong_field_types_are_400_not_500(us_api, entity, body):
    answer = us_api.create(entity, body)
    assert answer.status == 400 and answer.fault_code == "2010", answer
    batch = us_api.post("batch", {"BatchItemRequest": [{"bId": "1", "operation": "create", entity: body}, 7]})
    assert batch.status == 200
    assert all("Fault" in item for item in batch.json["BatchItemResponse"])


def test_payment_methods_and_empty_lists(us_api):
    methods = us_api.query("select * from PaymentMethod").json["QueryResponse"]["PaymentMethod"]
    assert [m["Name"] for m in methods] == ["Cash", "Check", "Credit Card"]
    assert us_api.query("select * from Class").json["QueryResponse"] == {}
    inv = ok(us_api.create("Invoice", invoice()), "Invoice")
    bad = us_api.create("Payment", {"CustomerRef": {"value": "1"}, "TotalAmt": 1, "PaymentMethodRef": {"value": "9"},
                                    "Line": [{"Amount": 1, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}]})
    assert bad.fault_code == "2500"


def test_admin_save_and_autosave(sim, tmp_path):
    import requests
    path = tmp_path / "admin.json"
    assert requests.post(sim.url + "/admin/save", json={"path": str(path)}, timeout=5).json()["ok"]
    assert US_REALM in json.loads(path.read_text())["companies"]
    auto = tmp_path / "auto.json"
    other = Simulator(port=0, data_file=str(auto), autosave_s=0.05).start()
    try:
        deadline = time.time() + 5
        while not auto.exists() and time.time() < deadline:
            time.sleep(0.02)
        assert auto.exists()
    finally:
        other.stop()
