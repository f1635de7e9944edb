from collections import defaultdict

from odoo import api, fields, models

from .qbo_reason import _lt, as_text


QBO_MOVE_TYPES = ("out_invoice", "out_refund")
KIND_BY_TYPE = {"out_invoice": "invoice", "out_refund": "creditmemo"}
ENTITY_BY_TYPE = {"out_invoice": "Invoice", "out_refund": "CreditMemo"}
# QuickBooks voids no document a Payment still applies: a void waits until the payments
# (level 3, models/account_payment.py) that unreconciling it updated or deleted are sent
VOID_LEVEL = 4
PREFLIGHT_SHOWN = 20       # documents whose problems a push names at once (the queue checks every one)


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "qbo.sync.mixin", "qbo.sales.form"]

    _qbo_level = 2
    _qbo_button_invisible = "qbo_state == 'none' or not id or not qbo_applicable"

    # Invoices and credit notes are two QBO entities: the engine reads these from the records
    # of one group (the engine groups claimed jobs by model and kind).
    @property
    def _qbo_kind(self):
        return KIND_BY_TYPE.get(self[:1].move_type, "invoice")

    @property
    def _qbo_entity(self):
        return ENTITY_BY_TYPE.get(self[:1].move_type, "Invoice")

    qbo_doc_number = fields.Char("QuickBooks number", compute="_compute_qbo_doc_number")
    qbo_applicable = fields.Boolean(compute="_compute_qbo_doc_number")

    @api.depends_context("company")
    @api.depends("move_type", "company_id")
    def _compute_qbo_doc_number(self):
        links = {}
        for company in self.company_id:
            links.update(self.filtered(lambda m: m.company_id == company)._qbo_links(company) if self.ids else {})
        for move in self:
            link = links.get(move.id)
            move.qbo_doc_number = link.qbo_doc_number if link else False
            move.qbo_applicable = move.move_type in QBO_MOVE_TYPES and move.company_id.qbo_enabled

    # ------------------------------------------------------------------------------
    # triggers
    # ------------------------------------------------------------------------------
    def _qbo_moves_by_company(self):
        groups = defaultdict(lambda: self.browse())
        for move in self.filtered(lambda m: m.move_type in QBO_MOVE_TYPES and m.company_id.sudo().qbo_enabled):
            groups[move.company_id] |= move
        return groups.items()

    def _post(self, soft=True):
        posted = super()._post(soft)
        for company, moves in posted._qbo_moves_by_company():
            if not company.sudo().qbo_auto_push_invoices:
                links = moves._qbo_links(company)
                moves = moves.filtered(lambda m: links.get(m.id) and links[m.id].qbo_id)
            moves.with_company(company)._qbo_enqueue(company)
        return posted

    # fields of a posted invoice Odoo lets change and QBO can follow: the QBO copy is updated
    POSTED_TRACKED_FIELDS = frozenset({"invoice_date_due", "ref", "narration", "payment_reference",
                                       "invoice_payment_term_id", "partner_shipping_id", "invoice_user_id"})

    def write(self, vals):
        res = super().write(vals)
        if self.POSTED_TRACKED_FIELDS & vals.keys() and not self.env.context.get("qbo_no_enqueue"):
            for company, moves in self.filtered(lambda m: m.state == "posted")._qbo_moves_by_company():
                links = moves._qbo_links(company)
                linked = moves.filtered(lambda m: links.get(m.id) and links[m.id].qbo_id)
                linked.with_company(company)._qbo_enqueue(company)
        return res

    def button_draft(self):
        res = super().button_draft()
        # a draft is not pushed: what waited in the queue waits for the next posting
        self._qbo_cancel_pending_jobs()
        return res

    def button_cancel(self):
        res = super().button_cancel()
        for company, moves in self._qbo_moves_by_company():
            links = moves._qbo_links(company)
            pushed = moves.filtered(lambda m: links.get(m.id) and links[m.id].qbo_id)
            pushed.with_company(company)._qbo_enqueue(company, "void")
            for move in moves - pushed:
                if links.get(move.id):
                    links[move.id].unlink()
        return res

    def unlink(self):
        """An invoice or credit note deleted in Odoo after it reached QuickBooks (reset to
        draft, then deleted) is voided there, its number given a suffix first: QuickBooks keeps
        no open document Odoo no longer has, and Odoo may give the number again."""
        retirements = self.filtered(lambda m: m.move_type in QBO_MOVE_TYPES)._qbo_retirement_vals("void")
        for vals in retirements:
            vals["level"] = VOID_LEVEL
        res = super().unlink()
        self._qbo_queue_retirements(retirements)
        return res
    def _qbo_enqueue(self, company=None, operation="push", trigger=True):
        company = company or self.env.company
        for move_type, kind in KIND_BY_TYPE.items():
            moves = self.filtered(lambda m: m.move_type == move_type)
            if moves:
                self.env["qbo.job"]._qbo_create_jobs(company, self._name, moves.ids, kind, operation,
                                                     VOID_LEVEL if operation == "void" else self._qbo_level)
        if trigger:
            self.env.ref("qbo_financial_hub.ir_cron_qbo_sync")._trigger()
        return self.env["qbo.job"]

    def _qbo_filter_pushable(self, company):
        return self.filtered(lambda m: m.move_type in QBO_MOVE_TYPES and m.state == "posted"
                             and m.company_id == company)

    def action_qbo_push(self):
        self._qbo_check_push_rights(self.company_id)
        messages, queued = [], 0
        for company, moves in self._qbo_moves_by_company():
            # the connection's problems, then what stops these documents (not every unmapped
            # tax of the company: an untaxed invoice is not warned about a 15 % tax it does not use)
            lang = self.env.lang
            problems = [as_text(problem, lang) for problem in company._qbo_mapping_problems(scope=())]
            moves = moves._qbo_filter_pushable(company)
            moves.with_company(company)._qbo_enqueue(company)
            queued += len(moves)
            for move in moves[:PREFLIGHT_SHOWN]:
                problems += [self.env._("%(document)s: %(problem)s", document=move.display_name,
                                        problem=as_text(problem, lang))
                             for problem in move.with_company(company)._qbo_preflight(company)]
            messages += problems
        message = self.env._("%(count)s document(s) queued for QuickBooks.", count=queued)
        if queued < len(self):
            message += " " + self.env._("%(count)s skipped (not a posted customer invoice or credit note of a connected "
                               "company).", count=len(self) - queued)
        if messages:
            message += "\n" + "\n".join(dict.fromkeys(messages))
        return self.env.company._qbo_notify(self.env._("QuickBooks"), message, "warning" if messages else "info")

    def action_qbo_unlink(self):
        """Forget the QuickBooks twin of these invoices; QuickBooks itself is left untouched."""
        self._qbo_check_push_rights(self.company_id)
        for company, moves in self._qbo_moves_by_company():
            moves._qbo_forget_links(company)
        return True

    def _qbo_app_path(self, qbo_id):
        return f"{self._qbo_entity.lower()}?txnId={qbo_id}"

    # ------------------------------------------------------------------------------
    # sales form hooks
    # ------------------------------------------------------------------------------
    def _qbo_sign(self):
        """+1 when a credit of this document's lines is a positive QuickBooks amount."""
        return -1 if self.move_type == "out_invoice" else 1

    def _qbo_form_lines(self):
        """The invoice lines, then the lines Odoo adds beside them that change the total or the tax:
        cash rounding and early-payment discount (a negative taxed line and its untaxed twin)."""
        self.ensure_one()
        lines = [self._qbo_line(line, line.quantity, line.tax_ids, account=line.account_id)
                 for line in self.invoice_line_ids.sorted(lambda l: (l.sequence, l.id))]
        sign = self._qbo_sign()
        extra = self.line_ids.filtered(lambda l: l.display_type in ("rounding", "epd") and not l.tax_line_id)
        for line in extra.sorted("id"):
            lines.append(self._qbo_line(line, 1.0, line.tax_ids, account=line.account_id,
                                        subtotal=sign * line.amount_currency, total=False))
        return lines

    def _qbo_tax_amounts(self):
        """The tax Odoo booked, per tax: the invoice's tax lines, and the cash rounding Odoo adds
        to the biggest tax (a rounding line carrying that tax)."""
        self.ensure_one()
        amounts = defaultdict(float)
        for line in self.line_ids.filtered(lambda l: l.display_type == "tax" or (
                l.display_type == "rounding" and l.tax_line_id)):
            amounts[line.tax_line_id] += self._qbo_sign() * line.amount_currency
        return dict(amounts)

    def _qbo_booked_rate(self):
        return self.invoice_currency_rate

    def _qbo_form_shipping_partner(self):
        return self.partner_shipping_id

    def _qbo_form_date(self):
        return self.invoice_date or self.date or fields.Date.context_today(self)

    def _qbo_template_values(self):
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        date = self.invoice_date or self.date
        return {"number": self.name if self.name and self.name != "/" else "", "origin": self.invoice_origin or "",
                "customer_ref": partner.ref or "", "customer": partner.name or "",
                "date": fields.Date.to_string(date) if date else "", "salesperson": self.invoice_user_id.name or "",
                "year": str(date.year) if date else ""}

    def _qbo_form_number(self, company):
        if company.qbo_invoice_number == "template":
            return company._qbo_render("qbo_invoice_template", self._qbo_template_values())
        return self.name if self.name and self.name != "/" else ""

    # ------------------------------------------------------------------------------
    # engine hooks
    # ------------------------------------------------------------------------------
    def _qbo_preflight(self, company):
        self.ensure_one()
        if self.move_type not in QBO_MOVE_TYPES:
            return [_lt("Only customer invoices and credit notes are pushed to QuickBooks.")]
        if self.state != "posted":
            return []
        problems = self._qbo_form_problems(company)
        term = self.invoice_payment_term_id
        if term and not term.with_company(company).qbo_term_ref_id:
            problems.append(_lt("The payment term %(term)s has no QuickBooks term in the mapping.", term=term.name))
        return problems

    def _qbo_match_queries(self, company):
        # qbo.sync.mixin comes first in the MRO: pick the documents' lookup explicitly
        return self._qbo_number_match_queries(company)

    def _qbo_prepare_payload(self, company, link, match):
        self.ensure_one()
        qbo_id = link and link.qbo_id
        if self.state == "cancel":
            if not qbo_id:
                return None, None
            token = link.qbo_sync_token or (match and match.get("SyncToken"))
            return {"Id": qbo_id, "SyncToken": token}, "void"
        if self.state != "posted":
            return None, None
        payload = self._qbo_form_payload(company)
        date = self.invoice_date or self.date
        payload["TxnDate"] = fields.Date.to_string(date)
        if self.move_type == "out_invoice" and self.invoice_date_due:
            payload["DueDate"] = fields.Date.to_string(self.invoice_date_due)
        term = self.invoice_payment_term_id.with_company(company).qbo_term_ref_id
        if term and self.move_type == "out_invoice":
            payload["SalesTermRef"] = {"value": term.qbo_id}
        if self.move_type == "out_invoice":
            estimates = self._qbo_estimates(company)
            if estimates:
                payload["LinkedTxn"] = [{"TxnId": qbo, "TxnType": "Estimate"} for qbo in estimates]
        if qbo_id:
            return self._qbo_with_token(payload, link, match)
        if match:
            self._qbo_adopt(company, payload, match, self.amount_total)
            return None, None  # already in QBO: linked to it, nothing sent
        return payload, "create"

    def _qbo_estimates(self, company):
        """QBO ids of the estimates of the quotations this invoice comes from (defers while queued)."""
        orders = self.invoice_line_ids.sale_line_ids.order_id
        if not orders:
            return []
        links = orders._qbo_links(company)
        orders = orders.filtered(lambda o: links.get(o.id) and links[o.id].state != "none")
        if not orders:
            return []
        return list(self._qbo_wait_for(orders, company, _lt("the quotation(s)")).values())

    def _qbo_check_result(self, company, entity):
        if self.state != "posted":
            return None
        return self._qbo_totals_problem(entity, self.amount_total, self.amount_tax)
