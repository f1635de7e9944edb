"""Queries and records as QuickBooks answers them (issue 12, points 2 and 3)."""
from simulator.seed import US_REALM


def ok(answer, entity):
    assert answer.status == 200, answer
    return answer.json[entity]


def rows(answer, entity):
    assert answer.status == 200, answer
    return answer.json["QueryResponse"].get(entity, [])


def invoice(customer="1", amount=100, **extra):
    body = {"CustomerRef": {"value": customer},
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": amount,
                      "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "TaxCodeRef": {"value": "NON"}}}]}
    body.update(extra)
    return body


# ----- queries -----------------------------------------------------------------------------------------------
def test_query_matches_customer_email_with_equals_and_in(us_api):
    ok(us_api.create("Customer", {"DisplayName": "Mail Co", "PrimaryEmailAddr": {"Address": "Mail@Example.com"}}),
       "Customer")
    found = rows(us_api.query("SELECT * FROM Customer WHERE PrimaryEmailAddr = 'mail@example.com'"), "Customer")
    assert [c["DisplayName"] for c in found] == ["Mail Co"]
    found = rows(us_api.query("SELECT * FROM Customer WHERE PrimaryEmailAddr IN ('birds@example.com', "
                              "'mail@example.com', 'nobody@example.com')"), "Customer")
    assert sorted(c["DisplayName"] for c in found) == ["Amy's Bird Sanctuary", "Mail Co"]
    assert rows(us_api.query("SELECT * FROM Customer WHERE PrimaryEmailAddr = 'nobody@example.com'"),
                "Customer") == []


def test_query_on_unknown_entity_answers_4001(us_api):
    answer = us_api.query("SELECT * FROM Spaceship")
    assert answer.status == 400 and answer.fault_code == "4001"
    error = answer.json["Fault"]["Error"][0]
    assert error["Message"] == "Invalid query" and "Spaceship" in error["Detail"]


def test_name_lists_without_orderby_come_sorted_by_name(us_api):
    for name in ("zeta Shop", "Alpha Shop", "Mid Shop"):
        ok(us_api.create("Customer", {"DisplayName": name}), "Customer")
    names = [c["FullyQualifiedName"] for c in rows(us_api.query("SELECT * FROM Customer"), "Customer")]
    assert names == sorted(names, key=str.lower) and names[0] == "Alpha Shop"
    assert names.index("Bill's Windsurf Shop") + 1 == names.index("Bill's Windsurf Shop:Beach Branch")
    ok(us_api.create("Vendor", {"DisplayName": "Aardvark Vendor"}), "Vendor")
    vendors = [v["DisplayName"] for v in rows(us_api.query("SELECT * FROM Vendor"), "Vendor")]
    assert vendors == ["Aardvark Vendor", "Acme Supplies Vendor", "Brosnahan Insurance Agency"]
    by_id = [c["Id"] for c in rows(us_api.query("SELECT * FROM Customer ORDERBY Id"), "Customer")]
    assert by_id == sorted(by_id, key=int)
    # transactions keep their order by Id
    first = ok(us_api.create("Invoice", invoice(DocNumber="Z-1")), "Invoice")
    second = ok(us_api.create("Invoice", invoice(DocNumber="A-1")), "Invoice")
    assert [i["Id"] for i in rows(us_api.query("SELECT * FROM Invoice"), "Invoice")] == [first["Id"], second["Id"]]


def test_query_field_names_are_case_tolerant(sim, us_api):
    sim.advance(60)
    ok(us_api.create("Customer", {"DisplayName": "Late Co"}), "Customer")
    since = rows(us_api.query("SELECT * FROM Customer"), "Customer")[0]["MetaData"]["CreateTime"]
    later = sim.now_text()
    for field in ("MetaData.LastUpdatedTime", "Metadata.LastUpdatedTime", "metadata.lastupdatedtime"):
        found = rows(us_api.query("SELECT * FROM Customer WHERE %s > '%s'" % (field, since)), "Customer")
        assert [c["DisplayName"] for c in found] == ["Late Co"], field
        assert rows(us_api.query("SELECT * FROM Customer WHERE %s > '%s'" % (field, later)), "Customer") == []
    found = rows(us_api.query("SELECT * FROM customer WHERE displayname = 'late co' ORDERBY metadata.createtime"),
                 "Customer")
    assert [c["Id"] for c in found] == [c["Id"] for c in found if c["DisplayName"] == "Late Co"] and found


# ----- records ---------------------------------------------------------------------------------------------------
def test_inactive_names_carry_deleted_suffix(us_api):
    old = ok(us_api.read("Customer", "3"), "Customer")
    assert old["DisplayName"] == "Old Customer Ltd (deleted)"
    assert old["FullyQualifiedName"] == "Old Customer Ltd (deleted)" and old["PrintOnCheckName"] == "Old Customer Ltd"
    account = ok(us_api.read("Account", "9"), "Account")
    assert account["Name"] == "Old Income Account (deleted)"
    assert account["FullyQualifiedName"] == "Old Income Account (deleted)"
    vendor = ok(us_api.post("vendor", {"Id": "6", "SyncToken": "0", "sparse": True, "Active": False}), "Vendor")
    assert vendor["DisplayName"] == "Acme Supplies Vendor (deleted)"
    listed = rows(us_api.query("SELECT * FROM Vendor WHERE Active = false"), "Vendor")
    assert [v["DisplayName"] for v in listed] == ["Acme Supplies Vendor (deleted)"]
    # the name stays taken, and sending back the name as read (with the suffix) reactivates under the plain name
    assert us_api.create("Customer", {"DisplayName": "Acme Supplies Vendor"}).fault_code == "6240"
    back = ok(us_api.post("vendor", dict(vendor, Active=True)), "Vendor")
    assert back["DisplayName"] == "Acme Supplies Vendor" and back["Active"] is True
    active = ok(us_api.read("Customer", "1"), "Customer")
    assert active["DisplayName"] == "Amy's Bird Sanctuary"


def test_update_that_changes_nothing_keeps_sync_token_and_time(sim, us_api):
    cust = ok(us_api.create("Customer", {"DisplayName": "Still Co", "BillAddr": {"Line1": "1 Main St"}}),
              "Customer")
    sim.advance(120)
    same = ok(us_api.post("customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True,
                                       "DisplayName": "Still Co"}), "Customer")
    assert same["SyncToken"] == "0" and same["MetaData"] == cust["MetaData"]
    again = ok(us_api.post("customer", dict(cust)), "Customer")    # the whole record sent back unchanged
    assert again["SyncToken"] == "0" and again["MetaData"]["LastUpdatedTime"] == cust["MetaData"]["LastUpdatedTime"]
    changed = ok(us_api.post("customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True,
                                          "Notes": "now different"}), "Customer")
    assert changed["SyncToken"] == "1" and changed["MetaData"]["LastUpdatedTime"] > cust["MetaData"]["LastUpdatedTime"]
    inv = ok(us_api.create("Invoice", invoice()), "Invoice")
    sim.advance(60)
    resent = ok(us_api.post("invoice", dict(inv, sparse=True)), "Invoice")
    assert resent["SyncToken"] == inv["SyncToken"] and resent["MetaData"] == inv["MetaData"]


