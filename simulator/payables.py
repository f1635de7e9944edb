"""Payables as QuickBooks Online keeps them: vendor bills and vendor credits, the bill payments that settle
them (by check from a bank account, or on a credit card), their open balances and the vendors' balances.

A ``Bill`` (and a ``VendorCredit``, its mirror) has a ``VendorRef``, an Accounts Payable account
(``APAccountRef``: the A/P account of the transaction's currency when none is sent) and lines of two kinds:
``ItemBasedExpenseLineDetail`` (an item that is bought: it needs an expense account) and
``AccountBasedExpenseLineDetail`` (an expense account). Outside the US every line needs a tax code, and the
input tax comes from the code's ``PurchaseTaxRateList`` (simulator/tax.py). ``TotalAmt`` = lines + tax;
``Balance`` = ``TotalAmt`` less what bill payments apply to it.

A ``BillPayment`` carries ``PayType`` ``Check`` (``CheckPayment.BankAccountRef``, a bank account) or
``CreditCard`` (``CreditCardPayment.CCAccountRef``, a credit card account), ``TotalAmt`` (the money paid) and
``Line[]``, each line one ``Amount`` with one ``LinkedTxn`` to a ``Bill`` (money applied) or a ``VendorCredit``
(credit used). ``TotalAmt`` = bill lines - vendor credit lines + what is left unapplied (a credit with the
vendor, never negative). Each linked bill or credit gets its ``Balance`` back from the payments, lists them in
its ``LinkedTxn`` (``BillPaymentCheck`` / ``BillPaymentCreditCard``) and has its ``SyncToken`` bumped. A vendor's
``Balance`` is its open bills less its credits' balances and its payments' unapplied amounts. Deleting,
voiding or updating a bill payment restores what it held.
"""
import copy
import datetime

from .errors import QBOError, business, check_len, inactive_ref, not_found_ref, required
from .money import ZERO, money, num, out
from . import tax

PAYABLE_DOCS = ("Bill", "VendorCredit")
SIGN = {"Bill": 1, "VendorCredit": -1}          # effect of a document's Balance on its vendor's
EXPENSE_LINES = ("ItemBasedExpenseLineDetail", "AccountBasedExpenseLineDetail")
# PayType -> (the block that carries the account, its reference, the account type it must be, LinkedTxn type)
PAY_TYPES = {"Check": ("CheckPayment", "BankAccountRef", "Bank", "BillPaymentCheck"),
             "CreditCard": ("CreditCardPayment", "CCAccountRef", "Credit Card", "BillPaymentCreditCard")}
BILLABLE = ("Billable", "NotBillable", "HasBeenBilled")
PRINT_STATUSES = ("NotSet", "NeedToPrint", "PrintComplete")
NOT_ON_LINES = ("Accounts Payable", "Accounts Receivable")   # accounts a purchase line cannot post to
LABELS = {"Bill": "bill", "VendorCredit": "vendor credit"}
KIND_LABELS = {"Bill": "bills", "VendorCredit": "vendor credits"}
DUPLICATE_BILL_PREF = "VendorAndPurchasesPrefs.WarnDuplicateBillNumber"


def _ref_id(ref):
    value = ref.get("value") if isinstance(ref, dict) else ref
    return None if value in (None, "") else str(value)


def invalid_enum(field, value, allowed):
    return QBOError("2170", "Invalid Enumeration : %s is not a valid value for %s (one of %s)."
                    % (value, field, ", ".join(allowed)), field, message="Invalid Enumeration")


def _enum(rec, field, allowed, default=None):
    value = rec.get(field, default)
    if value is not None and value not in allowed:
        raise invalid_enum(field, value, allowed)
    if value is not None:
        rec[field] = value
    return value


