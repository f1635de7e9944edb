"""Payments in the simulator: lines linked to invoices and credit memos, balances of each
transaction and customer, unapplied amounts, credit applications, deletion restoring balances."""
from test_sim_api import invoice, line, ok


def pay(api, total, *links, customer="1", **extra):
    body = {"CustomerRef": {"value": customer}, "TotalAmt": total,
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": txn["Id"], "TxnType": kind}]}
                     for kind, txn, amount in links]}
    body.update(extra)
    return api.create("Payment", body)


def balance(api, entity, rid):
    return ok(api.read(entity, rid), entity)["Balance"]


def test_partial_then_grouped_then_over_payment(us_api):
    a = ok(us_api.create("Invoice", invoice(lines=[line(amount=100, tax="NON")])), "Invoice")
    b = ok(us_api.create("Invoice", invoice(lines=[line(amount=200, tax="NON")])), "Invoice")
    c = ok(us_api.create("Invoice", invoice(lines=[line(amount=300, tax="NON")])), "Invoice")
    assert balance(us_api, "Customer", "1") == 600
    partial = ok(pay(us_api, 40, ("Invoice", a, 40)), "Payment")
    assert balance(us_api, "Invoice", a["Id"]) == 60 and balance(us_api, "Customer", "1") == 560
    grouped = ok(pay(us_api, 560, ("Invoice", a, 60), ("Invoice", b, 200), ("Invoice", c, 300)), "Payment")
    assert grouped["UnappliedAmt"] == 0
    assert [balance(us_api, "Invoice", x["Id"]) for x in (a, b, c)] == [0, 0, 0]
    over = ok(pay(us_api, 25), "Payment")
    assert over["UnappliedAmt"] == 25
    assert balance(us_api, "Customer", "1") == -25
    # deleting the grouped payment restores every balance it touched
    ok(us_api.post("payment", {"Id": grouped["Id"], "SyncToken": grouped["SyncToken"]}, operation="delete"), "Payment")
    assert [balance(us_api, "Invoice", x["Id"]) for x in (a, b, c)] == [60, 200, 300]
    assert balance(us_api, "Customer", "1") == 535
    inv_a = ok(us_api.read("Invoice", a["Id"]), "Invoice")
    assert inv_a["LinkedTxn"] == [{"TxnId": partial["Id"], "TxnType": "Payment"}]


