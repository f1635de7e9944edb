"""Payables in the simulator: vendors, bills, vendor credits, bill payments (check and credit card), the A/P
account, input tax in Canada, balances and linked transactions, and the refusals QuickBooks gives."""
import urllib.request

import pytest
import requests

from simulator import CA_REALM, US_REALM, schema
from test_sim_api import invoice, ok

EXPENSE = "12"       # Supplies (Expense)
AP, VISA, CHECKING = "10", "11", "7"


def account_line(amount, account=EXPENSE, tax=None, description=None, **detail):
    detail = dict(detail, AccountRef={"value": account})
    if tax:
        detail["TaxCodeRef"] = {"value": tax}
    line = {"DetailType": "AccountBasedExpenseLineDetail", "Amount": amount, "AccountBasedExpenseLineDetail": detail}
    if description:
        line["Description"] = description
    return line


def item_line(item="3", amount=None, qty=None, price=None, tax=None):
    detail = {"ItemRef": {"value": item}}
    for key, value in (("Qty", qty), ("UnitPrice", price), ("TaxCodeRef", tax and {"value": tax})):
        if value is not None:
            detail[key] = value
    line = {"DetailType": "ItemBasedExpenseLineDetail", "ItemBasedExpenseLineDetail": detail}
    if amount is not None:
        line["Amount"] = amount
    return line


def bill(vendor="6", lines=None, **extra):
    body = {"VendorRef": {"value": vendor}, "Line": lines or [account_line(100)]}
    body.update(extra)
    return body


def pay(api, total, *links, vendor="6", pay_type="Check", account=CHECKING, **extra):
    block = ("CheckPayment", "BankAccountRef") if pay_type == "Check" else ("CreditCardPayment", "CCAccountRef")
    body = {"VendorRef": {"value": vendor}, "PayType": pay_type, "TotalAmt": total,
            block[0]: {block[1]: {"value": account}},
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": doc["Id"], "TxnType": kind}]}
                     for kind, doc, amount in links]}
    body.update(extra)
    return api.create("BillPayment", body)


def read(api, entity, rid):
    return ok(api.read(entity, rid), entity)


def fault(answer):
    assert answer.status == 400, answer
    error = answer.json["Fault"]["Error"][0]
    return error["code"], error.get("element")


# ----- vendors ------------------------------------------------------------------------------------------------
def test_vendor_defaults_and_names_unique_across_customers_vendors_employees(sim, us_api):
    vendor = ok(us_api.create("Vendor", {"DisplayName": "Paper Mill", "CompanyName": "Paper Mill Inc"}), "Vendor")
    assert vendor["PrintOnCheckName"] == "Paper Mill" and vendor["Vendor1099"] is False
    assert vendor["Balance"] == 0 and vendor["CurrencyRef"]["value"] == "USD" and vendor["Active"] is True
    for name in ("Amy's Bird Sanctuary", "emily platt", "Old Customer Ltd", "PAPER MILL"):
        assert fault(us_api.create("Vendor", {"DisplayName": name}))[0] == "6240", name
    assert fault(us_api.create("Customer", {"DisplayName": "Paper Mill"}))[0] == "6240"
    assert fault(us_api.create("Employee", {"GivenName": "Paper", "FamilyName": "Mill"}))[0] == "6240"
    # a vendor named like a customer's sub-customer leaf is fine: a customer is known by its full name
    assert us_api.create("Vendor", {"DisplayName": "Beach Branch"}).status == 200
    cheque = ok(us_api.create("Vendor", {"DisplayName": "Cheque Co", "PrintOnCheckName": "Cheque Company Ltd",
                                         "Vendor1099": True, "TermRef": {"value": "4"}}), "Vendor")
    assert cheque["PrintOnCheckName"] == "Cheque Company Ltd" and cheque["Vendor1099"] is True
    assert cheque["TermRef"] == {"value": "4", "name": "Net 60"}


