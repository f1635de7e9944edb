"""What invoices, credit notes and quotations share on their way to QuickBooks: the customer,
the lines, taxes, currency, numbers and the totals check."""
from odoo import models

from .qbo_naming import DOC_NUMBER_MAX, TemplateError
from .qbo_sync_mixin import QboPayloadError, in_queries

UNIT_PRICE_DIGITS = 5


class QboSalesForm(models.AbstractModel):
    _name = "qbo.sales.form"
    _description = "QuickBooks sales form (invoice, credit memo, estimate)"

    # hooks ----------------------------------------------------------------------------
    def _qbo_form_lines(self):
        """[{display_type, name, product, qty, subtotal, taxes}] in document order."""
        raise NotImplementedError

    def _qbo_form_shipping_partner(self):
        raise NotImplementedError

    def _qbo_form_number(self, company):
        raise NotImplementedError

    def _qbo_template_values(self):
        raise NotImplementedError

    @staticmethod
    def _qbo_line(line, qty, taxes):
        """One document line as the payload builder reads it."""
        return {"display_type": line.display_type if line.display_type in ("line_section", "line_note") else False,
                "name": line.name, "product": line.product_id, "qty": qty, "subtotal": line.price_subtotal,
                "taxes": taxes}

    # a document QBO already holds --------------------------------------------------------
    def _qbo_number_match_queries(self, company):
        """Documents are not matched by content, but one QBO already holds under the number this
        record would be sent with is found: the answer to its create was lost and the retry came
        with new requestids, or somebody entered it in QuickBooks. See `_qbo_adopt`."""
        numbers = {}
        for record in self.filtered(lambda r: r.state != "cancel" and (r._name != "account.move" or r.state == "posted")):
            try:
                numbers[record.id] = record._qbo_form_number(company)
            except TemplateError:
                continue  # reported by the pre-flight
        queries = in_queries(f"SELECT * FROM {self[:1]._qbo_entity}", "DocNumber", list(numbers.values()),
                             condition=None)
        index = {}

        def pick(record, rows):
            if not index:
                for row in rows:
                    index.setdefault(row.get("DocNumber"), row)
            return index.get(numbers.get(record.id)) if numbers.get(record.id) else None
        return queries, pick

    def _qbo_adopt(self, company, payload, match, amount_total):
        """`match` holds this record's number in QBO: it is this record's twin, to be linked
        without sending anything, when its customer and total agree with Odoo's; otherwise the
        record is put in error rather than sent to a certain 6140."""
        same_customer = (match.get("CustomerRef") or {}).get("value") == payload["CustomerRef"]["value"]
        same_total = not self.currency_id.compare_amounts(float(match.get("TotalAmt") or 0.0), amount_total)
        if not (same_customer and same_total):
            raise QboPayloadError(self.env._(
                "QuickBooks already holds %(entity)s %(number)s (id %(id)s) for another customer or amount. "
                "If it is this document, link it with Link QuickBooks invoice; otherwise change the number.",
                entity=self._qbo_entity, number=match.get("DocNumber"), id=match.get("Id")), code="6140")

    # customer ---------------------------------------------------------------------------
    def _qbo_customer(self, company):
        """The QBO customer of the document: its delivery address when that is an Active
        sub-customer in the Financial Hub, else the commercial partner."""
        self.ensure_one()
        shipping = self._qbo_form_shipping_partner().with_company(company)
        if shipping and shipping.parent_id and shipping.type == "delivery" and shipping.qbo_hub == "active":
            return shipping
        return self.partner_id.commercial_partner_id.with_company(company)

    # pre-flight ---------------------------------------------------------------------------
    def _qbo_form_problems(self, company):
        """Every problem of the document known without asking QuickBooks."""
        self.ensure_one()
        company = company.sudo()
        problems = []
        customer = self._qbo_customer(company)
        if customer.qbo_hub != "active":
            problems.append(self.env._("The customer %(c)s is Inactive in the Financial Hub: switch it to Active first.",
                              c=customer.display_name))
        us = company.qbo_tax_model == "us"
        codes = set()
        for line in self._qbo_form_lines():
            if line["display_type"]:
                continue
            product = line["product"]
            label = line["name"] or self.env._("(no description)")
            if not product:
                problems.append(self.env._("The line '%(l)s' has no product: QuickBooks needs an item on every line.", l=label))
            elif not product.with_company(company)._qbo_income_ref(company):
                problems.append(self.env._("The product %(p)s has no income account for QuickBooks.", p=product.display_name))
            unmapped = line["taxes"].filtered(lambda t: not t.qbo_tax_code_ref_id)
            for tax in unmapped:
                problems.append(self.env._("The tax %(t)s has no QuickBooks tax code in the mapping.", t=tax.name))
            mapped = line["taxes"].qbo_tax_code_ref_id
            if len(mapped) > 1:
                problems.append(self.env._("The line '%(l)s' carries taxes mapped to several QuickBooks tax codes (%(c)s).",
                                  l=label, c=", ".join(mapped.mapped("name"))))
            if not us and not line["taxes"] and not (company.qbo_product_tax_zero_id or company.qbo_tax_zero_id):
                problems.append(self.env._("The line '%(l)s' has no tax, and no zero-rated QuickBooks tax code is mapped.",
                                  l=label))
            codes |= set(mapped.ids)
        if us and len(codes) > 1:
            problems.append(self.env._("QuickBooks (US) applies one sales tax per transaction, and this document carries "
                              "several: %(c)s.", c=", ".join(self.env["qbo.reference"].browse(codes).mapped("name"))))
        try:
            number = self._qbo_form_number(company)
        except TemplateError as exc:
            problems.append(self.env._("The naming template uses an unknown variable {%(v)s}.", v=exc))
        else:
            if number and len(number) > DOC_NUMBER_MAX:
                problems.append(self.env._("The number '%(n)s' is longer than the %(max)s characters QuickBooks accepts.",
                                  n=number, max=DOC_NUMBER_MAX))
        currency = self.currency_id.name
        home = company.qbo_home_currency
        if home and currency != home and not company.qbo_multicurrency:
            problems.append(self.env._("The currency %(c)s is not enabled in QuickBooks (home currency %(h)s, "
                              "multi-currency off).", c=currency, h=home))
        return problems

    # payload ---------------------------------------------------------------------------
    def _qbo_wait_for(self, records, company, label):
        """Refs of `records` in QBO; queues the missing ones and defers, or fails if they failed."""
        links = records._qbo_links(company)
        refs, waiting, failed = {}, [], []
        for record in records:
            link = links.get(record.id)
            if link and link.qbo_id:
                refs[record.id] = link.qbo_id
            elif link and link.state == "error":
                failed.append(self.env._("%(label)s %(name)s could not be pushed to QuickBooks: %(e)s",
                                label=label, name=record.display_name, e=link.error_message or "-"))
            else:
                waiting.append(record)
                if not link or link.state != "queued":
                    record._qbo_enqueue(company)
        if failed:
            raise QboPayloadError(failed, code="dependency")
        if waiting:
            raise QboPayloadError(self.env._("Waiting for %(label)s %(names)s to reach QuickBooks.", label=label,
                                    names=", ".join(r.display_name for r in waiting)), code="defer")
        return refs

    def _qbo_form_payload(self, company):
        """The header and lines common to Invoice, CreditMemo and Estimate."""
        self.ensure_one()
        company = company.sudo()
        customer = self._qbo_customer(company)
        customer_id = self._qbo_wait_for(customer, company, self.env._("the customer"))[customer.id]
        lines = self._qbo_form_lines()
        products = self.env["product.product"].browse(
            {line["product"].id for line in lines if not line["display_type"] and line["product"]})
        item_refs = self._qbo_wait_for(products, company, self.env._("the product(s)"))
        us = company.qbo_tax_model == "us"
        zero_code = company.qbo_product_tax_zero_id or company.qbo_tax_zero_id
        qbo_lines, txn_code = [], None
        for line in lines:
            if line["display_type"]:
                if line["name"]:
                    qbo_lines.append({"DetailType": "DescriptionOnly", "Description": line["name"][:4000],
                                      "DescriptionLineDetail": {}})
                continue
            subtotal = self.currency_id.round(line["subtotal"])
            detail = {"ItemRef": {"value": item_refs[line["product"].id]}}
            qty = line["qty"]
            unit = round(subtotal / qty, UNIT_PRICE_DIGITS) if qty else 0.0
            if qty and self.currency_id.compare_amounts(qty * unit, subtotal) == 0:
                # a line discount is folded into the unit price, so QBO's Qty x UnitPrice is Odoo's subtotal
                detail.update({"Qty": qty, "UnitPrice": unit})
            code = line["taxes"].qbo_tax_code_ref_id[:1]
            if us:
                detail["TaxCodeRef"] = {"value": "TAX" if line["taxes"] else "NON"}
                txn_code = txn_code or code
            else:
                detail["TaxCodeRef"] = {"value": (code or zero_code).qbo_id}
            qbo_lines.append({"DetailType": "SalesItemLineDetail", "Amount": subtotal,
                              "Description": (line["name"] or "")[:4000], "SalesItemLineDetail": detail})
        payload = {"CustomerRef": {"value": customer_id}, "Line": qbo_lines}
        if us:
            if txn_code:
                payload["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": txn_code.qbo_id}}
        else:
            payload["GlobalTaxCalculation"] = "TaxExcluded"
        number = self._qbo_form_number(company)
        if number:
            payload["DocNumber"] = number
        values = self._qbo_template_values()
        memo = company._qbo_render("qbo_memo_template", values)
        if memo:
            payload["CustomerMemo"] = {"value": memo[:1000]}
        note = company._qbo_render("qbo_private_note_template", values)
        if note:
            payload["PrivateNote"] = note[:4000]
        currency = self.currency_id.name
        if company.qbo_home_currency and (company.qbo_multicurrency or currency != company.qbo_home_currency):
            payload["CurrencyRef"] = {"value": currency}
            if currency != company.qbo_home_currency:
                payload["ExchangeRate"] = self._qbo_exchange_rate(company)
        return payload

    def _qbo_exchange_rate(self, company):
        """Home currency per unit of the document currency, as Odoo booked it."""
        rate = self.env["res.currency"]._get_conversion_rate(
            self.currency_id, company.currency_id, company, self._qbo_form_date())
        return round(rate, 8)

    def _qbo_with_token(self, payload, link, match):
        token = (link and link.qbo_sync_token) or (match and match.get("SyncToken"))
        payload.update({"Id": link.qbo_id, "SyncToken": token, "sparse": True})
        return payload, "update"

    # after the push ------------------------------------------------------------------------
    def _qbo_totals_problem(self, entity, amount_total, amount_tax):
        if "TotalAmt" not in entity:
            return None
        qbo_total = float(entity.get("TotalAmt") or 0.0)
        qbo_tax = float((entity.get("TxnTaxDetail") or {}).get("TotalTax") or 0.0)
        currency = self.currency_id
        if currency.compare_amounts(qbo_total, amount_total) or currency.compare_amounts(qbo_tax, amount_tax):
            return self.env._("QuickBooks computed a total of %(qt).2f (tax %(qx).2f) and Odoo %(ot).2f (tax %(ox).2f): "
                     "check the taxes and discounts of the QuickBooks copy.",
                     qt=qbo_total, qx=qbo_tax, ot=amount_total, ox=amount_tax)
        return None

    def _qbo_name_clash_allowed(self, payload):
        return False