class PayablesRules:
    """Mixed into the simulator's Company (simulator/store.py)."""

    # ----- bills and vendor credits ---------------------------------------------------------------------
    def _purchase_form(self, entity, rec, old):
        if not isinstance(rec.get("Line"), list) or not rec["Line"]:
            raise required("Line")
        vendor = self._txn_header(entity, rec, old, party="Vendor")
        currency = rec["CurrencyRef"]["value"]
        self._ap_account(rec, currency)
        self._purchase_doc_number(entity, rec)
        if entity == "Bill":
            self._bill_terms(rec, vendor)
        self._named_ref(rec, "DepartmentRef", "Department")
        _enum(rec, "GlobalTaxCalculation", tax.MODES)
        check_len(rec, "PrivateNote", 4000)
        rec.pop("LinkedTxn", None)   # QuickBooks keeps the links itself (the bill payments)
        tax.compute_purchase(self, rec, self._expense_lines(entity, rec))
        total = money(num(rec["TotalAmt"]))
        if total < 0:
            raise business("Business Validation Error: The total of a %s cannot be negative (%s)."
                           % (LABELS[entity], out(total)), "Line")
        if old is not None:
            applied = self._bill_applied(entity, rec["Id"])
            if applied and _ref_id(old.get("VendorRef")) != vendor["Id"]:
                raise business("Business Validation Error: %s %s has bill payments applied: its vendor cannot "
                               "change." % (entity, rec["Id"]), "VendorRef")
            if applied > total:
                raise business("Business Validation Error: %s %s would total %s, less than the %s bill payments "
                               "already apply to it." % (entity, rec["Id"], out(total), out(applied)), "Line")
        self._refresh_payable(entity, rec, bump=False)

    def _purchase_doc_number(self, entity, rec):
        doc = rec.get("DocNumber")
        if doc is None:
            return   # QuickBooks numbers no bill or vendor credit by itself
        doc = rec["DocNumber"] = str(doc)
        check_len(rec, "DocNumber", 21)
        if entity != "Bill" or not self._warn_duplicate_bill_numbers():
            return
        vendor_id = rec["VendorRef"]["value"]
        for other in self.data["Bill"].values():
            if (other["Id"] != rec["Id"] and other["VendorRef"]["value"] == vendor_id
                    and str(other.get("DocNumber", "")).lower() == doc.lower()):
                raise QBOError("6140", "Duplicate Document Number Error : You must specify a different number. "
                               "This number has already been used. DocNumber=%s is assigned to TxnType=Bill "
                               "with TxnId=%s" % (doc, other["Id"]), "DocNumber")

    def _warn_duplicate_bill_numbers(self):
        pairs = (self.prefs.get("OtherPrefs") or {}).get("NameValue") or []
        value = next((p.get("Value") for p in pairs if p.get("Name") == DUPLICATE_BILL_PREF), "true")
        return str(value).lower() == "true"

    def _bill_terms(self, rec, vendor):
        term = self._named_ref(rec, "SalesTermRef", "Term")
        if term is None and _ref_id(vendor.get("TermRef")):
            term = self.data["Term"].get(_ref_id(vendor["TermRef"]))
        if term is not None:
            rec["SalesTermRef"] = {"value": term["Id"]}   # answered without its name, as recorded
        if not rec.get("DueDate"):
            days = term.get("DueDays", 0) if term else 0
            rec["DueDate"] = (datetime.date.fromisoformat(rec["TxnDate"]) + datetime.timedelta(days=days)).isoformat()
        try:
            datetime.date.fromisoformat(rec["DueDate"])
        except (TypeError, ValueError):
            raise QBOError("2010", "Invalid date %r for DueDate" % rec["DueDate"], "DueDate") from None

    def _ap_account(self, rec, currency):
        """The transaction's Accounts Payable account: the one sent (an A/P account of its currency), else the
        A/P account of its currency (QuickBooks makes "Accounts Payable (A/P) - EUR" for the first EUR one)."""
        if _ref_id(rec.get("APAccountRef")) is not None:
            account = self.check_ref(rec["APAccountRef"], "Account", "APAccountRef")
            if account.get("AccountType") != "Accounts Payable":
                raise business("Business Validation Error: APAccountRef must be an Accounts Payable account; "
                               "%s is a %s account." % (account["Name"], account.get("AccountType")), "APAccountRef")
            if _ref_id(account.get("CurrencyRef")) != currency:
                raise business("Business Validation Error: The A/P account %s is in %s; this transaction is in %s."
                               % (account["Name"], _ref_id(account.get("CurrencyRef")), currency), "APAccountRef")
        else:
            account = self._payables_account(currency)
        rec["APAccountRef"] = {"value": account["Id"], "name": account["FullyQualifiedName"]}
        return account

    def _payables_account(self, currency):
        found = [a for a in self.data["Account"].values() if a.get("AccountType") == "Accounts Payable"
                 and a.get("Active", True) and _ref_id(a.get("CurrencyRef")) == currency]
        if found:
            return min(found, key=lambda a: int(a["Id"]))
        name = "Accounts Payable (A/P)" + ("" if currency == self.home_currency else " - " + currency)
        now = self.clock.iso_seconds()
        account = {"Id": str(self.next_id["Account"]), "Name": name, "FullyQualifiedName": name,
                   "AccountType": "Accounts Payable", "AccountSubType": "AccountsPayable",
                   "Classification": "Liability", "Active": True, "SubAccount": False, "CurrentBalance": 0,
                   "CurrencyRef": {"value": currency, "name": self.currency_name(currency)},
                   "SyncToken": "0", "domain": "QBO", "sparse": False,
                   "MetaData": {"CreateTime": now, "LastUpdatedTime": now}}
        self.next_id["Account"] += 1
        self.data["Account"][account["Id"]] = account
        return account

    def _expense_lines(self, entity, rec):
        """Normalise the lines of a bill or vendor credit; returns [(line, net amount)]."""
        lines, nets = [], []
        for index, line in enumerate(rec["Line"], 1):
            if not isinstance(line, dict):
                raise QBOError("2010", "Line %d is not an object" % index, "Line")
            kind = line.get("DetailType")
            if kind not in EXPENSE_LINES:
                raise business("Business Validation Error: A %s line must be an ItemBasedExpenseLineDetail or an "
                               "AccountBasedExpenseLineDetail line (got %r)." % (LABELS[entity], kind),
                               "Line.DetailType")
            line = dict(line, Id=str(index), LineNum=index)
            line.pop("LinkedTxn", None)
            amount = self._expense_line(entity, rec, line, kind)
            lines.append(line)
            nets.append((line, amount))
        rec["Line"] = lines
        return nets

    def _expense_line(self, entity, rec, line, kind):
        detail = dict(line.get(kind) or {})
        element = "Line." + kind
        amount = num(line.get("Amount"), "Line.Amount")
        if kind == "ItemBasedExpenseLineDetail":
            item = self.check_ref(detail.get("ItemRef"), "Item", element + ".ItemRef")
            if _ref_id(item.get("ExpenseAccountRef")) is None:
                raise business("Business Validation Error: The item %s is not purchased: it has no expense account "
                               "(ExpenseAccountRef) to post this line to." % item["Name"], element + ".ItemRef")
            detail["ItemRef"] = {"value": item["Id"], "name": item["Name"]}
            qty, price = num(detail.get("Qty"), "Qty"), num(detail.get("UnitPrice"), "UnitPrice")
            if qty and price:
                amount = money(qty * price)
            elif amount is None and price is not None:
                detail["Qty"], amount = 1, money(price)
        else:
            account = self.check_ref(detail.get("AccountRef"), "Account", element + ".AccountRef")
            if account.get("AccountType") in NOT_ON_LINES:
                raise business("Business Validation Error: A %s line cannot post to the %s account %s."
                               % (LABELS[entity], account["AccountType"], account["Name"]), element + ".AccountRef")
            detail["AccountRef"] = {"value": account["Id"], "name": account["FullyQualifiedName"]}
        code = self._line_tax_code(detail, element + ".TaxCodeRef", purchase=True)
        if amount is None:
            amount = tax.inclusive_net(self, rec, detail, code, purchase=True)
            if amount is None:
                raise required("Line.Amount", "Line")
        billable = _enum(detail, "BillableStatus", BILLABLE, "NotBillable")
        customer = self._named_ref(detail, "CustomerRef", "Customer", "FullyQualifiedName")
        if billable == "Billable" and customer is None:
            raise business("Business Validation Error: A billable expense line needs the customer to bill "
                           "(CustomerRef).", element + ".CustomerRef")
        self._named_ref(detail, "ClassRef", "Class")
        if not num(detail.get("TaxInclusiveAmt"), "TaxInclusiveAmt"):
            detail.pop("TaxInclusiveAmt", None)   # python-quickbooks sends 0: not a gross amount
        line[kind] = detail
        line["Amount"] = out(money(amount))
        return money(amount)

    # ----- bill payments --------------------------------------------------------------------------------
    def _bill_payment(self, rec, old):
        vendor = self._txn_header("BillPayment", rec, old, party="Vendor")
        currency = rec["CurrencyRef"]["value"]
        pay_type = rec.get("PayType")
        if not pay_type:
            raise required("PayType")
        if pay_type not in PAY_TYPES:
            raise invalid_enum("PayType", pay_type, PAY_TYPES)
        block_key, ref_key, account_type, _link = PAY_TYPES[pay_type]
        for other, spec in PAY_TYPES.items():
            if other != pay_type and rec.get(spec[0]):
                raise business("Business Validation Error: A %s bill payment carries %s, not %s."
                               % (pay_type, block_key, spec[0]), spec[0])
            if other != pay_type:
                rec.pop(spec[0], None)
        block = rec.get(block_key)
        if not isinstance(block, dict) or _ref_id(block.get(ref_key)) is None:
            raise required("%s.%s" % (block_key, ref_key))
        block = dict(block)
        account = self.check_ref(block[ref_key], "Account", "%s.%s" % (block_key, ref_key))
        if account.get("AccountType") != account_type:
            raise business("Business Validation Error: A %s bill payment is paid from a %s account; %s is a %s "
                           "account." % (pay_type, account_type, account["Name"], account.get("AccountType")),
                           "%s.%s" % (block_key, ref_key))
        if _ref_id(account.get("CurrencyRef")) not in (currency, self.home_currency):
            raise business("Business Validation Error: The account %s is in %s; a %s payment is paid from a %s or "
                           "%s account." % (account["Name"], _ref_id(account.get("CurrencyRef")), currency,
                                            currency, self.home_currency), "%s.%s" % (block_key, ref_key))
        block[ref_key] = {"value": account["Id"], "name": account["FullyQualifiedName"]}
        if pay_type == "Check":
            _enum(block, "PrintStatus", PRINT_STATUSES, "NeedToPrint")
        rec[block_key] = block
        ap_account = self._ap_account(rec, currency)
        total = self._payment_total(rec, "bill payment")
        if rec.get("DocNumber") is not None:
            rec["DocNumber"] = str(rec["DocNumber"])
            check_len(rec, "DocNumber", 21)
        check_len(rec, "PrivateNote", 4000)
        if not isinstance(rec.get("Line"), list):
            raise required("Line")
        applied = {"Bill": ZERO, "VendorCredit": ZERO}
        per_doc, lines = {}, []
        for line in rec["Line"]:
            amount, doc_type, doc = self._applied_line(
                line, per_doc, lambda kind, rid: money(num(self.data[kind][rid]["TotalAmt"]))
                - self._bill_applied(kind, rid, exclude=rec["Id"]), PAYABLE_DOCS, "Vendor", vendor["Id"], currency,
                "bill payment")
            self._linked_payable(doc_type, doc, ap_account)
            applied[doc_type] += amount
            lines.append({"Amount": out(amount), "LinkedTxn": [{"TxnId": doc["Id"], "TxnType": doc_type}]})
        if applied["VendorCredit"] > applied["Bill"]:
            raise business("Business Validation Error: The vendor credit used (%s) is more than the amount applied "
                           "to bills (%s)." % (out(applied["VendorCredit"]), out(applied["Bill"])), "Line")
        paid = applied["Bill"] - applied["VendorCredit"]
        if total < paid:
            raise business("Business Validation Error: The bill payment is not balanced: it applies %s to bills "
                           "(%s less %s of vendor credits) but pays only %s (TotalAmt)."
                           % (out(paid), out(applied["Bill"]), out(applied["VendorCredit"]), out(total)), "TotalAmt")
        if not total and not lines:
            raise business("Business Validation Error: A bill payment must pay or apply something.", "Line")
        rec["Line"] = lines
        rec["TotalAmt"] = out(total)
        rec.pop("LinkedTxn", None)

    def _linked_payable(self, doc_type, doc, ap_account):
        """A bill or vendor credit a bill payment applies: not made by an earlier item of the same batch, and on
        the bill payment's A/P account."""
        if self.horizon and doc["Id"].isdigit() and int(doc["Id"]) >= self.horizon.get("Txn", float("inf")):
            raise not_found_ref(doc_type, doc["Id"], "Line.LinkedTxn")
        if _ref_id(doc.get("APAccountRef")) != ap_account["Id"]:
            raise business("Business Validation Error: %s %s is on the A/P account %s, not %s."
                           % (doc_type, doc["Id"], doc["APAccountRef"].get("name"), ap_account["Name"]),
                           "APAccountRef")

    @staticmethod
    def _payment_total(rec, what):
        """The money a Payment or BillPayment moves (TotalAmt): required, never negative."""
        total = num(rec.get("TotalAmt"), "TotalAmt")
        if total is None:
            raise required("TotalAmt")
        total = money(total)
        if total < 0:
            raise business("Business Validation Error: A %s amount cannot be negative." % what, "TotalAmt")
        return total

    def _applied_line(self, line, per_txn, open_balance, kinds, party, party_id, currency, what):
        """(amount, transaction type, transaction) of a line of a Payment or a BillPayment: one Amount, never
        negative, applied to one linked transaction of `kinds` (the document, then its credit), of the same
        customer or vendor and currency, and not beyond what it has open (counted over the lines in `per_txn`;
        `open_balance(kind, id)` is what the other payments left open)."""
        if not isinstance(line, dict):
            raise QBOError("2010", "A %s line is not an object" % what, "Line")
        amount = num(line.get("Amount"), "Line.Amount")
        if amount is None:
            raise required("Line.Amount", "Line")
        amount = money(amount)
        if amount < 0:
            raise business("Business Validation Error: A %s line amount cannot be negative." % what, "Line.Amount")
        links = line.get("LinkedTxn") or []
        if not isinstance(links, list) or not all(isinstance(link, dict) for link in links):
            raise QBOError("2010", "Request has invalid or unsupported property: LinkedTxn must be a list of "
                           "objects", "Line.LinkedTxn")
        if len(links) != 1:
            raise business("Business Validation Error: Each %s line must link exactly one transaction." % what,
                           "Line.LinkedTxn")
        txn_type = links[0].get("TxnType") or kinds[0]
        txn_id = str(links[0].get("TxnId", ""))
        if txn_type not in kinds:
            raise business("Business Validation Error: A %s can be linked to %s only (got %s)."
                           % (what, " and ".join(KIND_LABELS[k] for k in kinds), txn_type), "Line.LinkedTxn.TxnType")
        txn = self.data[txn_type].get(txn_id)
        if txn is None:
            if txn_id in self.deleted[txn_type]:
                raise inactive_ref("Line.LinkedTxn")
            raise not_found_ref(txn_type, txn_id, "Line.LinkedTxn")
        if txn[party + "Ref"]["value"] != party_id:
            raise business("Business Validation Error: %s %s belongs to another %s." % (txn_type, txn_id, party.lower()),
                           "Line.LinkedTxn")
        if _ref_id(txn.get("CurrencyRef")) != currency:
            raise business("Business Validation Error: The %s currency %s differs from the currency of %s %s."
                           % (what, currency, txn_type, txn_id), "CurrencyRef")
        key = (txn_type, txn_id)
        per_txn[key] = per_txn.get(key, ZERO) + amount
        left = open_balance(txn_type, txn_id)
        if per_txn[key] > left:
            raise business("Business Validation Error: The amount applied to %s %s (%s) is more than its %s (%s)."
                           % (txn_type, txn_id, out(per_txn[key]), "open balance" if txn_type == kinds[0]
                              else "remaining credit", out(left)), "Line.Amount")
        return amount, txn_type, txn

    # ----- balances -------------------------------------------------------------------------------------
    def _bill_payment_links(self, doc_type, doc_id, exclude=None):
        """[(payment, amount)] of the bill payments that apply something to a bill or vendor credit."""
        found = []
        for pid in sorted(self._bill_link_index().get((doc_type, doc_id), ()), key=int):
            pay = self.data["BillPayment"].get(pid)
            if pid == exclude or pay is None:
                continue
            amount = sum((money(num(line["Amount"])) for line in pay.get("Line", [])
                          if any(link["TxnId"] == doc_id and link["TxnType"] == doc_type
                                 for link in line.get("LinkedTxn", []))), ZERO)
            if amount:
                found.append((pay, amount))
        return found

    def _bill_link_index(self):
        """(document type, id) -> ids of the bill payments that link it: a hint, checked against the stored
        payments when read (built on first use; store.invalidate_indexes() drops it)."""
        if getattr(self, "_bill_links", None) is None:
            self._bill_links = {}
            for pay in self.data["BillPayment"].values():
                self._index_bill_payment(pay)
        return self._bill_links

    def _index_bill_payment(self, pay):
        if getattr(self, "_bill_links", None) is None:
            return
        for line in pay.get("Line", []):
            for link in line.get("LinkedTxn", []):
                self._bill_links.setdefault((link["TxnType"], link["TxnId"]), set()).add(pay["Id"])

    def _bill_applied(self, doc_type, doc_id, exclude=None):
        return sum((amount for _pay, amount in self._bill_payment_links(doc_type, doc_id, exclude)), ZERO)

    def _refresh_payable(self, doc_type, doc, bump):
        """Recompute Balance, HomeBalance and LinkedTxn of a bill or vendor credit from the bill payments."""
        paid = self._bill_payment_links(doc_type, doc["Id"])
        links = [{"TxnId": pay["Id"], "TxnType": PAY_TYPES[pay["PayType"]][3]}
                 for pay, _amount in sorted(paid, key=lambda entry: int(entry[0]["Id"]))]
        balance = out(money(num(doc["TotalAmt"])) - sum((amount for _pay, amount in paid), ZERO))
        if bump and (doc.get("Balance") != balance or doc.get("LinkedTxn", []) != links):
            self._bump(doc, copy.deepcopy(doc))
        doc["Balance"] = balance
        if links:
            doc["LinkedTxn"] = links
        else:
            doc.pop("LinkedTxn", None)
        if doc_type == "Bill" and self.prefs["CurrencyPrefs"].get("MultiCurrencyEnabled"):
            # (a VendorCredit has no HomeBalance in Intuit's schema)
            doc["HomeBalance"] = out(money(num(balance) * num(doc.get("ExchangeRate", 1))))

    def _unapplied(self, pay):
        applied = sum((money(num(line["Amount"])) * SIGN[line["LinkedTxn"][0]["TxnType"]]
                       for line in pay.get("Line", [])), ZERO)
        return money(num(pay.get("TotalAmt", 0))) - applied

    def _after_payable_write(self, entity, rec, old):
        """A bill, vendor credit or bill payment was created, updated, voided or deleted: the vendors' balances
        and the balances of the documents a bill payment links (before and after) follow."""
        if entity in PAYABLE_DOCS:
            if old is not None:
                self._adjust_vendor(old["VendorRef"]["value"], -SIGN[entity] * num(old.get("Balance", 0)))
            if rec is not None:
                self._adjust_vendor(rec["VendorRef"]["value"], SIGN[entity] * num(rec["Balance"]))
            return
        if old is not None:
            self._adjust_vendor(old["VendorRef"]["value"], self._unapplied(old))
        if rec is not None:
            self._index_bill_payment(rec)
            self._adjust_vendor(rec["VendorRef"]["value"], -self._unapplied(rec))
        touched = {(link["TxnType"], link["TxnId"]) for pay in (old, rec) for line in (pay or {}).get("Line", [])
                   for link in line.get("LinkedTxn", [])}
        for doc_type, doc_id in sorted(touched):
            doc = self.data[doc_type].get(doc_id)
            if doc is not None:
                before = num(doc.get("Balance", 0))
                self._refresh_payable(doc_type, doc, bump=True)
                self._adjust_vendor(doc["VendorRef"]["value"], SIGN[doc_type] * (num(doc["Balance"]) - before))

    def _adjust_vendor(self, vendor_id, delta):
        vendor = self.data["Vendor"].get(vendor_id)
        if vendor is not None and delta:
            vendor["Balance"] = out(money(num(vendor.get("Balance", 0)) + delta))

    def _check_no_bill_payment(self, entity, doc_id, operation):
        """QuickBooks deletes or voids no bill or vendor credit a bill payment still applies: the payment's
        line goes first."""
        if entity not in PAYABLE_DOCS:
            return
        payments = sorted((pay["Id"] for pay, _amount in self._bill_payment_links(entity, doc_id)), key=int)
        if payments:
            raise business("Business Validation Error: %s %s cannot be %s: %s applied to it. Remove it from the "
                           "bill payment first." % (entity, doc_id, "voided" if operation == "void" else "deleted",
                                                    "BillPayment %s is" % payments[0] if len(payments) == 1 else
                                                    "BillPayments %s are" % ", ".join(payments)), "Id")