# ----- bills ------------------------------------------------------------------------------------------------
def test_us_bill_with_account_and_item_lines(us_api):
    made = ok(us_api.create("Bill", bill(lines=[account_line(100, description="Paper"),
                                                item_line(qty=2, price=25.5), item_line(amount=10)],
                                         DocNumber="INV-77", TxnDate="2026-03-01")), "Bill")
    assert made["TotalAmt"] == 161 and made["Balance"] == 161 and made["HomeBalance"] == 161
    assert [l["Amount"] for l in made["Line"]] == [100, 51, 10]
    assert [(l["Id"], l["LineNum"]) for l in made["Line"]] == [("1", 1), ("2", 2), ("3", 3)]
    first, second, _third = (l[l["DetailType"]] for l in made["Line"])
    assert first["AccountRef"] == {"value": EXPENSE, "name": "Supplies"}
    assert first["BillableStatus"] == "NotBillable" and first["TaxCodeRef"] == {"value": "NON"}
    assert second["ItemRef"] == {"value": "3", "name": "Rock Fountain"} and second["Qty"] == 2
    assert made["APAccountRef"] == {"value": AP, "name": "Accounts Payable (A/P)"}
    assert made["VendorRef"] == {"value": "6", "name": "Acme Supplies Vendor"}
    # the vendor's terms (Net 15) give the due date; no tax of its own on a US purchase
    assert made["SalesTermRef"] == {"value": "2"} and made["DueDate"] == "2026-03-16"
    assert "TxnTaxDetail" not in made and "LinkedTxn" not in made and "HomeTotalAmt" not in made
    assert made["DocNumber"] == "INV-77" and made["CurrencyRef"]["value"] == "USD"
    assert read(us_api, "Vendor", "6")["Balance"] == 161
    due = ok(us_api.create("Bill", bill(SalesTermRef={"value": "3"}, TxnDate="2026-01-31")), "Bill")
    assert due["DueDate"] == "2026-03-02"
    given = ok(us_api.create("Bill", bill(vendor="5", DueDate="2026-12-31", TxnDate="2026-12-01")), "Bill")
    assert given["DueDate"] == "2026-12-31" and "SalesTermRef" not in given
    assert fault(us_api.create("Bill", bill(TxnTaxDetail={"TotalTax": 5})))[0] == "6000"


def test_bill_refusals(sim, us_api):
    assert fault(us_api.create("Bill", {"VendorRef": {"value": "6"}})) == ("2020", "Line")
    assert fault(us_api.create("Bill", bill(vendor=None))) == ("2020", "VendorRef")
    assert fault(us_api.create("Bill", bill(vendor="1")))[0] == "2500"             # a customer is no vendor
    assert fault(us_api.create("Bill", bill(vendor="999")))[0] == "2500"
    gone = ok(us_api.create("Vendor", {"DisplayName": "Gone Vendor", "Active": False}), "Vendor")
    assert fault(us_api.create("Bill", bill(vendor=gone["Id"])))[0] == "610"
    assert fault(us_api.create("Bill", bill(lines=[account_line(5, account="13")])))[0] == "610"   # inactive
    assert fault(us_api.create("Bill", bill(lines=[account_line(5, account=AP)])))[0] == "6000"
    assert fault(us_api.create("Bill", bill(lines=[item_line("1", amount=5)])))[0] == "6000"      # not purchased
    assert fault(us_api.create("Bill", bill(lines=[item_line("4", amount=5)])))[0] == "610"
    assert fault(us_api.create("Bill", bill(APAccountRef={"value": "5"})))[0] == "6000"          # an A/R account
    assert fault(us_api.create("Bill", bill(lines=[invoice()["Line"][0]])))[0] == "6000"
    assert fault(us_api.create("Bill", bill(lines=[account_line(-200), account_line(100)])))[0] == "6000"
    assert fault(us_api.create("Bill", bill(lines=[account_line(5, BillableStatus="Billed")])))[0] == "2170"
    assert fault(us_api.create("Bill", bill(lines=[account_line(5, BillableStatus="Billable")])))[0] == "6000"
    assert fault(us_api.create("Bill", bill(DocNumber="X" * 22)))[0] == "2050"
    billable = ok(us_api.create("Bill", bill(lines=[account_line(5, BillableStatus="Billable",
                                                                 CustomerRef={"value": "4"})])), "Bill")
    assert billable["Line"][0]["AccountBasedExpenseLineDetail"]["CustomerRef"]["name"] == \
        "Bill's Windsurf Shop:Beach Branch"
    assert len(sim.entities(US_REALM, "Bill")) == 1