def test_unchanged_update_of_a_paid_invoice_keeps_its_sync_token(us_api):
    inv = ok(us_api.create("Invoice", invoice()), "Invoice")
    ok(us_api.create("Payment", {"CustomerRef": {"value": "1"}, "TotalAmt": 40,
                                 "Line": [{"Amount": 40, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}]}),
       "Payment")
    paid = ok(us_api.read("Invoice", inv["Id"]), "Invoice")
    assert paid["Balance"] == 60 and paid["SyncToken"] == "1"
    resent = ok(us_api.post("invoice", {"Id": inv["Id"], "SyncToken": "1", "sparse": True,
                                        "PrivateNote": paid.get("PrivateNote")}), "Invoice")
    assert resent["SyncToken"] == "1" and resent["Balance"] == 60


def test_new_invoice_defaults_as_quickbooks_answers(us_api):
    inv = ok(us_api.create("Invoice", invoice()), "Invoice")
    cust = ok(us_api.read("Customer", "1"), "Customer")
    assert inv["BillAddr"]["Line1"] == cust["BillAddr"]["Line1"] == "12 Ocean Dr."
    assert inv["BillAddr"]["Id"] and inv["BillAddr"]["Id"] != cust["BillAddr"]["Id"]
    # the customer has no shipping address: the invoice ships to its billing address (as recorded in 2026)
    assert inv["ShipAddr"]["Line1"] == "12 Ocean Dr." and inv["ShipAddr"]["Country"] == "USA"
    assert inv["ShipAddr"]["Id"] not in (inv["BillAddr"]["Id"], cust["BillAddr"]["Id"])
    assert inv["PrintStatus"] == "NeedToPrint" and inv["EmailStatus"] == "NotSet"
    assert inv["ApplyTaxAfterDiscount"] is False
    for flag in ("AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment"):
        assert inv[flag] is False, flag
    sent = ok(us_api.create("Invoice", invoice(BillAddr={"Line1": "Elsewhere 5"}, PrintStatus="NotSet",
                                               AllowOnlineACHPayment=True)), "Invoice")
    assert sent["BillAddr"]["Line1"] == "Elsewhere 5" and sent["BillAddr"]["Id"]
    assert sent["PrintStatus"] == "NotSet" and sent["AllowOnlineACHPayment"] is True
    est = ok(us_api.create("Estimate", invoice()), "Estimate")
    assert est["BillAddr"]["Line1"] == "12 Ocean Dr." and est["PrintStatus"] == "NotSet"


