"""What invoices, credit notes and quotations share on their way to QuickBooks: the customer,
the lines, taxes, currency, numbers and the totals check."""
from odoo import models

from .qbo_naming import DOC_NUMBER_MAX, TemplateError
from .qbo_reason import _lt, log_note
from .qbo_sync_mixin import QboPayloadError, in_queries
from .qbo_walls import within_company

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
    def _qbo_line(line, qty, taxes, account=None, subtotal=None, total=None):
        """One document line as the payload builder reads it (`total`: tax included, when known)."""
        return {"display_type": line.display_type if line.display_type in ("line_section", "line_note") else False,
                "name": line.name, "product": line.product_id, "qty": qty,
                "subtotal": line.price_subtotal if subtotal is None else subtotal,
                "total": line.price_total if total is None and line.display_type in (False, "product") else total,
                "taxes": taxes, "account": account, "analytic": line.analytic_distribution}

    def _qbo_line_product(self, line, company):
        """The product whose QuickBooks item a line is sent with: its own, else the one set for
        its income account, else the company's product for lines without a product."""
        if line["product"]:
            return line["product"]
        account = line.get("account")
        override = account and account.with_company(company).qbo_line_product_id
        return override or company.sudo().qbo_line_product_id

    def _qbo_line_account_problems(self, line, product, company):
        """A line without a product books its income in QuickBooks on the account of the item it
        is sent with: when the line's Odoo account is mapped to another QuickBooks account, the
        income would land elsewhere than Odoo says, so the income account needs its own item (set
        on the account, as the account form offers it for income accounts)."""
        account = line.get("account") and line["account"].with_company(company)
        mapped = account and account.internal_group == "income" and account.qbo_account_ref_id
        booked = product.with_company(company)._qbo_income_ref(company)
        if not mapped or not booked or mapped == booked:
            return []
        return [_lt(
            "The line '%(l)s' has no product and its account %(a)s is mapped to the QuickBooks account %(qa)s, but "
            "the item it would be sent with (%(p)s) books income on %(qp)s: pick the QuickBooks item for lines "
            "without a product on the account %(a)s.", l=line["name"] or _lt("(no description)"),
            a=account.display_name, qa=mapped.name, p=product.display_name, qp=booked.name)]

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
            raise QboPayloadError(_lt(
                "QuickBooks already holds %(entity)s %(number)s (id %(id)s) for another customer or amount. "
                "If it is this document, link it with Link QuickBooks invoice; otherwise change the number.",
                entity=self._qbo_entity, number=match.get("DocNumber"), id=match.get("Id")), code="6140")

    # linked by hand ------------------------------------------------------------------------
    def action_qbo_link_wizard(self):
        """Find the QuickBooks document this one already is, and link them without pushing."""
        self.ensure_one()
        self._qbo_check_push_rights(self.company_id)
        field = "move_id" if self._name == "account.move" else "order_id"
        wizard = self.env["account.move.qbo.link"].create({field: self.id})
        wizard.action_search()
        return wizard._reopen()

    def _qbo_forget_links(self, company):
        """Forget the QuickBooks twins of these documents of `company`; QuickBooks is not changed."""
        self._qbo_cancel_pending_jobs()
        links = self._qbo_links(company)
        for record in self:
            link = links.get(record.id)
            if link:
                log_note(record, _lt(
                    "Unlinked from QuickBooks %(entity)s %(id)s (number %(doc)s); QuickBooks was not changed.",
                    entity=record._qbo_entity, id=link.qbo_id or "-", doc=link.qbo_doc_number or "-"))
                link.sudo().unlink()
        self.invalidate_recordset(["qbo_state", "qbo_id", "qbo_error", "qbo_last_sync", "qbo_url", "qbo_doc_number"])

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
            problems.append(_lt("The customer %(c)s is Inactive in the Financial Hub: switch it to Active first.",
                              c=customer.display_name))
        lines = self._qbo_form_lines()
        for line in lines:
            if line["display_type"]:
                continue
            product = self._qbo_line_product(line, company)
            label = line["name"] or _lt("(no description)")
            if not product:
                problems.append(_lt(
                    "The line '%(l)s' has no product, and no product is set for lines without one (Settings > "
                    "QuickBooks > Lines without a product, or on the account %(a)s).",
                    l=label, a=line.get("account") and line["account"].display_name or "-"))
            elif not product.with_company(company)._qbo_income_ref(company):
                problems.append(_lt("The product %(p)s has no income account for QuickBooks.", p=product.display_name))
            elif not line["product"]:
                problems += self._qbo_line_account_problems(line, product, company)
        problems += self._qbo_tax_plan(company, lines)["problems"]
        try:
            number = self._qbo_form_number(company)
        except TemplateError as exc:
            problems.append(_lt("The naming template uses an unknown variable {%(v)s}.", v=exc))
        else:
            if number and len(number) > DOC_NUMBER_MAX:
                problems.append(_lt("The number '%(n)s' is longer than the %(max)s characters QuickBooks accepts.",
                                  n=number, max=DOC_NUMBER_MAX))
        problems += self._qbo_class_problems(company)
        currency = self.currency_id.name
        home = company.qbo_home_currency
        if home and currency != home and not company.qbo_multicurrency:
            problems.append(_lt("The currency %(c)s is not enabled in QuickBooks (home currency %(h)s, "
                              "multi-currency off).", c=currency, h=home))
        elif home and currency != home and not self._qbo_exchange_rate(company):
            problems.append(_lt("Odoo has no exchange rate between %(c)s and the QuickBooks home currency "
                                       "%(h)s on %(d)s.", c=currency, h=home, d=self._qbo_form_date()))
        return list(dict.fromkeys(problems))

    # payload ---------------------------------------------------------------------------
    def _qbo_wait_for(self, records, company, label):
        """Refs of `records` in QBO; queues the missing ones and defers, or fails if they failed."""
        links = records._qbo_links(company)
        refs, waiting, failed = {}, [], []
        held = within_company(records, company)
        for record in records:
            link = links.get(record.id)
            if record not in held:
                failed.append(_lt("%(label)s %(name)s belongs to another company: it is not pushed to the "
                                         "QuickBooks of %(company)s.", label=label, name=record.display_name,
                                         company=company.name))
            elif link and link.qbo_id:
                refs[record.id] = link.qbo_id
            elif link and link.state == "error":
                failed.append(_lt("%(label)s %(name)s could not be pushed to QuickBooks: %(e)s",
                                label=label, name=record.display_name, e=link.error_message or "-"))
            else:
                waiting.append(record)
                if not link or link.state != "queued":
                    record._qbo_enqueue(company)
        if failed:
            raise QboPayloadError(failed, code="dependency")
        if waiting:
            raise QboPayloadError(_lt("Waiting for %(label)s %(names)s to reach QuickBooks.", label=label,
                                    names=", ".join(r.display_name for r in waiting)), code="defer")
        return refs

    def _qbo_form_payload(self, company):
        """The header and lines common to Invoice, CreditMemo and Estimate."""
        self.ensure_one()
        company = company.sudo()
        customer = self._qbo_customer(company)
        customer_id = self._qbo_wait_for(customer, company, _lt("the customer"))[customer.id]
        lines = self._qbo_form_lines()
        products = {index: self._qbo_line_product(line, company) for index, line in enumerate(lines)
                    if not line["display_type"]}
        item_refs = self._qbo_wait_for(self.env["product.product"].union(*products.values()), company,
                                       _lt("the product(s)"))
        plan = self._qbo_tax_plan(company, lines)
        if plan["problems"]:
            raise QboPayloadError(plan["problems"])
        currency = self.currency_id
        qbo_lines = []
        for index, line in enumerate(lines):
            if line["display_type"]:
                if line["name"]:
                    qbo_lines.append({"DetailType": "DescriptionOnly", "Description": line["name"][:4000],
                                      "DescriptionLineDetail": {}})
                continue
            subtotal = currency.round(line["subtotal"])
            detail = {"ItemRef": {"value": item_refs[products[index].id]}}
            qty = line["qty"]
            unit = round(subtotal / qty, UNIT_PRICE_DIGITS) if qty else 0.0
            if qty and currency.compare_amounts(qty * unit, subtotal) == 0:
                # a line discount is folded into the unit price, so QBO's Qty x UnitPrice is Odoo's subtotal
                detail.update({"Qty": qty, "UnitPrice": unit})
            code = plan["codes"][index]
            if plan["us"]:
                detail["TaxCodeRef"] = {"value": "TAX" if line["taxes"] else "NON"}
            else:
                detail["TaxCodeRef"] = {"value": code.qbo_id}
                if plan["inclusive"] and line.get("total") is not None:
                    detail["TaxInclusiveAmt"] = currency.round(line["total"])
            qbo_lines.append({"DetailType": "SalesItemLineDetail", "Amount": subtotal,
                              "Description": (line["name"] or "")[:4000], "SalesItemLineDetail": detail})
        self._qbo_fit_untaxed(qbo_lines)
        payload = {"CustomerRef": {"value": customer_id}, "Line": qbo_lines}
        payload.update(self._qbo_tax_header(plan))
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
        return self._qbo_class_payload(company, payload)

    def _qbo_untaxed(self):
        """Odoo's untaxed total of the document, as QuickBooks must show it."""
        return self.amount_total - self.amount_tax

    def _qbo_fit_untaxed(self, qbo_lines):
        """Rounding globally, Odoo rounds the untaxed total once, not line by line: the cent(s)
        between its total and the sum of the rounded lines go on the largest line, whose unit
        price follows (or goes, when Qty x UnitPrice cannot give the amount)."""
        currency = self.currency_id
        items = [line for line in qbo_lines if line["DetailType"] == "SalesItemLineDetail"]
        if not items:
            return
        delta = currency.round(self._qbo_untaxed() - sum(line["Amount"] for line in items))
        if currency.is_zero(delta) or abs(delta) > 0.01 * len(items) + 1e-9:
            return
        line = max(items, key=lambda l: abs(l["Amount"]))
        line["Amount"] = currency.round(line["Amount"] + delta)
        detail = line["SalesItemLineDetail"]
        qty = detail.get("Qty")
        if qty:
            unit = round(line["Amount"] / qty, UNIT_PRICE_DIGITS)
            if currency.compare_amounts(qty * unit, line["Amount"]) == 0:
                detail["UnitPrice"] = unit
            else:
                detail.pop("Qty")
                detail.pop("UnitPrice", None)

    def _qbo_booked_rate(self):
        """Units of the document currency per unit of the company currency, as Odoo booked the
        document (invoice_currency_rate, currency_rate)."""
        raise NotImplementedError

    def _qbo_exchange_rate(self, company):
        """QuickBooks' ExchangeRate: units of the QuickBooks home currency per unit of the document
        currency. From the rate Odoo booked the document at, and when the QuickBooks home currency
        is not the Odoo company currency, through Odoo's rate of the home currency on the
        document date. 0.0 when Odoo has no such rate."""
        company = company.sudo()
        booked = self._qbo_booked_rate()
        if not booked:
            return 0.0
        rate = 1.0 / booked  # company currency per document currency unit
        home = company.qbo_home_currency
        if home and home != company.currency_id.name:
            home_currency = self.env["res.currency"].with_context(active_test=False).search([("name", "=", home)],
                                                                                              limit=1)
            if not home_currency or not home_currency.active or not home_currency.rate_ids.filtered(
                    lambda r: not r.company_id or r.company_id == company):
                return 0.0
            rate *= self.env["res.currency"]._get_conversion_rate(
                company.currency_id, home_currency, company, self._qbo_form_date())
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
            return _lt("QuickBooks computed a total of %(qt).2f (tax %(qx).2f) and Odoo %(ot).2f (tax %(ox).2f): "
                     "check the taxes and discounts of the QuickBooks copy.",
                     qt=qbo_total, qx=qbo_tax, ot=amount_total, ox=amount_tax)
        return None

    def _qbo_name_clash_allowed(self, payload):
        return False