def test_unknown_properties_in_payables_are_refused(us_api):
    body = bill()
    body["Line"][0]["AccountBasedExpenseLineDetail"]["Account"] = {"value": EXPENSE}
    assert fault(us_api.create("Bill", body)) == ("2010", "Line[0].AccountBasedExpenseLineDetail.Account")
    assert fault(us_api.create("Bill", bill(BillNumber="7"))) == ("2010", "BillNumber")
    assert fault(us_api.create("VendorCredit", bill(DueDate="2026-01-01"))) == ("2010", "DueDate")
    answer = us_api.create("BillPayment", {"VendorRef": {"value": "6"}, "PayType": "Check", "TotalAmt": 1,
                                           "CheckPayment": {"BankAccount": {"value": CHECKING}}, "Line": []})
    assert fault(answer) == ("2010", "CheckPayment.BankAccount")
    answer = us_api.create("BillPayment", {"VendorRef": {"value": "6"}, "PayType": "Check", "TotalAmt": 1,
                                           "UnappliedAmt": 1, "Line": []})
    assert fault(answer) == ("2010", "UnappliedAmt")


def test_duplicate_bill_numbers_refused_per_vendor_while_quickbooks_warns(sim, us_api):
    ok(us_api.create("Bill", bill(DocNumber="A-1")), "Bill")
    answer = us_api.create("Bill", bill(DocNumber="a-1"))
    assert fault(answer) == ("6140", "DocNumber") and "TxnType=Bill" in answer.json["Fault"]["Error"][0]["Detail"]
    ok(us_api.create("Bill", bill(vendor="5", DocNumber="A-1")), "Bill")     # another vendor's number
    ok(us_api.create("VendorCredit", bill(DocNumber="A-1")), "VendorCredit")
    answer = requests.post(sim.url + "/admin/duplicate_bill_numbers", json={"realm_id": US_REALM, "warn": False},
                           timeout=5)
    assert answer.status_code == 200                                        # the preference switched off
    pairs = ok(us_api.read("Preferences", "1"), "Preferences")["OtherPrefs"]["NameValue"]
    assert {"Name": "VendorAndPurchasesPrefs.WarnDuplicateBillNumber", "Value": "false"} in pairs
    ok(us_api.create("Bill", bill(DocNumber="A-1")), "Bill")
    sim.warn_duplicate_bill_numbers(US_REALM)
    assert fault(us_api.create("Bill", bill(DocNumber="A-1")))[0] == "6140"


def test_canadian_bill_input_tax_per_purchase_rates(ca_api):
    made = ok(ca_api.create("Bill", bill(lines=[account_line(100, tax="5"), account_line(200, tax="4"),
                                                item_line(amount=50, tax="7")])), "Bill")
    tax = made["TxnTaxDetail"]
    lines = {t["TaxLineDetail"]["TaxRateRef"]["name"]: (t["Amount"], t["TaxLineDetail"]["NetAmountTaxable"])
             for t in tax["TaxLine"]}
    assert lines == {"GST (ITC)": (5, 100), "PST BC (purchases)": (7, 100), "HST ON (ITC)": (26, 200),
                     "Exempt (purchases)": (0, 50)}
    assert tax["TotalTax"] == 38 and made["TotalAmt"] == 388 and made["Balance"] == 388
    assert made["GlobalTaxCalculation"] == "TaxExcluded" and "HomeBalance" not in made
    assert read(ca_api, "Vendor", "6")["Balance"] == 388
    # without a tax code, as for sales: 6000
    assert fault(ca_api.create("Bill", bill(lines=[account_line(10)])))[0] == "6000"


def test_canadian_booked_tax_to_the_cent_and_tax_inclusive(ca_api):
    # the client books 1.29 of HST where the rate gives 1.30 (its own rounding per line): QuickBooks keeps it
    booked = ok(ca_api.create("Bill", bill(lines=[account_line(5, tax="4"), account_line(5, tax="4")],
                                           TxnTaxDetail={"TaxLine": [{"Amount": 1.29, "DetailType": "TaxLineDetail",
                                                                      "TaxLineDetail": {"TaxRateRef": {"value": "7"}}}]})),
                "Bill")
    assert booked["TxnTaxDetail"]["TotalTax"] == 1.29 and booked["TotalAmt"] == 11.29
    assert booked["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"]["OverrideDeltaAmount"] == -0.01
    # a sales rate is not an input tax of this bill
    wrong = bill(lines=[account_line(5, tax="4")],
                 TxnTaxDetail={"TaxLine": [{"Amount": 1, "DetailType": "TaxLineDetail",
                                            "TaxLineDetail": {"TaxRateRef": {"value": "2"}}}]})
    assert fault(ca_api.create("Bill", wrong))[0] == "6000"
    gross = ok(ca_api.create("Bill", bill(GlobalTaxCalculation="TaxInclusive", lines=[
        {"DetailType": "AccountBasedExpenseLineDetail", "AccountBasedExpenseLineDetail": {
            "AccountRef": {"value": EXPENSE}, "TaxCodeRef": {"value": "4"}, "TaxInclusiveAmt": 113}}])), "Bill")
    assert gross["Line"][0]["Amount"] == 100 and gross["TotalAmt"] == 113
    assert gross["TxnTaxDetail"]["TotalTax"] == 13