def test_us_tax_before_discount_unless_apply_tax_after_discount(us_api):
    lines = invoice(amount=100)["Line"]
    lines[0]["SalesItemLineDetail"]["TaxCodeRef"] = {"value": "TAX"}
    lines.append({"DetailType": "DiscountLineDetail", "Amount": 10, "DiscountLineDetail": {"PercentBased": False}})
    tax = {"TxnTaxCodeRef": {"value": "2"}}   # California 8.25 %
    before = ok(us_api.create("Invoice", invoice(Line=lines, TxnTaxDetail=tax)), "Invoice")
    assert before["TxnTaxDetail"]["TotalTax"] == 8.25 and before["TotalAmt"] == 98.25
    after = ok(us_api.create("Invoice", invoice(Line=lines, TxnTaxDetail=tax, ApplyTaxAfterDiscount=True)),
               "Invoice")
    assert after["TxnTaxDetail"]["TotalTax"] == 7.43 and after["TotalAmt"] == 97.43
    assert after["ApplyTaxAfterDiscount"] is True


def test_addresses_carry_an_id_kept_across_updates(us_api):
    seeded = ok(us_api.read("Customer", "1"), "Customer")
    assert seeded["BillAddr"]["Id"].isdigit()
    cust = ok(us_api.create("Customer", {"DisplayName": "Addr Co", "BillAddr": {"Line1": "1 A St"},
                                         "ShipAddr": {"Line1": "2 B St"}}), "Customer")
    bill, ship = cust["BillAddr"]["Id"], cust["ShipAddr"]["Id"]
    assert bill != ship and bill != seeded["BillAddr"]["Id"]
    moved = ok(us_api.post("customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True,
                                        "BillAddr": {"Line1": "9 New Rd"}}), "Customer")
    assert moved["BillAddr"] == {"Line1": "9 New Rd", "Id": bill} and moved["ShipAddr"]["Id"] == ship
    emp = ok(us_api.create("Employee", {"GivenName": "Ann", "FamilyName": "Lee", "PrimaryAddr": {"City": "X"}}),
             "Employee")
    assert emp["PrimaryAddr"]["Id"].isdigit()


