"""Tax of a sales form (Invoice, Estimate, CreditMemo) and of a purchase form (Bill, VendorCredit),
computed as QuickBooks Online does.

US companies: lines carry the pseudo-codes TAX / NON; the rates are those of the transaction's
`TxnTaxDetail.TxnTaxCodeRef` (a tax code, often a group of several rates) applied to the taxable
lines, before discounts unless `ApplyTaxAfterDiscount` is true (QBO's default is false).
`TxnTaxDetail.TotalTax` sent by the caller overrides the computed total (QBO keeps the difference
as the last tax line's `OverrideDeltaAmount`); it needs a tax code and a taxable line, else 6000.
US purchases carry no tax of their own (a tax paid to a vendor is part of the expense line): a bill
with a `TxnTaxDetail.TotalTax` other than 0 is refused (6000) and answered without `TxnTaxDetail`.

Other companies: every line names a real tax code (one or several rates: GST/PST BC is a group of
two); a sales form uses the code's `SalesTaxRateList`, a purchase form its `PurchaseTaxRateList`
(the input tax credits, their own TaxRate records). Tax is summed per rate over the lines and rounded
per transaction. `GlobalTaxCalculation` TaxExcluded (default) | TaxInclusive | NotApplicable. A line's
`Amount` is always tax-exclusive, as in QBO's API; under TaxInclusive a line may be given by its
detail's `TaxInclusiveAmt` alone (the net is derived from it, rounded to the cent), and every line is
answered with its `TaxInclusiveAmt`. A `TxnTaxDetail.TaxLine` with a `TaxRateRef` and an `Amount`
overrides that rate's tax (`OverrideDeltaAmount` keeps the difference): that is how a client books
the tax it computed itself, to the cent; a rate no line of the transaction uses is refused (6000).

`TotalAmt` = lines after discounts + tax, in both models.
"""
from decimal import Decimal

from .errors import QBOError, business, not_found_ref
from .money import ZERO, money, num, out

MODES = ("TaxExcluded", "TaxInclusive", "NotApplicable")


def _ref_id(ref):
    value = ref.get("value") if isinstance(ref, dict) else ref
    return None if value in (None, "") else str(value)


def code_rates(company, code_id, purchase=False):
    """The TaxRate records of a tax code's sales (or purchase) rate list."""
    code = company.data["TaxCode"].get(code_id) or {}
    rates = []
    for det in (code.get("PurchaseTaxRateList" if purchase else "SalesTaxRateList") or {}).get("TaxRateDetail", []):
        rate = company.data["TaxRate"].get(_ref_id(det.get("TaxRateRef")))
        if rate:
            rates.append(rate)
    return rates


def code_percent(company, code_id, purchase=False):
    return sum((num(r["RateValue"]) for r in code_rates(company, code_id, purchase)), ZERO)


def inclusive_net(company, rec, detail, code_id, purchase=False):
    """Net amount of a non-US line given only by its TaxInclusiveAmt under TaxInclusive, or None."""
    if company.us or rec.get("GlobalTaxCalculation") != "TaxInclusive" or code_id is None:
        return None
    gross = num(detail.get("TaxInclusiveAmt"), "TaxInclusiveAmt")
    if gross is None:
        return None
    return money(gross / (1 + code_percent(company, code_id, purchase) / 100))


def _detail(line):
    """The detail element of a line (SalesItemLineDetail, ItemBasedExpenseLineDetail, ...)."""
    return line[line["DetailType"]]


def _overrides(detail):
    """{rate id: amount} the caller set on TxnTaxDetail.TaxLine."""
    wanted = {}
    for line in detail.get("TaxLine") or []:
        if not isinstance(line, dict):
            raise QBOError("2010", "TxnTaxDetail.TaxLine is not an object", "TxnTaxDetail.TaxLine")
        rate_id = _ref_id((line.get("TaxLineDetail") or {}).get("TaxRateRef"))
        amount = num(line.get("Amount"), "TxnTaxDetail.TaxLine.Amount")
        if rate_id is not None and amount is not None:
            wanted[rate_id] = money(amount)
    return wanted