def test_foreign_currency_bill_uses_the_ap_account_of_its_currency(sim, us_api):
    euro = ok(us_api.create("Vendor", {"DisplayName": "Euro Supplies", "CurrencyRef": {"value": "EUR"}}), "Vendor")
    made = ok(us_api.create("Bill", bill(vendor=euro["Id"], CurrencyRef={"value": "EUR"}, ExchangeRate=1.1)), "Bill")
    assert made["APAccountRef"]["name"] == "Accounts Payable (A/P) - EUR" and made["ExchangeRate"] == 1.1
    assert made["Balance"] == 100 and made["HomeBalance"] == 110
    ap_eur = read(us_api, "Account", made["APAccountRef"]["value"])
    assert ap_eur["AccountType"] == "Accounts Payable" and ap_eur["CurrencyRef"]["value"] == "EUR"
    again = ok(us_api.create("Bill", bill(vendor=euro["Id"], CurrencyRef={"value": "EUR"}, ExchangeRate=1.2)),
               "Bill")
    assert again["APAccountRef"] == made["APAccountRef"]
    home_ap = bill(vendor=euro["Id"], CurrencyRef={"value": "EUR"}, APAccountRef={"value": AP})
    assert fault(us_api.create("Bill", home_ap)) == ("6000", "APAccountRef")
    assert fault(us_api.create("Bill", bill(vendor=euro["Id"])))[0] == "6000"       # USD bill, EUR vendor
    # paid from the home-currency bank account at the bill's rate
    paid = ok(pay(us_api, 100, ("Bill", made, 100), vendor=euro["Id"], CurrencyRef={"value": "EUR"},
                  ExchangeRate=1.1), "BillPayment")
    assert paid["APAccountRef"] == made["APAccountRef"]
    assert read(us_api, "Bill", made["Id"])["HomeBalance"] == 0
    cad_bank = ok(us_api.create("Account", {"Name": "CAD Bank", "AccountType": "Bank",
                                            "CurrencyRef": {"value": "CAD"}}), "Account")
    assert cad_bank["CurrencyRef"]["value"] == "CAD"
    answer = pay(us_api, 10, ("Bill", again, 10), vendor=euro["Id"], account=cad_bank["Id"],
                 CurrencyRef={"value": "EUR"}, ExchangeRate=1.2)
    assert fault(answer)[0] == "6000"


