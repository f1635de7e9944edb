"""Sales tax of a document on its way to QuickBooks: the tax code of each line, the checks that
make QuickBooks' tax the same as Odoo's, and the explicit amounts that keep it so.

QuickBooks computes its own tax from the line codes and rounds once per transaction; Odoo rounds
per tax (or per line), includes tax in prices, splits a group into its children, applies cash
rounding and early-payment discounts. So the tax Odoo booked is always sent explicitly: outside the
US one `TxnTaxDetail.TaxLine` per QuickBooks rate with Odoo's amount (QuickBooks keeps the override),
in the US `TxnTaxDetail.TotalTax` with the transaction's code. What cannot be expressed that way (a
tax mapped to a code of another rate, two US codes on one document, a group no QuickBooks code
combines) is refused before anything is sent, with the reason."""
from collections import defaultdict

from odoo import models
from odoo.tools import float_compare

from .account_tax import RATE_DIGITS
from .qbo_reason import _lt


def _same_rate(a, b):
    return float_compare(a or 0.0, b or 0.0, precision_digits=RATE_DIGITS) == 0


class QboSalesForm(models.AbstractModel):
    _inherit = "qbo.sales.form"

    # hooks ----------------------------------------------------------------------------
    def _qbo_tax_amounts(self):
        """{leaf account.tax: tax amount in the document currency} as Odoo booked it."""
        raise NotImplementedError

    # the plan --------------------------------------------------------------------------
    def _qbo_tax_plan(self, company, lines=None):
        """{"codes": [code per line of `lines` or None], "problems": [...], "txn_code": code (US),
        "inclusive": bool, "total_tax": float (US), "tax_lines": [(rate dict, amount)] (others)}."""
        self.ensure_one()
        company = company.sudo()
        lines = self._qbo_form_lines() if lines is None else lines
        us = company.qbo_tax_model == "us"
        zero_code = company.qbo_product_tax_zero_id or company.qbo_tax_zero_id
        Ref = self.env["qbo.reference"]
        plan = {"us": us, "codes": [], "problems": [], "txn_code": Ref, "inclusive": False, "total_tax": 0.0,
                "tax_lines": []}
        problems = plan["problems"]
        share = {}  # leaf tax -> ((rate id, fraction), ...)
        rates_by_id = {}
        for line in lines:
            if line["display_type"]:
                plan["codes"].append(None)
                continue
            taxes = line["taxes"]
            label = line["name"] or _lt("(no description)")
            code, problem = taxes._qbo_line_code(company)
            if problem:
                problems.append(problem)
            if not taxes:
                if not us and not zero_code:
                    problems.append(_lt("The line '%(l)s' has no tax, and no zero-rated QuickBooks tax code is "
                                               "mapped.", l=label))
                code = Ref if us else zero_code
            plan["codes"].append(code)
            if not code or not taxes:
                continue
            leaves = taxes._qbo_leaves()
            if any(leaf.price_include for leaf in leaves):
                plan["inclusive"] = not us
            if us:
                plan["txn_code"] |= code
                percents = [leaf._qbo_percent() for leaf in leaves]
                if None not in percents and not _same_rate(sum(percents), code.rate):
                    problems.append(_lt(
                        "The taxes %(t)s charge %(o)s%% and are mapped to the QuickBooks code %(c)s, which charges "
                        "%(q)s%%.", t=", ".join(leaves.mapped("name")), o=round(sum(percents), RATE_DIGITS),
                        c=code.name, q=code.rate))
                continue
            rates = code._qbo_rates()
            rates_by_id.update({r["id"]: r for r in rates})
            assignment, problem = self._qbo_assign_rates(leaves, code, rates)
            if problem:
                problems.append(problem)
                continue
            for leaf, parts in assignment.items():
                if share.setdefault(leaf, parts) != parts:
                    problems.append(_lt("The tax %(t)s goes to different QuickBooks rates on different lines of "
                                               "this document.", t=leaf.name))
        txn_codes = plan["txn_code"]
        if us and len(txn_codes) > 1:
            problems.append(_lt("QuickBooks (US) applies one sales tax per transaction, and this document "
                                       "carries several: %(c)s.", c=", ".join(txn_codes.mapped("name"))))
        if problems:
            return plan
        amounts = self._qbo_tax_amounts()
        currency = self.currency_id
        if us:
            plan["total_tax"] = currency.round(sum(amounts.values()))
            return plan
        per_rate = defaultdict(float)
        for leaf, amount in amounts.items():
            parts = share.get(leaf)
            if not parts:
                if not currency.is_zero(amount):
                    problems.append(_lt("The tax %(t)s (%(a)s) is on no line QuickBooks can carry.",
                                               t=leaf.name, a=amount))
                continue
            left = amount
            for position, (rate_id, fraction) in enumerate(parts):
                part = left if position == len(parts) - 1 else currency.round(amount * fraction)
                left -= part
                per_rate[rate_id] += part
        plan["tax_lines"] = [(rates_by_id[rid], currency.round(amount)) for rid, amount in sorted(per_rate.items())]
        return plan

    def _qbo_assign_rates(self, leaves, code, rates):
        """({leaf: ((rate id, fraction), ...)}, problem) for one line whose leaves go to `code`:
        a leaf mapped to a one-rate code takes that rate; otherwise the rate of the same percent;
        one leaf for several rates is split by their percents. Every rate of the code must be
        charged by some leaf, else QuickBooks would tax what Odoo does not."""
        assignment, used = {}, set()
        for leaf in leaves:
            own = leaf.qbo_tax_code_ref_id._qbo_rates() if leaf.qbo_tax_code_ref_id else []
            percent = leaf._qbo_percent()
            candidates = [r for r in rates if r["id"] not in used]
            match = None
            if len(own) == 1 and own[0]["id"] in {r["id"] for r in candidates}:
                match = next(r for r in candidates if r["id"] == own[0]["id"])
            elif percent is not None:
                match = next((r for r in candidates if _same_rate(r["rate"], percent)), None)
            if match is not None:
                if percent is not None and not _same_rate(match["rate"], percent):
                    return {}, _lt("The tax %(t)s charges %(o)s%% and is mapped to the QuickBooks rate "
                                          "%(r)s of %(q)s%%.", t=leaf.name, o=percent, r=match["name"], q=match["rate"])
                assignment[leaf] = ((match["id"], 1.0),)
                used.add(match["id"])
            elif len(leaves) == 1 and candidates and (percent is None or _same_rate(
                    sum(r["rate"] for r in candidates), percent)):
                total = sum(r["rate"] for r in candidates) or 1.0
                assignment[leaf] = tuple((r["id"], r["rate"] / total) for r in candidates)
                used |= {r["id"] for r in candidates}
            else:
                return {}, _lt("The tax %(t)s (%(o)s%%) matches no rate of the QuickBooks code %(c)s (%(r)s).",
                                      t=leaf.name, o=percent if percent is not None else "-", c=code.name,
                                      r=", ".join(f"{r['name']} {r['rate']:g}%" for r in rates))
        missing = [r for r in rates if r["id"] not in used and not _same_rate(r["rate"], 0.0)]
        if missing:
            return {}, _lt("The QuickBooks code %(c)s also charges %(r)s, which Odoo's %(t)s does not.",
                                  c=code.name, r=", ".join(f"{r['name']} {r['rate']:g}%" for r in missing),
                                  t=", ".join(leaves.mapped("name")))
        return assignment, None

    # the payload -----------------------------------------------------------------------
    @staticmethod
    def _qbo_tax_header(plan):
        """The header fields of the payload that carry the tax."""
        if plan["us"]:
            if not plan["txn_code"]:
                return {}
            return {"TxnTaxDetail": {"TxnTaxCodeRef": {"value": plan["txn_code"].qbo_id},
                                     "TotalTax": plan["total_tax"]}}
        header = {"GlobalTaxCalculation": "TaxInclusive" if plan["inclusive"] else "TaxExcluded"}
        if plan["tax_lines"]:
            header["TxnTaxDetail"] = {"TaxLine": [
                {"Amount": amount, "DetailType": "TaxLineDetail",
                 "TaxLineDetail": {"TaxRateRef": {"value": rate["id"]}, "PercentBased": True,
                                   "TaxPercent": rate["rate"]}}
                for rate, amount in plan["tax_lines"]]}
        return header