def compute(company, rec, nets):
    """Fill TxnTaxDetail, TotalAmt, HomeTotalAmt and the lines' TaxInclusiveAmt of a sales form `rec`;
    `nets` is [(line, net amount after discounts)] for its item lines."""
    detail = dict(rec.get("TxnTaxDetail") or {})
    explicit_total = None
    after_discount = True
    per_line, wanted = [], {}
    if company.us:
        rec.pop("GlobalTaxCalculation", None)
        by_rate = {}  # rate id -> [base, tax] unrounded
        code_id = _ref_id(detail.get("TxnTaxCodeRef"))
        rates = []
        if code_id is not None:
            code = company.check_ref(code_id, "TaxCode", "TxnTaxDetail.TxnTaxCodeRef")
            detail["TxnTaxCodeRef"] = {"value": code["Id"], "name": code["Name"]}
            rates = code_rates(company, code_id)
        # ApplyTaxAfterDiscount false (QBO's default): tax on the line amounts before discount
        after_discount = rec.get("ApplyTaxAfterDiscount") in (True, "true")
        taxable = [net if after_discount else num(line["Amount"]) for line, net in nets
                   if line["SalesItemLineDetail"]["TaxCodeRef"]["value"] == "TAX"]
        base = sum(taxable, ZERO)
        for rate in rates:
            by_rate[rate["Id"]] = [base, base * num(rate["RateValue"]) / 100]
        explicit_total = num(detail.get("TotalTax"), "TxnTaxDetail.TotalTax")
        if explicit_total is not None:
            explicit_total = money(explicit_total)
            if explicit_total and not (rates and taxable):
                raise business("Business Validation Error: TxnTaxDetail.TotalTax needs a TxnTaxCodeRef with "
                               "rates and at least one taxable (TAX) line.", "TxnTaxDetail.TotalTax")
    else:
        by_rate, per_line, wanted = _by_rate(company, rec, detail, nets, purchase=False)
    total = _book(company, rec, detail, nets, by_rate, per_line, wanted, explicit_total)
    rec["HomeTotalAmt"] = out(money(total * num(rec["ExchangeRate"])))
    rec["ApplyTaxAfterDiscount"] = after_discount if company.us else True   # elsewhere always after discount


def compute_purchase(company, rec, nets):
    """Fill TxnTaxDetail, TotalAmt and the lines' TaxInclusiveAmt of a purchase form (Bill, VendorCredit):
    input tax from each line's code's PurchaseTaxRateList outside the US, none in the US."""
    detail = dict(rec.get("TxnTaxDetail") or {})
    if company.us:
        rec.pop("GlobalTaxCalculation", None)
        if num(detail.get("TotalTax"), "TxnTaxDetail.TotalTax") or detail.get("TaxLine"):
            raise business("Business Validation Error: A US purchase carries no tax of its own: put the tax paid "
                           "in the expense lines.", "TxnTaxDetail")
        rec.pop("TxnTaxDetail", None)
        rec["TotalAmt"] = out(money(sum((net for _line, net in nets), ZERO)))
        return
    by_rate, per_line, wanted = _by_rate(company, rec, detail, nets, purchase=True)
    _book(company, rec, detail, nets, by_rate, per_line, wanted, None)