def test_payment_bumps_invoice_sync_token(us_api):
    inv = ok(us_api.create("Invoice", invoice(lines=[line(amount=100, tax="NON")])), "Invoice")
    ok(pay(us_api, 10, ("Invoice", inv, 10)), "Payment")
    assert ok(us_api.read("Invoice", inv["Id"]), "Invoice")["SyncToken"] == "1"
    stale = us_api.post("invoice", {"Id": inv["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "x"})
    assert stale.fault_code == "5010"


def test_over_application_refused(us_api):
    inv = ok(us_api.create("Invoice", invoice(lines=[line(amount=100, tax="NON")])), "Invoice")
    assert pay(us_api, 150, ("Invoice", inv, 150)).fault_code == "6000"
    assert pay(us_api, 50, ("Invoice", inv, 80)).fault_code == "6000"      # more than the payment
    ok(pay(us_api, 70, ("Invoice", inv, 70)), "Payment")
    assert pay(us_api, 40, ("Invoice", inv, 40)).fault_code == "6000"      # more than the open balance
    assert pay(us_api, 5, ("Invoice", inv, -5)).fault_code == "6000"
    other = ok(us_api.create("Invoice", invoice(customer="2", lines=[line(amount=10, tax="NON")])), "Invoice")
    assert pay(us_api, 10, ("Invoice", other, 10)).fault_code == "6000"   # another customer's


def test_credit_memo_applied_by_zero_payment_and_unapplied(us_api):
    inv = ok(us_api.create("Invoice", invoice(lines=[line(amount=100, tax="NON")])), "Invoice")
    memo = ok(us_api.create("CreditMemo", invoice(lines=[line(amount=30, tax="NON")])), "CreditMemo")
    assert balance(us_api, "Customer", "1") == 70, "a credit memo lowers the customer's balance"
    applied = ok(pay(us_api, 0, ("Invoice", inv, 30), ("CreditMemo", memo, 30)), "Payment")
    assert applied["TotalAmt"] == 0 and applied["UnappliedAmt"] == 0
    assert balance(us_api, "Invoice", inv["Id"]) == 70
    memo_now = ok(us_api.read("CreditMemo", memo["Id"]), "CreditMemo")
    assert memo_now["Balance"] == 0 and memo_now["RemainingCredit"] == 0 and memo_now["SyncToken"] == "1"
    assert memo_now["LinkedTxn"] == [{"TxnId": applied["Id"], "TxnType": "Payment"}]
    assert balance(us_api, "Customer", "1") == 70
    # more credit than the memo holds, or credit used on nothing, is refused
    assert pay(us_api, 0, ("Invoice", inv, 10), ("CreditMemo", memo, 10)).fault_code == "6000"
    memo2 = ok(us_api.create("CreditMemo", invoice(lines=[line(amount=5, tax="NON")])), "CreditMemo")
    assert pay(us_api, 0, ("CreditMemo", memo2, 5)).fault_code == "6000"
    # unapplying: the payment deleted, the invoice and the memo are open again
    ok(us_api.post("payment", {"Id": applied["Id"], "SyncToken": "0"}, operation="delete"), "Payment")
    assert balance(us_api, "Invoice", inv["Id"]) == 100 and balance(us_api, "CreditMemo", memo["Id"]) == 30
    assert balance(us_api, "Customer", "1") == 65


def test_payment_update_and_void_move_balances(us_api):
    inv = ok(us_api.create("Invoice", invoice(lines=[line(amount=100, tax="NON")])), "Invoice")
    payment = ok(pay(us_api, 100, ("Invoice", inv, 100)), "Payment")
    assert balance(us_api, "Customer", "1") == 0
    # unreconciled: the lines go, the money stays unapplied on the customer
    updated = ok(us_api.post("payment", {"Id": payment["Id"], "SyncToken": "0", "CustomerRef": {"value": "1"},
                                         "TotalAmt": 100, "Line": []}), "Payment")
    assert updated["UnappliedAmt"] == 100
    assert balance(us_api, "Invoice", inv["Id"]) == 100 and balance(us_api, "Customer", "1") == 0
    voided = ok(us_api.post("payment", {"Id": payment["Id"], "SyncToken": updated["SyncToken"]}, operation="void"),
                "Payment")
    assert voided["TotalAmt"] == 0
    assert balance(us_api, "Customer", "1") == 100


def test_foreign_currency_payment(us_api):
    cust = ok(us_api.create("Customer", {"DisplayName": "Euro Client", "CurrencyRef": {"value": "EUR"}}), "Customer")
    inv = ok(us_api.create("Invoice", invoice(customer=cust["Id"], lines=[line(amount=100, tax="NON")],
                                              CurrencyRef={"value": "EUR"}, ExchangeRate=1.1)), "Invoice")
    assert pay(us_api, 40, ("Invoice", inv, 40), customer=cust["Id"]).fault_code == "6000", "currency must match"
    payment = ok(pay(us_api, 40, ("Invoice", inv, 40), customer=cust["Id"], CurrencyRef={"value": "EUR"},
                     ExchangeRate=1.2), "Payment")
    assert payment["ExchangeRate"] == 1.2
    assert balance(us_api, "Invoice", inv["Id"]) == 60
    assert balance(us_api, "Customer", cust["Id"]) == 60


def test_void_or_delete_refused_while_a_payment_applies_it(us_api):
    """QuickBooks voids no invoice a Payment settles: the Payment's line is removed first."""
    inv = ok(us_api.create("Invoice", invoice(lines=[line(amount=100, tax="NON")])), "Invoice")
    memo = ok(us_api.create("CreditMemo", invoice(lines=[line(amount=30, tax="NON")])), "CreditMemo")
    payment = ok(pay(us_api, 40, ("Invoice", inv, 70), ("CreditMemo", memo, 30)), "Payment")
    current = ok(us_api.read("Invoice", inv["Id"]), "Invoice")
    for entity, txn in (("invoice", current), ("creditmemo", ok(us_api.read("CreditMemo", memo["Id"]), "CreditMemo"))):
        for operation in ("void", "delete"):
            answer = us_api.post(entity, {"Id": txn["Id"], "SyncToken": txn["SyncToken"]}, operation=operation)
            assert answer.fault_code == "6000" and "Payment %s" % payment["Id"] in str(answer.json)
    assert balance(us_api, "Invoice", inv["Id"]) == 30 and balance(us_api, "Customer", "1") == 30
    # the payment no longer applies them: voiding goes through, balances follow
    unapplied = ok(us_api.post("payment", {"Id": payment["Id"], "SyncToken": payment["SyncToken"],
                                           "CustomerRef": {"value": "1"}, "TotalAmt": 40, "Line": []}), "Payment")
    assert unapplied["UnappliedAmt"] == 40
    current = ok(us_api.read("Invoice", inv["Id"]), "Invoice")
    voided = ok(us_api.post("invoice", {"Id": inv["Id"], "SyncToken": current["SyncToken"]}, operation="void"),
                "Invoice")
    assert voided["Balance"] == 0
    memo = ok(us_api.read("CreditMemo", memo["Id"]), "CreditMemo")
    ok(us_api.post("creditmemo", {"Id": memo["Id"], "SyncToken": memo["SyncToken"]}, operation="delete"), "CreditMemo")
    assert balance(us_api, "Customer", "1") == -40
