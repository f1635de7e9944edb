"""Strictness: a write property QuickBooks does not know is refused with 2010, single call or batch item."""
import json

import pytest

from simulator import schema
from simulator.errors import QBOError
from simulator.seed import US_REALM


def fault(answer):
    assert answer.status == 400, answer
    error = answer.json["Fault"]["Error"][0]
    return error["code"], error.get("element"), error["Message"], error["Detail"]


def invoice(**extra):
    body = {"CustomerRef": {"value": "1"},
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 100,
                      "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "TaxCodeRef": {"value": "NON"}}}]}
    body.update(extra)
    return body


@pytest.mark.parametrize("body, element", [
    ({"DisplayName": "Typo Co", "PrimaryEmailAdr": {"Address": "a@b.c"}}, "PrimaryEmailAdr"),
    ({"DisplayName": "Nested Co", "BillAddr": {"Line1": "1 Main", "Street": "x"}}, "BillAddr.Street"),
    ({"DisplayName": "Ref Co", "SalesTermRef": {"value": "3", "Id": "3"}}, "SalesTermRef.Id"),
    ({"DisplayName": "Case Co", "displayName": "x"}, "displayName"),
])
def test_unknown_customer_property_is_refused_and_nothing_stored(sim, us_api, body, element):
    before = len(sim.entities(US_REALM, "Customer"))
    code, where, message, detail = fault(us_api.create("Customer", body))
    assert code == "2010" and where == element
    assert message == "Request has invalid or unsupported property"
    assert element.split(".")[-1] in detail and "Unrecognized field" in detail
    assert len(sim.entities(US_REALM, "Customer")) == before


def test_unknown_property_deep_in_an_invoice_line_is_refused(us_api):
    body = invoice()
    body["Line"][0]["SalesItemLineDetail"]["TaxCode"] = {"value": "TAX"}
    code, where, _message, detail = fault(us_api.create("Invoice", body))
    assert code == "2010" and where == "Line[0].SalesItemLineDetail.TaxCode"
    assert "SalesItemLineDetail" in detail
    body = invoice(TxnTaxDetail={"TxnTaxCodeRef": {"value": "2"}, "TaxLine": [{"Amount": 1, "Rate": 2}]})
    assert fault(us_api.create("Invoice", body))[:2] == ("2010", "TxnTaxDetail.TaxLine[0].Rate")
    body = invoice(LinkedTxn=[{"TxnId": "1", "TxnType": "Estimate", "Type": "x"}])
    assert fault(us_api.create("Invoice", body))[:2] == ("2010", "LinkedTxn[0].Type")


def test_object_where_a_value_belongs_and_the_reverse_are_refused(us_api):
    assert fault(us_api.create("Customer", {"DisplayName": "Shape Co", "CompanyName": {"value": "x"}}))[:2] \
        == ("2010", "CompanyName")
    assert fault(us_api.create("Invoice", invoice(CustomerRef="1")))[:2] == ("2010", "CustomerRef")
    assert fault(us_api.create("Invoice", invoice(Line={"DetailType": "SalesItemLineDetail"})))[:2] \
        == ("2010", "Line")


def test_fields_intuit_accepts_but_the_addon_does_not_send_yet_are_accepted(us_api):
    # a class is looked up like any reference: it must exist in the company's Class list
    assert us_api.create("Class", {"Name": "Retail"}).json["Class"]["Id"] == "1"
    body = invoice(ClassRef={"value": "1"}, DepartmentRef=None, GlobalTaxCalculation="TaxExcluded",
                   TxnTaxDetail={"TxnTaxCodeRef": {"value": "2"}, "TotalTax": 0, "TaxLine": []},
                   ExchangeRate=1, CurrencyRef={"value": "USD", "name": "United States Dollar"},
                   LinkedTxn=[], BillEmail={"Address": "x@example.com"}, ShipAddr={"Line1": "1 Main", "Id": "9"},
                   AllowOnlineCreditCardPayment=True, SalesRepRef=None, CustomField=[
                       {"DefinitionId": "1", "Name": "PO", "Type": "StringType", "StringValue": "42"}],
                   ShipDate="2026-01-05", TrackingNum="1Z", ApplyTaxAfterDiscount=False)
    body["Line"].append({"DetailType": "DiscountLineDetail", "Amount": 5,
                         "DiscountLineDetail": {"PercentBased": False, "DiscountAccountRef": {"value": "1"}}})
    body["Line"].append({"DetailType": "DescriptionOnly", "Description": "note", "DescriptionLineDetail": {}})
    body["Line"][0]["SalesItemLineDetail"].update(ClassRef={"value": "1"}, ServiceDate="2026-01-02",
                                                   ItemAccountRef={"value": "1"})
    answer = us_api.create("Invoice", body)
    assert answer.status == 200, answer.json
    payment = {"CustomerRef": {"value": "1"}, "TotalAmt": 10, "PaymentMethodRef": {"value": "1"},
               "DepositToAccountRef": {"value": "8"}, "PaymentRefNum": "CHK-1", "UnappliedAmt": 10,
               "ProcessPayment": False, "PrivateNote": "x",
               "Line": [{"Amount": 10, "LinkedTxn": [{"TxnId": answer.json["Invoice"]["Id"], "TxnType": "Invoice"}]}]}
    assert us_api.create("Payment", payment).status == 200


def test_batch_item_with_unknown_property_fails_alone(us_api):
    answer = us_api.post("batch", {"BatchItemRequest": [
        {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Good One"}},
        {"bId": "2", "operation": "create", "Customer": {"DisplayName": "Bad One", "Nickname": "x"}},
        {"bId": "3", "operation": "create", "Customer": {"DisplayName": "Other"}, "Options": "x"},
    ]})
    assert answer.status == 200
    items = {item["bId"]: item for item in answer.json["BatchItemResponse"]}
    assert items["1"]["Customer"]["DisplayName"] == "Good One"
    for bid, element in (("2", "Nickname"), ("3", "Options")):
        error = items[bid]["Fault"]["Error"][0]
        assert error["code"] == "2010" and error["element"] == element


def test_delete_and_void_bodies_are_checked_too(us_api):
    inv = us_api.create("Invoice", invoice()).json["Invoice"]
    answer = us_api.post("invoice?operation=void", {"Id": inv["Id"], "SyncToken": inv["SyncToken"], "Reason": "x"})
    assert fault(answer)[:2] == ("2010", "Reason")


def test_schema_covers_every_entity_the_simulator_writes():
    from simulator.store import WRITABLE
    assert WRITABLE <= set(schema.ENTITY_TYPES)
    for name, (base, _scalars, nested) in schema.TYPES.items():
        assert base is None or base in schema.TYPES, name
        for spec in nested.values():
            spec = spec[0] if isinstance(spec, list) else spec
            assert spec in (None, schema.ANY) or spec in schema.TYPES, (name, spec)
    with pytest.raises(QBOError) as err:
        schema.check("Term", {"Name": "Net 10", "DueDays": 10, "Days": 10})
    assert err.value.code == "2010"


# ----- python-quickbooks serialises every attribute it knows, empty defaults included ----------------------
PQB_CLASSES = [
    ("customer", "Customer"), ("vendor", "Vendor"), ("employee", "Employee"), ("item", "Item"),
    ("account", "Account"), ("term", "Term"), ("invoice", "Invoice"), ("estimate", "Estimate"),
    ("creditmemo", "CreditMemo"), ("payment", "Payment"), ("attachable", "Attachable"),
    ("paymentmethod", "PaymentMethod"), ("department", "Department"), ("salesreceipt", "SalesReceipt"),
    ("refundreceipt", "RefundReceipt"), ("trackingclass", "Class"),
]


@pytest.mark.parametrize("module, entity", PQB_CLASSES)
def test_python_quickbooks_default_objects_are_accepted(module, entity):
    objects = pytest.importorskip("quickbooks.objects." + module)
    cls = next(c for c in vars(objects).values()
               if isinstance(c, type) and getattr(c, "qbo_object_name", None) == entity)
    schema.check(entity, json.loads(cls().to_json()))


def test_python_quickbooks_lines_and_nested_objects_are_accepted():
    pytest.importorskip("quickbooks")
    from quickbooks.objects import base, detailline
    from quickbooks.objects.invoice import DeliveryInfo, Invoice
    from quickbooks.objects.payment import Payment, PaymentLine
    from quickbooks.objects.tax import TaxLine, TaxLineDetail, TxnTaxDetail

    inv = Invoice()
    inv.BillAddr, inv.ShipAddr, inv.BillEmail = base.Address(), base.Address(), base.EmailAddress()
    inv.CustomerRef, inv.CustomerMemo, inv.DeliveryInfo = base.Ref(), base.CustomerMemo(), DeliveryInfo()
    inv.LinkedTxn, inv.CustomField = [base.LinkedTxn()], [base.CustomField()]
    sales = detailline.SalesItemLine()
    sales.SalesItemLineDetail = detailline.SalesItemLineDetail()
    sales.SalesItemLineDetail.MarkupInfo = base.MarkupInfo()
    discount = detailline.DiscountLine()
    discount.DiscountLineDetail = detailline.DiscountLineDetail()
    discount.DiscountLineDetail.DiscountAccountRef = base.Ref()
    text = detailline.DescriptionOnlyLine()
    text.DescriptionLineDetail = detailline.DescriptionLineDetail()
    group = detailline.GroupLine()
    group.GroupLineDetail = detailline.GroupLineDetail()
    inv.Line = [sales, discount, text, group]
    tax_line = TaxLine()
    tax_line.TaxLineDetail = TaxLineDetail()
    inv.TxnTaxDetail = TxnTaxDetail()
    inv.TxnTaxDetail.TaxLine = [tax_line]
    schema.check("Invoice", json.loads(inv.to_json()))
    pay = Payment()
    pay.Line = [PaymentLine()]
    pay.Line[0].LinkedTxn = [base.LinkedTxn()]
    schema.check("Payment", json.loads(pay.to_json()))


def test_python_quickbooks_attributes_quickbooks_does_not_know_are_refused():
    """python-quickbooks declares two attributes Intuit's schema has not: QBO refuses them, so does the simulator."""
    pytest.importorskip("quickbooks")
    from quickbooks.objects import detailline
    from quickbooks.objects.invoice import Invoice

    inv = Invoice()
    inv.Line = [detailline.SubtotalLine()]
    inv.Line[0].SubtotalLineDetail = detailline.SubtotalLineDetail()   # QBO's name is SubTotalLineDetail
    with pytest.raises(QBOError) as err:
        schema.check("Invoice", json.loads(inv.to_json()))
    assert err.value.code == "2010" and err.value.element == "Line[0].SubtotalLineDetail"
    inv.Line = [detailline.DiscountLine()]
    inv.Line[0].DiscountLineDetail = detailline.DiscountLineDetail()
    inv.Line[0].DiscountLineDetail.Discount = detailline.DiscountOverride()
    with pytest.raises(QBOError) as err:
        schema.check("Invoice", json.loads(inv.to_json()))
    assert err.value.element == "Line[0].DiscountLineDetail.Discount"
