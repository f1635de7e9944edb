from collections import defaultdict

from odoo import api, fields, models

from .qbo_reason import _lt, log_note

# Changes of a quotation that its QuickBooks estimate follows.
TRACKED_FIELDS = frozenset({"order_line", "partner_id", "partner_shipping_id", "date_order", "validity_date",
                            "currency_id", "pricelist_id", "client_order_ref", "note"})
LINE_TRACKED_FIELDS = frozenset({"product_id", "product_uom_qty", "price_unit", "discount", "tax_id", "name",
                                 "display_type", "sequence"})


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "qbo.sync.mixin", "qbo.sales.form"]

    _qbo_kind = "estimate"
    _qbo_entity = "Estimate"
    _qbo_level = 2

    _qbo_button_invisible = "qbo_state == 'none' or not id or not qbo_applicable"

    qbo_doc_number = fields.Char("QuickBooks number", compute="_compute_qbo_doc_number")
    qbo_applicable = fields.Boolean(related="company_id.qbo_enabled", string="QuickBooks applicable")

    @api.depends_context("company")
    def _compute_qbo_doc_number(self):
        links = self._qbo_links(self.env.company) if self.ids else {}
        for order in self:
            link = links.get(order.id)
            order.qbo_doc_number = link.qbo_doc_number if link else False

    # ------------------------------------------------------------------------------
    # triggers
    # ------------------------------------------------------------------------------
    def _qbo_orders_by_company(self):
        groups = defaultdict(lambda: self.browse())
        for order in self.filtered(lambda o: o.company_id.sudo().qbo_enabled):
            groups[order.company_id] |= order
        return groups.items()

    def _qbo_auto_push(self):
        for company, orders in self._qbo_orders_by_company():
            if company.sudo().qbo_auto_push_quotations:
                orders.with_company(company)._qbo_enqueue(company)

    def action_quotation_sent(self):
        res = super().action_quotation_sent()
        self._qbo_auto_push()
        return res

    def action_confirm(self):
        res = super().action_confirm()
        self._qbo_auto_push()
        return res

    def write(self, vals):
        res = super().write(vals)
        if TRACKED_FIELDS & vals.keys():
            self._qbo_follow_changes()
        return res

    def _qbo_follow_changes(self):
        """Queue an update of the estimates of these orders, when they have one."""
        if self.env.context.get("qbo_no_enqueue"):
            return
        for company, orders in self._qbo_orders_by_company():
            links = orders._qbo_links(company)
            linked = orders.filtered(lambda o: links.get(o.id) and links[o.id].qbo_id and o.state != "cancel")
            linked.with_company(company)._qbo_enqueue(company)

    def _action_cancel(self):
        pushed = {}
        for company, orders in self._qbo_orders_by_company():
            links = orders._qbo_links(company)
            pushed[company] = orders.filtered(lambda o: links.get(o.id) and links[o.id].qbo_id)
        res = super()._action_cancel()
        # a quotation cancelled before it reached QuickBooks is not sent: it ends Not linked;
        # one that has an estimate closes or deletes it, as the settings say
        self.filtered(lambda o: o.state == "cancel")._qbo_cancel_pending_jobs()
        for company, orders in pushed.items():
            orders = orders.filtered(lambda o: o.state == "cancel")
            if orders and company.sudo().qbo_estimate_cancel != "keep":
                orders.with_company(company)._qbo_enqueue(company)
        return res

    def action_qbo_unlink(self):
        """Forget the QuickBooks estimate of these quotations; QuickBooks itself is left untouched."""
        self._qbo_check_push_rights(self.company_id)
        for company, orders in self._qbo_orders_by_company():
            orders._qbo_forget_links(company)
        return True

    def _qbo_after_push(self, company, entities):
        """An estimate deleted because its quotation was cancelled: the quotation is no longer linked."""
        deleted = self.filtered(lambda o: (entities.get(o.id) or {}).get("status") == "Deleted")
        links = deleted._qbo_links(company)
        for order in deleted:
            if links.get(order.id):
                log_note(order, _lt("The quotation was cancelled: QuickBooks estimate %(doc)s (id %(id)s) "
                                                   "was deleted.", doc=links[order.id].qbo_doc_number or "-",
                                                   id=links[order.id].qbo_id))
                links[order.id].unlink()
        closed = self.filtered(lambda o: o.state == "cancel" and (entities.get(o.id) or {}).get("TxnStatus") == "Closed")
        for order in closed:
            log_note(order, _lt("The quotation was cancelled: its QuickBooks estimate was closed."))
        return super()._qbo_after_push(company, entities)

    def _qbo_filter_pushable(self, company):
        return self.filtered(lambda o: o.state != "cancel" and o.company_id == company)

    def _qbo_app_path(self, qbo_id):
        return f"estimate?txnId={qbo_id}"

    # ------------------------------------------------------------------------------
    # sales form hooks
    # ------------------------------------------------------------------------------
    def _qbo_order_lines(self):
        return self.order_line.filtered(lambda l: not l.is_downpayment).sorted(lambda l: (l.sequence, l.id))

    def _qbo_form_lines(self):
        """The order lines, then the early-payment discount lines Odoo computes the tax with."""
        self.ensure_one()
        lines = [self._qbo_line(line, line.product_uom_qty, line.tax_id,
                                account=line.product_id.product_tmpl_id._get_product_accounts()["income"]
                                if line.product_id else None)
                 for line in self._qbo_order_lines()]
        for base_line in self._add_base_lines_for_early_payment_discount():
            lines.append({"display_type": False, "name": self.env._("Early payment discount"),
                          "product": self.env["product.product"], "qty": 1.0, "subtotal": base_line["price_unit"],
                          "total": False, "taxes": base_line["tax_ids"], "account": None})
        return lines

    def _qbo_base_lines(self):
        """Odoo's tax computation of the pushed lines, as the order computes its amounts."""
        AccountTax = self.env["account.tax"]
        base_lines = [line._prepare_base_line_for_taxes_computation()
                      for line in self._qbo_order_lines().filtered(lambda l: not l.display_type)]
        base_lines += self._add_base_lines_for_early_payment_discount()
        AccountTax._add_tax_details_in_base_lines(base_lines, self.company_id)
        AccountTax._round_base_lines_tax_details(base_lines, self.company_id)
        return base_lines

    def _qbo_tax_amounts(self):
        self.ensure_one()
        AccountTax = self.env["account.tax"]
        aggregated = AccountTax._aggregate_base_lines_aggregated_values(
            AccountTax._aggregate_base_lines_tax_details(self._qbo_base_lines(), lambda base_line, tax_data: tax_data["tax"]))
        return {key: values["tax_amount_currency"] for key, values in aggregated.items() if key}

    def _qbo_booked_rate(self):
        return self.currency_rate

    def _qbo_untaxed(self):
        totals = self.env["account.tax"]._get_tax_totals_summary(self._qbo_base_lines(), self.currency_id,
                                                                  self.company_id)
        return totals["base_amount_currency"]

    def _qbo_local_date(self, value):
        """The calendar date of a UTC datetime where the quotation was made: the salesperson's
        time zone, else the company's, else the current user's."""
        tz = self.user_id.tz or self.company_id.partner_id.tz or self.env.user.tz or "UTC"
        return fields.Datetime.context_timestamp(self.with_context(tz=tz), value).date()

    def _qbo_form_shipping_partner(self):
        return self.partner_shipping_id

    def _qbo_form_date(self):
        return self._qbo_local_date(self.date_order) if self.date_order else fields.Date.context_today(self)

    def _qbo_template_values(self):
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        date = self._qbo_form_date()
        return {"number": self.name or "", "origin": self.origin or "", "customer_ref": partner.ref or "",
                "customer": partner.name or "", "date": fields.Date.to_string(date),
                "salesperson": self.user_id.name or "", "year": str(date.year)}

    def _qbo_form_number(self, company):
        if company.qbo_estimate_template:
            return company._qbo_render("qbo_estimate_template", self._qbo_template_values())
        return self.name or ""

    # ------------------------------------------------------------------------------
    # engine hooks
    # ------------------------------------------------------------------------------
    def _qbo_preflight(self, company):
        self.ensure_one()
        if self.state == "cancel":
            return []
        return self._qbo_form_problems(company)

    def _qbo_match_queries(self, company):
        # qbo.sync.mixin comes first in the MRO: pick the documents' lookup explicitly
        return self._qbo_number_match_queries(company)

    def _qbo_prepare_payload(self, company, link, match):
        self.ensure_one()
        if self.state == "cancel":
            # a cancelled quotation closes or deletes the estimate it has, as the settings say
            action = company.sudo().qbo_estimate_cancel
            if not (link and link.qbo_id) or action == "keep":
                return None, None
            token = link.qbo_sync_token or (match and match.get("SyncToken"))
            if action == "delete":
                return {"Id": link.qbo_id, "SyncToken": token}, "delete"
            return {"Id": link.qbo_id, "SyncToken": token, "sparse": True, "TxnStatus": "Closed"}, "update"
        payload = self._qbo_form_payload(company)
        if self.state in ("draft", "sent") and link and link.qbo_id:
            payload["TxnStatus"] = "Pending"  # a quotation open again in Odoo reopens its estimate
        payload["TxnDate"] = fields.Date.to_string(self._qbo_form_date())
        if self.validity_date:
            payload["ExpirationDate"] = fields.Date.to_string(self.validity_date)
        if link and link.qbo_id:
            return self._qbo_with_token(payload, link, match)
        if match:
            self._qbo_adopt(company, payload, match, self.amount_total)
            return None, None  # already in QBO: linked to it, nothing sent
        return payload, "create"

    def _qbo_check_result(self, company, entity):
        if self.state == "cancel":
            return None
        totals = self.env["account.tax"]._get_tax_totals_summary(self._qbo_base_lines(), self.currency_id,
                                                                  self.company_id)
        return self._qbo_totals_problem(entity, totals["total_amount_currency"], totals["tax_amount_currency"])


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.order_id._qbo_follow_changes()
        return lines

    def write(self, vals):
        res = super().write(vals)
        if LINE_TRACKED_FIELDS & vals.keys():
            self.order_id._qbo_follow_changes()
        return res

    def unlink(self):
        orders = self.order_id
        res = super().unlink()
        orders.exists()._qbo_follow_changes()
        return res
