"""Payments as QuickBooks Online keeps them: lines linked to invoices and credit memos, the
open Balance of each linked transaction, unapplied amounts and customer balances.

A Payment carries ``TotalAmt`` (the money received) and ``Line[]``, each line one ``Amount``
with one ``LinkedTxn`` to an ``Invoice`` (money applied to it) or a ``CreditMemo`` (credit
used). QBO applies a credit memo to an invoice through a Payment of ``TotalAmt`` 0 whose
invoice lines equal its credit memo lines. What is not applied is ``UnappliedAmt``
(``TotalAmt`` - invoice lines + credit memo lines, never negative).

Balances: an invoice's ``Balance`` is its ``TotalAmt`` less every payment line linked to it,
a credit memo's ``Balance`` (and ``RemainingCredit``) its ``TotalAmt`` less every line using
it; a change bumps the linked transaction's ``SyncToken`` and adds/removes the Payment in its
``LinkedTxn``. A customer's ``Balance`` is the open balance of its invoices less its credit
memos' remaining credit and its payments' unapplied amounts (``BalanceWithJobs`` adds the
sub-customers'). Deleting or voiding a Payment restores every balance it touched.
"""
import copy

from .errors import QBOError, business, inactive_ref, not_found_ref, required, too_long
from .money import ZERO, money, num, out

LINKABLE = ("Invoice", "CreditMemo")
SIGN = {"Invoice": 1, "CreditMemo": -1}   # effect of a transaction's Balance on its customer's


def _ref_id(ref):
    value = ref.get("value") if isinstance(ref, dict) else ref
    return None if value in (None, "") else str(value)


