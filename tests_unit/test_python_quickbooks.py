"""python-quickbooks 0.9.12 and intuit-oauth 1.2.6, used as documented and unchanged, against the simulator."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

pytest.importorskip("quickbooks")
pytest.importorskip("intuitlib")

from intuitlib.client import AuthClient  # noqa: E402
from intuitlib.enums import Scopes  # noqa: E402
from intuitlib.exceptions import AuthClientError  # noqa: E402
from quickbooks import QuickBooks  # noqa: E402
from quickbooks.batch import batch_create  # noqa: E402
from quickbooks.exceptions import (AuthorizationException, ObjectNotFoundException,  # noqa: E402
                                   QuickbooksException, SevereException, UnsupportedException,
                                   ValidationException)
from quickbooks.objects.base import LinkedTxn, Ref  # noqa: E402
from quickbooks.objects.bill import Bill  # noqa: E402
from quickbooks.objects.billpayment import (BillPayment, BillPaymentCreditCard, BillPaymentLine,  # noqa: E402
                                            CheckPayment)
from quickbooks.objects.customer import Customer  # noqa: E402
from quickbooks.objects.detailline import (AccountBasedExpenseLine, AccountBasedExpenseLineDetail,  # noqa: E402
                                           ItemBasedExpenseLine, ItemBasedExpenseLineDetail, SalesItemLine,
                                           SalesItemLineDetail)
from quickbooks.objects.estimate import Estimate  # noqa: E402
from quickbooks.objects.invoice import Invoice  # noqa: E402
from quickbooks.objects.item import Item  # noqa: E402
from quickbooks.objects.vendor import Vendor  # noqa: E402
from quickbooks.objects.vendorcredit import VendorCredit  # noqa: E402

from simulator import CA_REALM, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, US_REALM  # noqa: E402

REDIRECT = "http://localhost:8069/qbo/oauth/callback"


def connect(sim, realm):
    """The consent page walked with requests: GET the authorize URL, POST its form, read the redirect."""
    auth_client = AuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, REDIRECT, environment=sim.discovery_url)
    url = auth_client.get_authorization_url([Scopes.ACCOUNTING])
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    form = dict(re.findall(r"<input type='hidden' name='([^']+)' value='([^']*)'>", page.text))
    form = {k: v.replace("&amp;", "&") for k, v in form.items()}
    action = re.search(r"<form method='post' action='([^']+)'", page.text).group(1)
    form.update(realmId=realm, action="connect")
    answer = requests.post(sim.url + action, data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == [auth_client.state_token] and query["realmId"] == [realm]
    auth_client.get_bearer_token(query["code"][0], realm_id=query["realmId"][0])
    return auth_client


def client(auth_client, sim, realm):
    qb = QuickBooks(auth_client=auth_client, refresh_token=auth_client.refresh_token, company_id=realm,
                    minorversion=75)
    qb.api_url_v3 = sim.api_base
    return qb


@pytest.fixture
def qb(sim, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    return client(connect(sim, US_REALM), sim, US_REALM)


def ref(value):
    result = Ref()
    result.value = value
    return result


def detail_line(line_cls, detail_cls, ref_field, ref_value, amount=None, tax=None):
    """A python-quickbooks line whose detail (named after its DetailType) refers to an item or an account."""
    line = line_cls()
    detail = detail_cls()
    setattr(detail, ref_field, ref(ref_value))
    if tax:
        detail.TaxCodeRef = ref(tax)
    setattr(line, line.DetailType, detail)
    if amount is not None:
        line.Amount = amount
    return line


def sales_line(item_id, amount, tax=None):
    return detail_line(SalesItemLine, SalesItemLineDetail, "ItemRef", item_id, amount, tax)


def new_invoice(cls, customer_id, amount, tax=None):
    txn = cls()
    txn.CustomerRef = ref(customer_id)
    txn.Line.append(sales_line("1", amount, tax))
    return txn


def test_oauth_code_exchange_and_refresh(sim, monkeypatch):
    auth_client = connect(sim, US_REALM)
    first = auth_client.refresh_token
    assert auth_client.access_token and auth_client.expires_in == 3600
    auth_client.refresh()
    assert auth_client.refresh_token != first
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    auth_client.access_token = None  # QuickBooks() refreshes when it has no access token
    qb = client(auth_client, sim, US_REALM)
    assert Customer.get(1, qb=qb).DisplayName == "Amy's Bird Sanctuary"
    auth_client.revoke()
    with pytest.raises(AuthClientError) as err:
        auth_client.refresh()
    assert err.value.status_code == 400


def test_customer_create_read_update_query(qb):
    cust = Customer()
    cust.GivenName, cust.FamilyName = "Ada", "Lovelace"
    cust.DisplayName = "Ada Lovelace"
    saved = cust.save(qb=qb)
    assert saved.Id and saved.SyncToken == "0"
    read = Customer.get(saved.Id, qb=qb)
    read.CompanyName = "Analytical Engines"
    updated = read.save(qb=qb)
    assert updated.SyncToken == "1" and updated.CompanyName == "Analytical Engines"
    assert [c.Id for c in Customer.filter(DisplayName="Ada Lovelace", qb=qb)] == [saved.Id]
    assert [c.DisplayName for c in Customer.where("DisplayName LIKE 'Ada%'", order_by="DisplayName", qb=qb)] \
        == ["Ada Lovelace"]
    assert Customer.count(qb=qb) == 4   # 3 active seeded + Ada; "Old Customer Ltd" is inactive
    assert Customer.count("Active = false", qb=qb) == 1
    items = Item.all(qb=qb)
    assert "DES-1" in [i.Sku for i in items if getattr(i, "Sku", None)]


def test_item_invoice_estimate_create(qb):
    item = Item()
    item.Name, item.Type, item.UnitPrice = "Lessons", "Service", 40
    item.IncomeAccountRef = ref("2")
    item = item.save(qb=qb)
    invoice = new_invoice(Invoice, "1", 80, "TAX")
    invoice.Line[0].SalesItemLineDetail.ItemRef = item.to_ref()
    invoice.TxnTaxDetail = None
    saved = invoice.save(qb=qb)
    assert saved.TotalAmt == 80 and saved.DocNumber == "1001" and saved.Balance == 80
    fetched = Invoice.get(saved.Id, qb=qb)
    fetched.PrivateNote = "updated"
    assert fetched.save(qb=qb).SyncToken == "1"
    estimate = new_invoice(Estimate, "2", 50).save(qb=qb)
    assert estimate.TotalAmt == 50 and estimate.TxnStatus == "Pending"
    assert len(Invoice.all(qb=qb)) == 1


def test_batch_create_customer_item_invoice_estimate(sim, qb):
    customers = []
    for n in range(3):
        cust = Customer()
        cust.DisplayName = "Batch Customer %d" % n
        customers.append(cust)
    clash = Customer()
    clash.DisplayName = "Emily Platt"
    result = batch_create(customers + [clash], qb=qb)
    assert len(result.successes) == 3 and len(result.faults) == 1
    assert result.faults[0].Error[0].code == "6240"
    item = Item()
    item.Name, item.Type = "Batch Item", "Service"
    item.IncomeAccountRef = ref("2")
    assert len(batch_create([item], qb=qb).successes) == 1
    txns = [new_invoice(Invoice, "1", 10 + n) for n in range(35)]   # split into 30 + 5
    done = batch_create(txns, qb=qb)
    assert len(done.successes) == 35 and not done.faults
    assert len(batch_create([new_invoice(Estimate, "1", 5)], qb=qb).successes) == 1
    assert sim.counters(US_REALM)["batch"] == 5


@pytest.mark.parametrize("code,exc,make", [
    ("6240", QuickbooksException, lambda qb: Customer.from_json({"DisplayName": "Emily Platt"}).save(qb=qb)),
    ("6000", QuickbooksException, lambda qb: Customer.from_json({"DisplayName": "A:B"}).save(qb=qb)),
    ("2020", ValidationException, lambda qb: Invoice.from_json({"CustomerRef": {"value": "1"}}).save(qb=qb)),
    ("2050", ValidationException, lambda qb: Customer.from_json({"DisplayName": "x" * 501}).save(qb=qb)),
    ("2500", ValidationException, lambda qb: new_invoice(Invoice, "583", 1).save(qb=qb)),
    ("610", ObjectNotFoundException, lambda qb: new_invoice(Invoice, "3", 1).save(qb=qb)),
    ("610", ObjectNotFoundException, lambda qb: Customer.get(9999, qb=qb)),
    ("4000", ValidationException, lambda qb: Customer.where("DisplayName === 'x'", qb=qb)),
    ("500", UnsupportedException, lambda qb: qb.delete_object("Customer", '{"Id": "1", "SyncToken": "0"}')),
])
def test_faults_raise_the_mapped_exception(qb, code, exc, make):
    with pytest.raises(exc) as err:
        make(qb)
    assert type(err.value) is exc and str(err.value.error_code) == code


def test_5010_and_6140(qb):
    first = Customer.get(1, qb=qb)
    second = Customer.get(1, qb=qb)
    first.Notes = "one"
    first.save(qb=qb)
    second.Notes = "two"
    with pytest.raises(QuickbooksException) as err:
        second.save(qb=qb)
    assert err.value.error_code == 5010
    invoice = new_invoice(Invoice, "1", 5)
    invoice.DocNumber = "A-1"
    invoice.save(qb=qb)
    again = new_invoice(Invoice, "1", 5)
    again.DocNumber = "A-1"
    with pytest.raises(QuickbooksException) as err:
        again.save(qb=qb)
    assert err.value.error_code == 6140


def test_ca_line_without_tax_code_is_6000(sim, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    qb = client(connect(sim, CA_REALM), sim, CA_REALM)
    with pytest.raises(QuickbooksException) as err:
        new_invoice(Invoice, "1", 10).save(qb=qb)
    assert err.value.error_code == 6000
    assert new_invoice(Invoice, "1", 10, "4").save(qb=qb).TotalAmt == 11.3


def test_401_429_and_10000(sim, qb, monkeypatch):
    sim.set_limits(per_minute=1)
    Customer.get(1, qb=qb)
    with pytest.raises(ValidationException) as err:   # 3001 lies in python-quickbooks' 2000-4999 band
        Customer.get(1, qb=qb)
    assert err.value.error_code == 3001
    sim.set_limits()
    sim.set_faults(US_REALM, throttle_rate=1.0)
    codes = set()
    for _ in range(2):   # one JSON, one XML body
        with pytest.raises(QuickbooksException) as err:
            Customer.get(1, qb=qb)
        codes.add(err.value.error_code)
    assert codes == {3001, 10000}
    sim.set_faults(US_REALM)

    def boom(*args, **kwargs):
        raise RuntimeError("forced")
    monkeypatch.setattr(sim.companies[US_REALM], "read", boom)
    with pytest.raises(SevereException):
        Customer.get(1, qb=qb)
    monkeypatch.undo()
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    sim.advance(3601)
    with pytest.raises(AuthorizationException) as err:
        Customer.get(1, qb=qb)
    assert err.value.error_code == 401 and '"3200"' in err.value.detail


# ----- payables: Vendor, Bill, VendorCredit, BillPayment as python-quickbooks builds them ----------------------------
def expense_line(amount, account="12", tax=None):
    return detail_line(AccountBasedExpenseLine, AccountBasedExpenseLineDetail, "AccountRef", account, amount, tax)


def item_expense_line(item, qty, price):
    line = detail_line(ItemBasedExpenseLine, ItemBasedExpenseLineDetail, "ItemRef", item)
    line.ItemBasedExpenseLineDetail.Qty, line.ItemBasedExpenseLineDetail.UnitPrice = qty, price
    return line


def new_bill(vendor, *lines, cls=Bill):
    doc = cls()
    doc.VendorRef = ref(vendor)
    doc.Line.extend(lines)
    return doc


def bill_payment(vendor, total, *links, card=False):
    payment = BillPayment()
    payment.VendorRef = ref(vendor)
    payment.TotalAmt = total
    if card:
        payment.PayType = "CreditCard"
        payment.CreditCardPayment = BillPaymentCreditCard()
        payment.CreditCardPayment.CCAccountRef = ref("11")
    else:
        payment.PayType = "Check"
        payment.CheckPayment = CheckPayment()        # PrintStatus "NotSet" by default
        payment.CheckPayment.BankAccountRef = ref("7")
    for doc, amount in links:
        line = BillPaymentLine()
        line.Amount = amount
        line.LinkedTxn.append(doc.to_linked_txn() if isinstance(doc, Bill) else linked(doc))
        payment.Line.append(line)
    return payment


def linked(credit):
    link = LinkedTxn()
    link.TxnId, link.TxnType = credit.Id, "VendorCredit"
    return link


def test_vendor_create_read_update_query(qb):
    vendor = Vendor()
    vendor.DisplayName, vendor.CompanyName = "Paper Mill", "Paper Mill Inc"
    saved = vendor.save(qb=qb)
    assert saved.Id and saved.PrintOnCheckName == "Paper Mill" and saved.Vendor1099 is False
    read = Vendor.get(saved.Id, qb=qb)
    read.AcctNum = "PM-1"
    assert read.save(qb=qb).SyncToken == "1"
    assert [v.Id for v in Vendor.filter(DisplayName="Paper Mill", qb=qb)] == [saved.Id]
    clash = Vendor()
    clash.DisplayName = "Amy's Bird Sanctuary"     # a customer's name: unique across names
    with pytest.raises(QuickbooksException) as err:
        clash.save(qb=qb)
    assert err.value.error_code == 6240


def test_bill_vendor_credit_and_bill_payments(qb):
    bill = new_bill("6", expense_line(100), item_expense_line("3", 2, 25)).save(qb=qb)
    assert bill.TotalAmt == 150 and bill.Balance == 150 and bill.APAccountRef.value == "10"
    fetched = Bill.get(bill.Id, qb=qb)              # read, changed and sent back whole
    fetched.PrivateNote = "checked"
    fetched = fetched.save(qb=qb)
    assert fetched.SyncToken == "1" and fetched.TotalAmt == 150
    credit = new_bill("6", expense_line(30), cls=VendorCredit).save(qb=qb)
    assert credit.TotalAmt == 30 and credit.Balance == 30
    partial = bill_payment("6", 40, (fetched, 40)).save(qb=qb)
    assert partial.CheckPayment.BankAccountRef.value == "7" and partial.CheckPayment.PrintStatus == "NotSet"
    rest = bill_payment("6", 80, (fetched, 110), (credit, 30), card=True).save(qb=qb)
    assert rest.CreditCardPayment.CCAccountRef.value == "11"
    paid = Bill.get(bill.Id, qb=qb)
    assert paid.Balance == 0
    assert [(t.TxnId, t.TxnType) for t in paid.LinkedTxn] == [(partial.Id, "BillPaymentCheck"),
                                                              (rest.Id, "BillPaymentCreditCard")]
    assert VendorCredit.get(credit.Id, qb=qb).Balance == 0
    assert Vendor.get(6, qb=qb).Balance == 0
    rest.void(qb=qb)
    assert Bill.get(bill.Id, qb=qb).Balance == 110 and Vendor.get(6, qb=qb).Balance == 80
    partial.delete(qb=qb)
    assert Bill.get(bill.Id, qb=qb).Balance == 150
    assert [b.Id for b in Bill.where("VendorRef = '6' AND Balance > '0'", qb=qb)] == [bill.Id]
    fresh = Bill.get(bill.Id, qb=qb)
    fresh.delete(qb=qb)
    with pytest.raises(ObjectNotFoundException):
        Bill.get(bill.Id, qb=qb)


@pytest.mark.parametrize("code,exc,make", [
    ("6000", QuickbooksException, lambda qb: bill_payment("6", 50, (new_bill("6", expense_line(80)).save(qb=qb),
                                                                     80)).save(qb=qb)),
    ("610", ObjectNotFoundException, lambda qb: new_bill(Vendor.from_json({"DisplayName": "Shut Co", "Active": False})
                                                         .save(qb=qb).Id, expense_line(5)).save(qb=qb)),
    ("2020", ValidationException, lambda qb: new_bill("6").save(qb=qb)),
    ("2010", ValidationException, lambda qb: Bill.from_json({"VendorRef": {"value": "6"}, "Vendor": "x"}).save(qb=qb)),
])
def test_payables_faults_raise_the_mapped_exception(qb, code, exc, make):
    with pytest.raises(exc) as err:
        make(qb)
    assert type(err.value) is exc and str(err.value.error_code) == code


def test_duplicate_bill_number_and_batch_of_bills(sim, qb):
    first = new_bill("6", expense_line(10))
    first.DocNumber = "V-100"
    first.save(qb=qb)
    again = new_bill("6", expense_line(10))
    again.DocNumber = "V-100"
    with pytest.raises(QuickbooksException) as err:
        again.save(qb=qb)
    assert err.value.error_code == 6140
    done = batch_create([new_bill("5", expense_line(n + 1)) for n in range(31)], qb=qb)
    assert len(done.successes) == 31 and not done.faults


def test_canadian_bill_with_input_tax(sim, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    qb = client(connect(sim, CA_REALM), sim, CA_REALM)
    with pytest.raises(QuickbooksException) as err:
        new_bill("6", expense_line(100)).save(qb=qb)
    assert err.value.error_code == 6000
    saved = new_bill("6", expense_line(100, tax="4")).save(qb=qb)   # GlobalTaxCalculation None: TaxExcluded
    assert saved.TotalAmt == 113 and saved.TxnTaxDetail.TotalTax == 13
    credit = new_bill("6", expense_line(10, tax="3"), cls=VendorCredit).save(qb=qb)
    assert credit.TotalAmt == 10.5 and credit.GlobalTaxCalculation == "TaxExcluded"