def _by_rate(company, rec, detail, nets, purchase):
    """Outside the US: ({rate id: [base, tax unrounded]}, [(line, net, total percent)], {rate id: override})."""
    mode = rec.get("GlobalTaxCalculation") or "TaxExcluded"
    if mode not in MODES:
        raise business("Business Validation Error: Invalid GlobalTaxCalculation %s." % mode, "GlobalTaxCalculation")
    rec["GlobalTaxCalculation"] = mode
    by_rate, per_line = {}, []
    for line, net in nets:
        code_id = _detail(line)["TaxCodeRef"]["value"]
        rates = code_rates(company, code_id, purchase)
        per_line.append((line, net, sum((num(r["RateValue"]) for r in rates), ZERO)))
        for rate in rates:
            entry = by_rate.setdefault(rate["Id"], [ZERO, ZERO])
            entry[0] += net
            entry[1] += net * num(rate["RateValue"]) / 100
    wanted = _overrides(detail)
    for rate_id in wanted:
        if rate_id not in company.data["TaxRate"]:
            raise not_found_ref("TaxRate", rate_id, "TxnTaxDetail.TaxLine.TaxLineDetail.TaxRateRef")
        if rate_id not in by_rate:
            raise business("Business Validation Error: The tax rate %s is not applied by any line of "
                           "this transaction." % rate_id, "TxnTaxDetail.TaxLine")
    return by_rate, per_line, wanted


def _book(company, rec, detail, nets, by_rate, per_line, wanted, explicit_total):
    """Round the tax per rate (the cent of rounding to the last charging rate), apply the overrides, and set
    TxnTaxDetail, the lines' TaxInclusiveAmt under TaxInclusive and TotalAmt; returns the total."""
    computed_total = money(sum((v[1] for v in by_rate.values()), ZERO))
    tax_lines, booked = [], ZERO
    ordered = sorted(by_rate.items())
    # the cent(s) of rounding per transaction go to the last rate that charges something: a
    # zero-rated or exempt rate (0 %) never carries tax
    charging = [rate_id for rate_id, _values in ordered if num(company.data["TaxRate"][rate_id]["RateValue"])]
    last_id = charging[-1] if charging else (ordered[-1][0] if ordered else None)
    for rate_id, (base, tax) in ordered:
        last = rate_id == last_id
        amount = money(tax) if not last else computed_total - booked
        booked += amount
        rate = company.data["TaxRate"][rate_id]
        line_detail = {"TaxRateRef": {"value": rate_id, "name": rate["Name"]}, "PercentBased": True,
                       "TaxPercent": rate["RateValue"], "NetAmountTaxable": out(money(base))}
        final = wanted.get(rate_id, amount)
        if last and explicit_total is not None:
            final = amount + explicit_total - computed_total
        if final != amount:
            line_detail["OverrideDeltaAmount"] = out(final - amount)
        tax_lines.append({"Amount": out(final), "DetailType": "TaxLineDetail", "TaxLineDetail": line_detail})
    total_tax = sum((Decimal(str(t["Amount"])) for t in tax_lines), ZERO)
    if explicit_total is not None and not tax_lines:
        total_tax = explicit_total  # 0: nothing to tax
    net_total = sum((net for line, net in nets), ZERO)
    if rec.get("GlobalTaxCalculation") == "TaxInclusive":
        for line, net, pct in per_line:
            detail_line = _detail(line)
            if not num(detail_line.get("TaxInclusiveAmt"), "TaxInclusiveAmt"):
                detail_line["TaxInclusiveAmt"] = out(money(num(line["Amount"]) * (1 + pct / 100)))
    detail["TotalTax"] = out(total_tax)
    detail["TaxLine"] = tax_lines
    rec["TxnTaxDetail"] = detail
    total = money(net_total + total_tax)
    rec["TotalAmt"] = out(total)
    return total


def carry_over(old_detail):
    """What a sparse update that does not resend TxnTaxDetail keeps of the stored one: the code
    and the overrides the caller once made, not the amounts computed from the old lines."""
    kept = {}
    if old_detail.get("TxnTaxCodeRef"):
        kept["TxnTaxCodeRef"] = old_detail["TxnTaxCodeRef"]
    overridden = [t for t in old_detail.get("TaxLine") or []
                  if (t.get("TaxLineDetail") or {}).get("OverrideDeltaAmount") is not None]
    if overridden:
        if "TxnTaxCodeRef" in kept:
            kept["TotalTax"] = old_detail.get("TotalTax")
        else:
            kept["TaxLine"] = overridden
    return kept