class PaymentRules:
    """Mixed into the simulator's Company (simulator/store.py)."""

    # ----- validation ---------------------------------------------------------------------------
    def _payment(self, rec, old):
        cust = self._txn_header("Payment", rec, old)
        total = num(rec.get("TotalAmt"), "TotalAmt")
        if total is None:
            raise required("TotalAmt")
        total = money(total)
        if total < 0:
            raise business("Business Validation Error: A payment amount cannot be negative.", "TotalAmt")
        self._named_ref(rec, "DepositToAccountRef", "Account")
        self._named_ref(rec, "PaymentMethodRef", "PaymentMethod")
        ref_num = rec.get("PaymentRefNum")
        if isinstance(ref_num, str) and len(ref_num) > 21:
            raise too_long("PaymentRefNum", ref_num, 21)
        applied = {"Invoice": ZERO, "CreditMemo": ZERO}
        per_txn = {}
        lines = []
        currency = _ref_id(rec.get("CurrencyRef"))
        for line in rec.get("Line") or []:
            if not isinstance(line, dict):
                raise QBOError("2010", "A Payment line is not an object", "Line")
            amount = num(line.get("Amount"), "Line.Amount")
            if amount is None:
                raise required("Line.Amount", "Line")
            amount = money(amount)
            if amount < 0:
                raise business("Business Validation Error: A payment line amount cannot be negative.",
                               "Line.Amount")
            links = line.get("LinkedTxn") or []
            if not isinstance(links, list) or not all(isinstance(link, dict) for link in links):
                raise QBOError("2010", "Request has invalid or unsupported property: LinkedTxn must be a list of "
                               "objects", "Line.LinkedTxn")
            if len(links) != 1:
                raise business("Business Validation Error: Each payment line must link exactly one "
                               "transaction.", "Line.LinkedTxn")
            link = links[0]
            txn_type = link.get("TxnType") or "Invoice"
            txn_id = str(link.get("TxnId", ""))
            if txn_type not in LINKABLE:
                raise business("Business Validation Error: A payment can be linked to invoices and credit "
                               "memos only (got %s)." % txn_type, "Line.LinkedTxn.TxnType")
            txn = self.data[txn_type].get(txn_id)
            if txn is None:
                if txn_id in self.deleted[txn_type]:
                    raise inactive_ref("Line.LinkedTxn")
                raise not_found_ref(txn_type, txn_id, "Line.LinkedTxn")
            if txn["CustomerRef"]["value"] != cust["Id"]:
                raise business("Business Validation Error: %s %s belongs to another customer." % (txn_type, txn_id),
                               "Line.LinkedTxn")
            if _ref_id(txn.get("CurrencyRef")) != currency:
                raise business("Business Validation Error: The payment currency %s differs from the currency "
                               "of %s %s." % (currency, txn_type, txn_id), "CurrencyRef")
            key = (txn_type, txn_id)
            per_txn[key] = per_txn.get(key, ZERO) + amount
            open_balance = self._open_balance(txn_type, txn_id, exclude_payment=rec["Id"])
            if per_txn[key] > open_balance:
                what = "open balance" if txn_type == "Invoice" else "remaining credit"
                raise business("Business Validation Error: The amount applied to %s %s (%s) is more than its %s "
                               "(%s)." % (txn_type, txn_id, out(per_txn[key]), what, out(open_balance)),
                               "Line.Amount")
            applied[txn_type] += amount
            lines.append(dict(line, Amount=out(amount), LinkedTxn=[{"TxnId": txn_id, "TxnType": txn_type}]))
        if applied["CreditMemo"] > applied["Invoice"]:
            raise business("Business Validation Error: The credit applied (%s) is more than the amount applied to "
                           "invoices (%s)." % (out(applied["CreditMemo"]), out(applied["Invoice"])), "Line")
        unapplied = total - applied["Invoice"] + applied["CreditMemo"]
        if unapplied < 0:
            raise business("Business Validation Error: The amount applied (%s) is more than the payment amount "
                           "(%s) and the credits used (%s)." % (out(applied["Invoice"]), out(total),
                                                                 out(applied["CreditMemo"])), "TotalAmt")
        rec["Line"] = lines
        rec["TotalAmt"] = out(total)
        rec["UnappliedAmt"] = out(unapplied)
        rec["ProcessPayment"] = False

    # ----- balances -------------------------------------------------------------------------------
    def _applied(self, txn_type, txn_id, exclude_payment=None):
        applied = ZERO
        for pid, pay in self.data["Payment"].items():
            if pid == exclude_payment:
                continue
            for line in pay.get("Line", []):
                if any(link["TxnId"] == txn_id and link.get("TxnType", "Invoice") == txn_type
                       for link in line.get("LinkedTxn", [])):
                    applied += money(num(line["Amount"]))
        return applied

    def _check_no_payment(self, txn_type, txn_id, operation):
        """QuickBooks voids or deletes no invoice or credit memo a Payment still applies (money
        received or credit used): the Payment's line goes first."""
        if txn_type not in LINKABLE:
            return
        payments = sorted({pid for pid, pay in self.data["Payment"].items()
                           for line in pay.get("Line", []) if money(num(line.get("Amount"))) > 0
                           and any(link["TxnId"] == txn_id and link.get("TxnType", "Invoice") == txn_type
                                   for link in line.get("LinkedTxn", []))}, key=int)
        if payments:
            raise business("Business Validation Error: %s %s cannot be %s: %s applied to it. Remove it from the "
                           "payment first." % (txn_type, txn_id, "voided" if operation == "void" else "deleted",
                                               "Payment %s is" % payments[0] if len(payments) == 1 else
                                               "Payments %s are" % ", ".join(payments)), "Id")

    def _open_balance(self, txn_type, txn_id, exclude_payment=None):
        txn = self.data[txn_type][txn_id]
        return money(num(txn["TotalAmt"])) - self._applied(txn_type, txn_id, exclude_payment)

    def _refresh_linked(self, txn_type, txn, bump):
        """Recompute Balance and LinkedTxn of an invoice or credit memo from the payments."""
        txn_id = txn["Id"]
        links = [{"TxnId": pid, "TxnType": "Payment"} for pid, pay in self.data["Payment"].items()
                 if any(link["TxnId"] == txn_id and link.get("TxnType", "Invoice") == txn_type
                        for line in pay.get("Line", []) for link in line.get("LinkedTxn", []))]
        links += [lt for lt in txn.get("LinkedTxn", []) if lt.get("TxnType") != "Payment"]
        balance = out(self._open_balance(txn_type, txn_id))
        if bump and (txn.get("Balance") != balance or txn.get("LinkedTxn", []) != links):
            self._bump(txn, copy.deepcopy(txn))
        txn["Balance"], txn["LinkedTxn"] = balance, links
        if txn_type == "CreditMemo":
            txn["RemainingCredit"] = balance
        if "HomeTotalAmt" in txn:
            txn["HomeBalance"] = out(money(num(balance) * num(txn.get("ExchangeRate", 1))))

    def _after_linked_write(self, entity, rec, old):
        """An invoice or credit memo was created, updated, voided or deleted."""
        sign = SIGN[entity]
        if old is not None:
            self._adjust_customer(old["CustomerRef"]["value"], -sign * num(old.get("Balance", 0)))
        if rec is not None:
            self._refresh_linked(entity, rec, bump=False)
            self._adjust_customer(rec["CustomerRef"]["value"], sign * num(rec["Balance"]))

    def _after_payment_write(self, rec, old):
        """A payment was created, updated, voided or deleted: the transactions it links (before
        and after) get their balances back, and its customer its unapplied amount."""
        if old is not None:
            self._adjust_customer(old["CustomerRef"]["value"], num(old.get("UnappliedAmt", 0)))
        if rec is not None:
            self._adjust_customer(rec["CustomerRef"]["value"], -num(rec.get("UnappliedAmt", 0)))
        touched = set()
        for pay in (old, rec):
            for line in (pay or {}).get("Line", []):
                touched.update((link.get("TxnType", "Invoice"), link["TxnId"]) for link in line.get("LinkedTxn", []))
        for txn_type, txn_id in sorted(touched):
            txn = self.data.get(txn_type, {}).get(txn_id)
            if txn is not None:
                before = num(txn.get("Balance", 0))
                self._refresh_linked(txn_type, txn, bump=True)
                self._adjust_customer(txn["CustomerRef"]["value"], SIGN[txn_type] * (num(txn["Balance"]) - before))