# ----- vendor credits and bill payments ------------------------------------------------------------------------
def test_partial_grouped_and_credit_applying_bill_payments(us_api):
    a = ok(us_api.create("Bill", bill(lines=[account_line(100)])), "Bill")
    b = ok(us_api.create("Bill", bill(lines=[account_line(200)])), "Bill")
    credit = ok(us_api.create("VendorCredit", bill(lines=[account_line(30)])), "VendorCredit")
    assert credit["Balance"] == 30 and "DueDate" not in credit
    assert read(us_api, "Vendor", "6")["Balance"] == 270                    # bills less the credit
    partial = ok(pay(us_api, 40, ("Bill", a, 40)), "BillPayment")
    assert partial["CheckPayment"] == {"BankAccountRef": {"value": CHECKING, "name": "Checking"},
                                       "PrintStatus": "NeedToPrint"}
    assert partial["APAccountRef"]["value"] == AP and partial["TotalAmt"] == 40
    after = read(us_api, "Bill", a["Id"])
    assert after["Balance"] == 60 and after["SyncToken"] == "1"
    assert after["LinkedTxn"] == [{"TxnId": partial["Id"], "TxnType": "BillPaymentCheck"}]
    stale = us_api.post("bill", {"Id": a["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "x"})
    assert stale.fault_code == "5010"
    # one card payment for the rest of both bills, the vendor credit used
    grouped = ok(pay(us_api, 230, ("Bill", a, 60), ("Bill", b, 200), ("VendorCredit", credit, 30),
                     pay_type="CreditCard", account=VISA), "BillPayment")
    assert grouped["CreditCardPayment"] == {"CCAccountRef": {"value": VISA, "name": "Visa"}}
    assert "CheckPayment" not in grouped
    assert [read(us_api, "Bill", x["Id"])["Balance"] for x in (a, b)] == [0, 0]
    assert read(us_api, "VendorCredit", credit["Id"])["Balance"] == 0
    assert read(us_api, "Bill", a["Id"])["LinkedTxn"] == [
        {"TxnId": partial["Id"], "TxnType": "BillPaymentCheck"},
        {"TxnId": grouped["Id"], "TxnType": "BillPaymentCreditCard"}]
    assert read(us_api, "VendorCredit", credit["Id"])["LinkedTxn"] == [
        {"TxnId": grouped["Id"], "TxnType": "BillPaymentCreditCard"}]
    assert read(us_api, "Vendor", "6")["Balance"] == 0
    # deleting the grouped payment restores every balance it touched
    gone = us_api.post("billpayment", {"Id": grouped["Id"], "SyncToken": grouped["SyncToken"]}, operation="delete")
    assert gone.status == 200 and gone.json["BillPayment"]["status"] == "Deleted"
    assert [read(us_api, "Bill", x["Id"])["Balance"] for x in (a, b)] == [60, 200]
    assert read(us_api, "VendorCredit", credit["Id"])["Balance"] == 30
    assert read(us_api, "Vendor", "6")["Balance"] == 230
    assert read(us_api, "Bill", a["Id"])["LinkedTxn"] == [{"TxnId": partial["Id"], "TxnType": "BillPaymentCheck"}]
    assert "LinkedTxn" not in read(us_api, "Bill", b["Id"])


def test_overpayment_left_as_vendor_credit_void_and_update(us_api):
    a = ok(us_api.create("Bill", bill(lines=[account_line(100)])), "Bill")
    over = ok(pay(us_api, 120, ("Bill", a, 100)), "BillPayment")
    assert read(us_api, "Bill", a["Id"])["Balance"] == 0
    assert read(us_api, "Vendor", "6")["Balance"] == -20                    # 20 left with the vendor
    voided = us_api.post("billpayment", {"Id": over["Id"], "SyncToken": "0", "sparse": True},
                         operation="update", include="void")
    assert voided.status == 200
    assert voided.json["BillPayment"]["TotalAmt"] == 0 and voided.json["BillPayment"]["PrivateNote"] == "Voided"
    assert read(us_api, "Bill", a["Id"])["Balance"] == 100 and "LinkedTxn" not in read(us_api, "Bill", a["Id"])
    assert read(us_api, "Vendor", "6")["Balance"] == 100
    part = ok(pay(us_api, 30, ("Bill", a, 30)), "BillPayment")
    more = ok(us_api.post("billpayment", dict(pay_body(part), TotalAmt=70,
                                              Line=[{"Amount": 70, "LinkedTxn": [{"TxnId": a["Id"], "TxnType": "Bill"}]}])),
              "BillPayment")
    assert more["SyncToken"] == "1" and read(us_api, "Bill", a["Id"])["Balance"] == 30
    assert read(us_api, "Vendor", "6")["Balance"] == 30


def pay_body(payment):
    body = {k: v for k, v in payment.items() if k not in ("MetaData", "domain", "sparse")}
    return body


def test_bill_payment_refusals(us_api):
    a = ok(us_api.create("Bill", bill(lines=[account_line(100)])), "Bill")
    other = ok(us_api.create("Bill", bill(vendor="5", lines=[account_line(10)])), "Bill")
    credit = ok(us_api.create("VendorCredit", bill(lines=[account_line(30)])), "VendorCredit")
    assert fault(pay(us_api, 150, ("Bill", a, 150)))[0] == "6000"                     # more than its balance
    assert fault(pay(us_api, 50, ("Bill", a, 80)))[0] == "6000"                       # unbalanced
    assert fault(pay(us_api, 10, ("Bill", other, 10)))[0] == "6000"                   # another vendor's bill
    assert fault(pay(us_api, 0, ("VendorCredit", credit, 30)))[0] == "6000"           # credit used on nothing
    assert fault(pay(us_api, 0, ("Bill", a, 10), ("VendorCredit", credit, 40)))[0] == "6000"
    assert fault(pay(us_api, -5))[0] == "6000"
    assert fault(pay(us_api, 0))[0] == "6000"                                         # pays nothing
    assert fault(pay(us_api, 5, ("Bill", a, -5)))[0] == "6000"
    assert fault(pay(us_api, 5, ("Invoice", a, 5)))[0] == "6000"
    assert fault(pay(us_api, 5, ("Bill", {"Id": "999"}, 5)))[0] == "2500"
    assert fault(pay(us_api, 5, ("Bill", a, 5), account=VISA))[0] == "6000"           # a check from a card
    assert fault(pay(us_api, 5, ("Bill", a, 5), pay_type="CreditCard", account=CHECKING))[0] == "6000"
    assert fault(pay(us_api, 5, ("Bill", a, 5), pay_type="Cash")) == ("2170", "PayType")
    assert fault(pay(us_api, 5, ("Bill", a, 5), PayType=None)) == ("2020", "PayType")
    assert fault(pay(us_api, 5, ("Bill", a, 5), CheckPayment={"PrintStatus": "NotSet"})) == \
        ("2020", "CheckPayment.BankAccountRef")
    assert fault(pay(us_api, 5, ("Bill", a, 5), CreditCardPayment={"CCAccountRef": {"value": VISA}}))[0] == "6000"
    assert fault(pay(us_api, 5, ("Bill", a, 5), CheckPayment={"BankAccountRef": {"value": CHECKING},
                                                               "PrintStatus": "Printed"}))[0] == "2170"
    ok(us_api.create("Vendor", {"DisplayName": "Inactive Payee", "Active": False}), "Vendor")
    assert read(us_api, "Bill", a["Id"])["Balance"] == 100 and read(us_api, "Vendor", "6")["Balance"] == 70


def test_paid_bill_keeps_its_payments(us_api):
    a = ok(us_api.create("Bill", bill(lines=[account_line(100)])), "Bill")
    credit = ok(us_api.create("VendorCredit", bill(lines=[account_line(30)])), "VendorCredit")
    payment = ok(pay(us_api, 40, ("Bill", a, 70), ("VendorCredit", credit, 30)), "BillPayment")
    a = read(us_api, "Bill", a["Id"])
    for entity, doc in (("Bill", a), ("VendorCredit", read(us_api, "VendorCredit", credit["Id"]))):
        answer = us_api.post(entity.lower(), {"Id": doc["Id"], "SyncToken": doc["SyncToken"]}, operation="delete")
        assert fault(answer) == ("6000", "Id") and payment["Id"] in answer.json["Fault"]["Error"][0]["Detail"]
    # a bill is voided in QuickBooks' own screens only: the API refuses it
    assert us_api.post("bill", {"Id": a["Id"], "SyncToken": a["SyncToken"]}, operation="void").fault_code == "500"
    less = dict(bill(lines=[account_line(50)]), Id=a["Id"], SyncToken=a["SyncToken"])
    assert fault(us_api.post("bill", less))[0] == "6000"                    # below what is paid
    moved = dict(bill(vendor="5"), Id=a["Id"], SyncToken=a["SyncToken"])
    assert fault(us_api.post("bill", moved)) == ("6000", "VendorRef")
    more = ok(us_api.post("bill", dict(bill(lines=[account_line(150)]), Id=a["Id"], SyncToken=a["SyncToken"])),
              "Bill")
    assert more["Balance"] == 80 and more["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "BillPaymentCheck"}]
    assert read(us_api, "Vendor", "6")["Balance"] == 80
    # sent back as read, nothing changes: SyncToken kept
    assert ok(us_api.post("bill", more), "Bill")["SyncToken"] == more["SyncToken"]
    sparse = ok(us_api.post("bill", {"Id": a["Id"], "SyncToken": more["SyncToken"], "sparse": True,
                                     "PrivateNote": "checked"}), "Bill")
    assert sparse["Balance"] == 80 and sparse["TotalAmt"] == 150


def test_closed_books_refuse_transactions_dated_in_the_closed_period(sim, us_api):
    early = ok(us_api.create("Bill", bill(TxnDate="2026-01-10")), "Bill")
    sale = ok(us_api.create("Invoice", invoice(TxnDate="2026-01-12")), "Invoice")
    answer = requests.post(sim.url + "/admin/close_books", json={"realm_id": US_REALM, "date": "2026-01-31"},
                           timeout=5)
    assert answer.status_code == 200
    assert read(us_api, "Preferences", "1")["AccountingInfoPrefs"]["BookCloseDate"] == "2026-01-31"
    answer = us_api.create("Bill", bill(TxnDate="2026-01-31"))
    assert fault(answer) == ("6200", "TxnDate")
    assert answer.json["Fault"]["Error"][0]["Message"] == "Account Period Closed"
    assert fault(us_api.create("Invoice", invoice(TxnDate="2025-12-01")))[0] == "6200"
    ok(us_api.create("Bill", bill(TxnDate="2026-02-01")), "Bill")
    moved = {"Id": early["Id"], "SyncToken": "0", "sparse": True, "TxnDate": "2026-02-05"}
    assert fault(us_api.post("bill", moved))[0] == "6200"                  # out of the closed period: no
    assert fault(us_api.post("bill", {"Id": early["Id"], "SyncToken": "0"}, operation="delete"))[0] == "6200"
    assert fault(us_api.post("invoice", {"Id": sale["Id"], "SyncToken": "0"}, operation="void"))[0] == "6200"
    # a payment dated after the closing date may still pay a bill dated before it
    ok(pay(us_api, 100, ("Bill", early, 100), TxnDate="2026-02-10"), "BillPayment")
    sim.close_books(US_REALM, "2026-01-31", password=True)
    assert fault(us_api.create("Bill", bill(TxnDate="2026-01-02")))[0] == "6210"
    sim.close_books(US_REALM, None)
    ok(us_api.create("Bill", bill(TxnDate="2026-01-02")), "Bill")


def test_bills_in_batches_queries_cdc_webhooks_and_metering(sim, us_api):
    first = ok(us_api.create("Bill", bill(DocNumber="Q-1")), "Bill")
    answer = us_api.post("batch", {"BatchItemRequest": [
        {"bId": "1", "operation": "create", "Bill": bill(DocNumber="Q-2")},
        {"bId": "2", "operation": "create", "BillPayment": {
            "VendorRef": {"value": "6"}, "PayType": "Check", "TotalAmt": 100,
            "CheckPayment": {"BankAccountRef": {"value": CHECKING}},
            "Line": [{"Amount": 100, "LinkedTxn": [{"TxnId": first["Id"], "TxnType": "Bill"}]}]}},
        {"bId": "3", "operation": "create", "BillPayment": {
            "VendorRef": {"value": "6"}, "PayType": "Check", "TotalAmt": 100,
            "CheckPayment": {"BankAccountRef": {"value": CHECKING}},
            "Line": [{"Amount": 100, "LinkedTxn": [{"TxnId": str(int(first["Id"]) + 1), "TxnType": "Bill"}]}]}},
        {"bId": "4", "Query": "select * from Bill where VendorRef = '6' and Balance > '0'"}]})
    items = {i["bId"]: i for i in answer.json["BatchItemResponse"]}
    assert "Bill" in items["1"] and "BillPayment" in items["2"]
    assert items["3"]["Fault"]["Error"][0]["code"] == "2500"    # a bill made earlier in the same batch
    assert [b["DocNumber"] for b in items["4"]["QueryResponse"]["Bill"]] == ["Q-2"]   # Q-1 paid by item 2
    open_bills = us_api.query("select * from Bill where Balance > '0'").json["QueryResponse"]["Bill"]
    assert [b["DocNumber"] for b in open_bills] == ["Q-2"]
    assert us_api.query("select count(*) from BillPayment").json["QueryResponse"]["totalCount"] == 1
    changes = us_api.get("cdc", entities="Bill,BillPayment,VendorCredit", changedSince="2020-01-01T00:00:00Z")
    found = {e: [r["Id"] for r in rows] for block in changes.json["CDCResponse"][0]["QueryResponse"]
             for e, rows in block.items() if isinstance(rows, list)}
    assert sorted(found["Bill"]) == sorted([first["Id"], items["1"]["Bill"]["Id"]])
    assert found["BillPayment"] == [items["2"]["BillPayment"]["Id"]] and "VendorCredit" not in found
    usage = sim.usage(US_REALM)
    month = next(iter(usage.values()))
    # Core: the create and the batch's three writes (the refused one too); CorePlus: the batch query, 2 queries, CDC
    assert month["core"] == 4 and month["coreplus"] == 4


def test_webhook_events_for_bills_and_bill_payments(sim, us_api):
    seen = []
    sim.webhooks.configure("http://receiver.invalid/hook", "verifier", auto=False)
    made = ok(us_api.create("Bill", bill()), "Bill")
    payment = ok(pay(us_api, 100, ("Bill", made, 100)), "BillPayment")
    us_api.post("billpayment", {"Id": payment["Id"], "SyncToken": "0"}, operation="delete")

    def send(url, body, headers):
        import json
        seen.extend(json.loads(body))
        return 200
    assert sim.webhooks.flush(send=send) == [200]
    assert [e["type"] for e in seen] == ["qbo.bill.created.v1", "qbo.billpayment.created.v1",
                                         "qbo.billpayment.deleted.v1"]


@pytest.mark.parametrize("realm", [US_REALM, CA_REALM])
def test_every_answer_is_accepted_back_by_the_write_schema(sim, realm):
    from simulator.client import SimClient
    api = SimClient(sim.url, realm, sim.issue_tokens(realm)["access_token"])
    tax = None if realm == US_REALM else "4"
    made = ok(api.create("Bill", bill(lines=[account_line(100, tax=tax), item_line(qty=1, price=5, tax=tax)])),
              "Bill")
    credit = ok(api.create("VendorCredit", bill(lines=[account_line(10, tax=tax)])), "VendorCredit")
    payment = ok(pay(api, 50, ("Bill", made, 60), ("VendorCredit", credit, 10)), "BillPayment")
    for entity, rid in (("Bill", made["Id"]), ("VendorCredit", credit["Id"]), ("BillPayment", payment["Id"]),
                        ("Vendor", "6"), ("Account", AP)):
        answer = read(api, entity, rid)
        schema.check(entity, answer)     # what QuickBooks answers, a client may send back
        again = ok(api.post(entity.lower(), answer), entity)
        assert again["SyncToken"] == answer["SyncToken"], entity


def test_the_page_shows_payables_and_acts_as_a_quickbooks_user(sim, us_api):
    from test_sim_webhooks import post_form
    made = ok(us_api.create("Bill", bill(DocNumber="PAGE-1", lines=[account_line(80)])), "Bill")
    other = ok(us_api.create("Bill", bill(DocNumber="PAGE-2")), "Bill")
    home = urllib.request.urlopen(sim.url + "/").read().decode()
    for text in ("<h3>Bills</h3>", "<h3>Bill payments</h3>", "<h3>Vendor credits</h3>", "<h3>Vendors</h3>",
                 "PAGE-1", "Acme Supplies Vendor"):
        assert text in home, text
    page = urllib.request.urlopen(sim.url + "/app/bill?txnId=%s&realmId=%s" % (made["Id"], US_REALM)).read().decode()
    assert "Pay bill" in page and "Supplies" in page
    assert post_form(sim, "/company/%s/bill/%s/pay" % (US_REALM, made["Id"]), amount="30").status == 303
    stored = read(us_api, "Bill", made["Id"])
    assert stored["Balance"] == 50 and stored["LinkedTxn"][0]["TxnType"] == "BillPaymentCheck"
    payment_id = stored["LinkedTxn"][0]["TxnId"]
    assert "Bill %s: 30" % made["Id"] in urllib.request.urlopen(sim.url + "/").read().decode()
    # a person voids a bill in QuickBooks' screens (the API may not), once its payment is gone
    assert post_form(sim, "/company/%s/bill/%s/void" % (US_REALM, made["Id"])).status == 400
    assert post_form(sim, "/company/%s/billpayment/%s/void" % (US_REALM, payment_id)).status == 303
    assert post_form(sim, "/company/%s/bill/%s/void" % (US_REALM, made["Id"])).status == 303
    voided = read(us_api, "Bill", made["Id"])
    assert voided["TotalAmt"] == voided["Balance"] == 0 and voided["PrivateNote"] == "Voided"
    assert post_form(sim, "/company/%s/bill/%s/delete" % (US_REALM, other["Id"])).status == 303
    assert us_api.read("Bill", other["Id"]).fault_code == "610"
    assert read(us_api, "Vendor", "6")["Balance"] == 0
