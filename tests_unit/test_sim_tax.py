"""The simulator's sales tax (simulator/tax.py): tax-inclusive lines, group codes, explicit
transaction tax, as QuickBooks Online computes them."""
from test_sim_api import invoice, line, ok


def gross_line(gross, tax, item="1"):
    return {"DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": item}, "TaxCodeRef": {"value": tax},
                                    "TaxInclusiveAmt": gross}}


def rates(inv):
    return {t["TaxLineDetail"]["TaxRateRef"]["value"]: t["Amount"] for t in inv["TxnTaxDetail"]["TaxLine"]}


def test_inclusive_line_given_gross_only(ca_api):
    inv = ok(ca_api.create("Invoice", invoice(lines=[gross_line(113, "4")],
                                              GlobalTaxCalculation="TaxInclusive")), "Invoice")
    item = inv["Line"][0]
    assert item["Amount"] == 100 and item["SalesItemLineDetail"]["TaxInclusiveAmt"] == 113
    assert inv["TxnTaxDetail"]["TotalTax"] == 13 and inv["TotalAmt"] == 113


def test_inclusive_amount_is_net_as_in_qbo(ca_api):
    inv = ok(ca_api.create("Invoice", invoice(lines=[line(amount=100, tax="4")],
                                              GlobalTaxCalculation="TaxInclusive")), "Invoice")
    assert inv["TotalAmt"] == 113 and inv["Line"][0]["SalesItemLineDetail"]["TaxInclusiveAmt"] == 113


def test_group_code_splits_per_rate(ca_api):
    inv = ok(ca_api.create("Invoice", invoice(lines=[line(amount=10.05, tax="5"), line(amount=10.05, tax="5")])),
             "Invoice")
    # GST 5 % of 20.10 = 1.005, PST BC 7 % = 1.407: 2.412 rounded once -> 2.41 (Odoo per tax: 1.01 + 1.41)
    assert inv["TxnTaxDetail"]["TotalTax"] == 2.41
    assert rates(inv) == {"1": 1.01, "3": 1.4}


def test_non_us_tax_line_override(ca_api):
    body = invoice(lines=[line(amount=10.05, tax="5"), line(amount=10.05, tax="5")],
                   TxnTaxDetail={"TaxLine": [
                       {"Amount": 1.01, "DetailType": "TaxLineDetail", "TaxLineDetail": {"TaxRateRef": {"value": "1"}}},
                       {"Amount": 1.41, "DetailType": "TaxLineDetail", "TaxLineDetail": {"TaxRateRef": {"value": "3"}}}]})
    inv = ok(ca_api.create("Invoice", body), "Invoice")
    assert inv["TxnTaxDetail"]["TotalTax"] == 2.42 and inv["TotalAmt"] == 22.52
    assert rates(inv) == {"1": 1.01, "3": 1.41}
    pst = [t for t in inv["TxnTaxDetail"]["TaxLine"] if t["TaxLineDetail"]["TaxRateRef"]["value"] == "3"][0]
    assert pst["TaxLineDetail"]["OverrideDeltaAmount"] == 0.01
    # a sparse update that does not resend the tax keeps the override, not the old computed amounts
    upd = ok(ca_api.post("invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"], "sparse": True,
                                      "PrivateNote": "kept"}), "Invoice")
    assert upd["TotalAmt"] == 22.52


def test_zero_rated_line_carries_no_tax(ca_api):
    """A zero-rated (0 %) rate never carries tax, not even the cent of rounding per transaction:
    with every charging rate given explicitly, the total is theirs."""
    lines = [line(amount=29.65, tax="3"), line(amount=249.2, tax="4"), line(amount=1077.99, tax="8"),
             line(amount=329.09, tax="3")]
    inv = ok(ca_api.create("Invoice", invoice(lines=lines)), "Invoice")
    assert rates(inv)["5"] == 0
    body = invoice(lines=lines, TxnTaxDetail={"TaxLine": [
        {"Amount": 17.93, "DetailType": "TaxLineDetail", "TaxLineDetail": {"TaxRateRef": {"value": "1"}}},
        {"Amount": 32.4, "DetailType": "TaxLineDetail", "TaxLineDetail": {"TaxRateRef": {"value": "2"}}}]})
    inv = ok(ca_api.create("Invoice", body), "Invoice")
    assert rates(inv) == {"1": 17.93, "2": 32.4, "5": 0}
    assert inv["TxnTaxDetail"]["TotalTax"] == 50.33 and inv["TotalAmt"] == 1736.26


def test_non_us_override_of_unused_rate_refused(ca_api):
    body = invoice(lines=[line(amount=100, tax="3")], TxnTaxDetail={"TaxLine": [
        {"Amount": 7, "DetailType": "TaxLineDetail", "TaxLineDetail": {"TaxRateRef": {"value": "3"}}}]})
    answer = ca_api.create("Invoice", body)
    assert answer.status == 400 and answer.fault_code == "6000"


def test_us_explicit_total_tax(us_api):
    body = invoice(lines=[line(amount=10.05, tax="TAX"), line(amount=10.05, tax="TAX")],
                   TxnTaxDetail={"TxnTaxCodeRef": {"value": "2"}, "TotalTax": 1.67})
    inv = ok(us_api.create("Invoice", body), "Invoice")
    # computed: 20.10 x 8.25 % = 1.65825 -> 1.66; the caller's 1.67 is kept
    assert inv["TxnTaxDetail"]["TotalTax"] == 1.67 and inv["TotalAmt"] == 21.77
    assert sum(rates(inv).values()) == 1.67
    upd = ok(us_api.post("invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"], "sparse": True,
                                      "PrivateNote": "kept"}), "Invoice")
    assert upd["TotalAmt"] == 21.77


def test_us_total_tax_without_taxable_line_refused(us_api):
    body = invoice(lines=[line(amount=10, tax="NON")], TxnTaxDetail={"TxnTaxCodeRef": {"value": "2"}, "TotalTax": 1})
    answer = us_api.create("Invoice", body)
    assert answer.status == 400 and answer.fault_code == "6000"