def test_sub_customer_uniqueness_is_on_fully_qualified_name(us_api):
    ok(us_api.create("Customer", {"DisplayName": "Doe, Jack"}), "Customer")
    parent = rows(us_api.query("SELECT * FROM Customer WHERE DisplayName = 'Doe, Jack'"), "Customer")[0]
    ok(us_api.create("Customer", {"DisplayName": "Jack Doe"}), "Customer")
    sub = {"DisplayName": "Jack Doe", "Job": True, "ParentRef": {"value": parent["Id"]}}
    job = ok(us_api.create("Customer", sub), "Customer")
    assert job["FullyQualifiedName"] == "Doe, Jack:Jack Doe"
    again = us_api.create("Customer", sub)
    assert again.fault_code == "6240"
    assert us_api.create("Customer", {"DisplayName": "Jack Doe"}).fault_code == "6240"
    # a vendor clashes with a top-level customer, not with a sub-customer's full name
    assert us_api.create("Vendor", {"DisplayName": "Beach Branch"}).status == 200
    assert us_api.create("Vendor", {"DisplayName": "Jack Doe"}).fault_code == "6240"


def test_account_create_and_update(us_api):
    acc = ok(us_api.create("Account", {"Name": "Consulting Income", "AccountType": "Income"}), "Account")
    assert acc["Classification"] == "Revenue" and acc["AccountSubType"] and acc["SyncToken"] == "0"
    assert acc["FullyQualifiedName"] == "Consulting Income" and acc["Active"] is True
    sub = ok(us_api.create("Account", {"Name": "Workshops", "AccountType": "Income", "ParentRef": {"value": acc["Id"]}}),
             "Account")
    assert sub["SubAccount"] is True and sub["FullyQualifiedName"] == "Consulting Income:Workshops"
    renamed = ok(us_api.post("account", {"Id": acc["Id"], "SyncToken": "0", "sparse": True, "Name": "Advisory"}),
                 "Account")
    assert renamed["Name"] == "Advisory" and renamed["SyncToken"] == "1"
    assert us_api.create("Account", {"Name": "Services", "AccountType": "Income"}).fault_code == "6240"
    assert us_api.create("Account", {"Name": "No Type"}).fault_code == "2020"
    assert us_api.create("Account", {"Name": "A:B", "AccountType": "Income"}).fault_code == "6000"
    off = ok(us_api.post("account", {"Id": "6", "SyncToken": "0", "sparse": True, "Active": False}), "Account")
    assert off["Name"] == "Office Expenses (deleted)"
    assert us_api.post("account?operation=delete", {"Id": "6", "SyncToken": "1"}).status == 400


def test_employee_create_and_update(sim, us_api):
    emp = ok(us_api.read("Employee", "7"), "Employee")
    upd = ok(us_api.post("employee", {"Id": "7", "SyncToken": emp["SyncToken"], "sparse": True,
                                      "PrimaryPhone": {"FreeFormNumber": "555-0100"}}), "Employee")
    assert upd["SyncToken"] == "1" and upd["PrimaryPhone"]["FreeFormNumber"] == "555-0100"
    assert upd["DisplayName"] == "Emily Platt"
    new = ok(us_api.create("Employee", {"GivenName": "Rob", "FamilyName": "Stone"}), "Employee")
    assert new["DisplayName"] == "Rob Stone"
    assert us_api.create("Employee", {"DisplayName": "Amy's Bird Sanctuary"}).fault_code == "6240"
    gone = ok(us_api.post("employee", {"Id": new["Id"], "SyncToken": "0", "sparse": True, "Active": False}),
              "Employee")
    assert gone["DisplayName"] == "Rob Stone (deleted)"
    assert [e["DisplayName"] for e in sim.entities(US_REALM, "Employee") if e["Id"] == new["Id"]] == ["Rob Stone"]
