"""Customer payments and credit notes applied, pushed as QuickBooks Payments.

What lowers a customer's receivable in Odoo is a journal entry whose receivable credit is
reconciled with invoices: the entry of an `account.payment`, of a bank-statement line, or a
credit note. Each such entry (per company) has one `qbo.payment` row, pushed through the
queue like any record, after the invoices it pays (a higher level), as one QuickBooks Payment:
- a payment: ``TotalAmt`` the receivable it clears, one line per invoice with the reconciled
  amount (partial, grouped), what is reconciled with nothing left unapplied (overpayment);
- a credit note: a Payment of ``TotalAmt`` 0 whose invoice lines equal its credit memo line,
  which is how QuickBooks applies a credit memo.
Unreconciling updates the Payment; a payment cancelled, reset to draft or deleted, or a credit
note applied to nothing any more, deletes it. What QuickBooks cannot hold (a write-off, an
invoice of another currency or of another QuickBooks customer) is refused with the reason.
"""
from collections import defaultdict

from odoo import api, fields, models

from .qbo_reason import _lt, log_note
from .qbo_rights import USER_GROUP, check_company_action
from .qbo_sync_mixin import QboPayloadError, QUERY_KEYS

REF_NUM_MAX = 21
APPLY_LEVEL = 3   # invoices and credit notes are level 2


class QboPayment(models.Model):
    _name = "qbo.payment"
    _inherit = ["qbo.sync.mixin", "qbo.company.walled"]
    _description = "QuickBooks payment (customer payment or credit note applied)"
    _order = "id desc"

    _check_company_auto = True

    _qbo_kind = "payment"
    _qbo_entity = "Payment"
    _qbo_level = APPLY_LEVEL

    name = fields.Char(required=True)
    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    move_id = fields.Many2one("account.move", "Journal entry", index=True, ondelete="set null", check_company=True,
                              help="The payment's entry, the bank-statement line's entry or the credit note.")
    kind = fields.Selection([("payment", "Customer payment"), ("credit", "Credit note applied")], required=True)
    payment_id = fields.Many2one("account.payment", ondelete="set null", check_company=True)
    partner_id = fields.Many2one("res.partner", "Customer", check_company=True)

    _sql_constraints = [
        ("qbo_payment_move_unique", "unique(company_id, move_id)", "A journal entry has one QuickBooks payment."),
    ]

    # ------------------------------------------------------------------------------
    # the rows of journal entries
    # ------------------------------------------------------------------------------
    @api.model
    def _qbo_for_moves(self, moves):
        """The rows of these source entries (created when missing)."""
        existing = self.sudo().search([("move_id", "in", moves.ids)])
        by_move = {(row.company_id.id, row.move_id.id): row for row in existing}
        to_create = []
        for move in moves:
            if (move.company_id.id, move.id) not in by_move:
                to_create.append({
                    "name": move.name if move.name and move.name != "/" else move.display_name,
                    "company_id": move.company_id.id, "move_id": move.id,
                    "kind": "credit" if move.move_type == "out_refund" else "payment",
                    "payment_id": move.origin_payment_id.id,
                    "partner_id": move.partner_id.commercial_partner_id.id})
        return existing | self.sudo().create(to_create)

    @api.model
    def _qbo_enqueue_moves(self, moves, force=False):
        """Queue the QuickBooks payment of each source entry among `moves`, in companies that
        push payments (or with `force`: the manual push); an entry whose payment is already
        in QuickBooks is kept in step whatever the switch says."""
        sources = moves.filtered(lambda m: m._qbo_is_payment_source())
        if not sources:
            return self.browse()
        existing = self.sudo().search([("move_id", "in", sources.ids)])
        queued = self.browse()
        for company in sources.company_id:
            if not company.sudo().qbo_enabled:
                continue
            if force or company.sudo().qbo_sync_payments:
                rows = self._qbo_for_moves(sources.filtered(lambda m: m.company_id == company))
            else:
                rows = existing.filtered(lambda r: r.company_id == company)
                links = rows._qbo_links(company)
                rows = rows.filtered(lambda r: links.get(r.id) and links[r.id].qbo_id)
            rows.with_company(company)._qbo_enqueue(company)
            rows._qbo_enqueue_documents(company)
            queued |= rows
        return queued

    def _qbo_documents(self):
        """The invoices and credit notes these payments link in QuickBooks."""
        docs = self.env["account.move"]
        for row in self.filtered(lambda r: r.move_id.state == "posted"):
            docs |= self.env["account.move"].browse([inv.id for inv in row._qbo_applications()[0]])
            if row.kind == "credit":
                docs |= row.move_id
        return docs

    def _qbo_enqueue_documents(self, company):
        """Queue the documents the payments link that never went to QuickBooks, so that they
        go first (a lower level) rather than the payments waiting for them."""
        docs = self._qbo_documents().filtered(lambda d: d.state == "posted" and d.company_id == company)
        links = docs._qbo_links(company)
        docs.filtered(lambda d: not links.get(d.id) or links[d.id].state == "none").with_company(
            company)._qbo_enqueue(company, trigger=False)

    @api.model
    def _qbo_enqueue_rows(self, rows):
        """Rows whose entry is gone (deleted) but whose QuickBooks payment exists: delete it there."""
        for company in rows.company_id:
            company_rows = rows.filtered(lambda r: r.company_id == company)
            links = company_rows._qbo_links(company)
            company_rows.filtered(lambda r: links.get(r.id) and links[r.id].qbo_id).with_company(
                company)._qbo_enqueue(company)

    # ------------------------------------------------------------------------------
    # mixin
    # ------------------------------------------------------------------------------
    def _qbo_app_path(self, qbo_id):
        return f"recvpayment?txnId={qbo_id}"

    def _qbo_message_log(self, body):
        for row in self:
            target = row.payment_id or row.move_id
            if target:
                log_note(target, body)

    def action_open_source(self):
        self.ensure_one()
        check_company_action(self.env, self.company_id, self, group=USER_GROUP)
        target = self.payment_id or self.move_id
        if not target:
            return False
        return {"type": "ir.actions.act_window", "res_model": target._name, "res_id": target.id,
                "view_mode": "form", "target": "current"}

    # ------------------------------------------------------------------------------
    # what the entry says
    # ------------------------------------------------------------------------------
    def _qbo_receivable_lines(self):
        move = self.move_id
        return move.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable")

    def _qbo_applications(self):
        """{invoice: amount in the entry's currency} reconciled with the entry's receivable,
        and the problems QuickBooks could not hold."""
        self.ensure_one()
        applied = defaultdict(float)
        problems = []
        currency = self.move_id.currency_id
        for line in self._qbo_receivable_lines():
            if line.balance > 0 or (not line.balance and line.amount_currency > 0):
                problems.append(_lt("The entry debits the receivable account (%(a)s): only money received from "
                                           "a customer is pushed as a QuickBooks payment.", a=line.account_id.display_name))
                continue
            for partial in line.matched_debit_ids:
                counterpart = partial.debit_move_id
                invoice = counterpart.move_id
                amount = partial.credit_amount_currency
                if currency.is_zero(amount):
                    continue   # an exchange difference: QuickBooks books it itself
                if invoice.move_type != "out_invoice" or invoice.state != "posted":
                    if self.kind == "credit":
                        continue  # a credit note paid back: not an application to an invoice
                    problems.append(_lt("The payment is reconciled with %(m)s, which is not a customer invoice: "
                                               "QuickBooks links payments to invoices only.", m=invoice.display_name))
                    continue
                if invoice.currency_id != currency:
                    problems.append(_lt("%(m)s is in %(ic)s and the payment in %(pc)s: QuickBooks applies a payment "
                                               "only to invoices of its own currency.", m=invoice.name,
                                               ic=invoice.currency_id.name, pc=currency.name))
                    continue
                applied[invoice] += amount
        return {inv: currency.round(amount) for inv, amount in applied.items() if not currency.is_zero(amount)}, problems

    def _qbo_writeoff_lines(self):
        """Lines of a payment's entry QuickBooks cannot carry in a Payment (a write-off)."""
        move = self.move_id
        if self.kind != "payment":
            return move.line_ids.browse()
        if move.origin_payment_id:
            _liquidity, _counterpart, writeoff = move.origin_payment_id._seek_for_lines()
            return writeoff
        if move.statement_line_id:
            _liquidity, _suspense, other = move.statement_line_id._seek_for_lines()
            return other.filtered(lambda l: l.account_id.account_type != "asset_receivable")
        return move.line_ids.browse()

    def _qbo_active(self):
        """Whether the entry is still something to hold in QuickBooks."""
        move = self.move_id
        if not move or move.state != "posted" or not self._qbo_receivable_lines():
            return False
        if self.kind == "credit":
            return bool(self._qbo_applications()[0])
        payment = move.origin_payment_id
        return not payment or payment.state not in ("draft", "canceled", "rejected")

    # ------------------------------------------------------------------------------
    # engine hooks
    # ------------------------------------------------------------------------------
    def _qbo_preflight(self, company):
        self.ensure_one()
        if not self._qbo_active():
            return []
        problems = list(self._qbo_applications()[1])
        writeoff = self._qbo_writeoff_lines()
        if writeoff:
            currency = self.move_id.currency_id
            problems.append(_lt(
                "The payment carries a write-off of %(amount)s (%(accounts)s): a QuickBooks payment cannot book a "
                "difference. Record the difference as a credit note reconciled with the invoice, or register the "
                "payment without write-off and leave the invoice partly open.",
                amount=currency.format(abs(sum(writeoff.mapped("amount_currency")))),
                accounts=", ".join(writeoff.account_id.mapped("display_name"))))
        currency = self.move_id.currency_id.name
        home = company.sudo().qbo_home_currency
        if home and currency != home and not company.sudo().qbo_multicurrency:
            problems.append(_lt("The currency %(c)s is not enabled in QuickBooks (home currency %(h)s, "
                                       "multi-currency off).", c=currency, h=home))
        return problems

    def _qbo_customer(self, company, invoices):
        """The QuickBooks customer of the payment: that of the invoices it pays (a delivery
        address may be a sub-customer), else the entry's commercial partner."""
        customers = self.env["res.partner"]
        for invoice in invoices:
            customers |= invoice._qbo_customer(company)
        if len(customers) > 1:
            raise QboPayloadError(_lt(
                "The documents belong to several QuickBooks customers (%(names)s): QuickBooks applies a payment to "
                "the documents of one customer only.", names=", ".join(customers.mapped("display_name"))))
        return customers or self.move_id.partner_id.commercial_partner_id.with_company(company)

    def _qbo_match_queries(self, company):
        """A payment whose create answer was lost and re-sent with new requestids is found by
        its customer and the note that names the Odoo entry, rather than created twice."""
        customers = {}
        for row in self.filtered(lambda r: r._qbo_active()):
            invoices = row._qbo_applications()[0]
            try:
                customer = row._qbo_customer(company, list(invoices))
            except QboPayloadError:
                continue
            qbo_id = customer._qbo_links(company).get(customer.id)
            if qbo_id and qbo_id.qbo_id:
                customers[row.id] = qbo_id.qbo_id
        values = sorted(set(customers.values()))
        queries = [f"SELECT * FROM Payment WHERE CustomerRef IN ({', '.join(repr(v) for v in values[i:i + QUERY_KEYS])})"
                   f" MAXRESULTS 1000" for i in range(0, len(values), QUERY_KEYS)]
        notes = {row.id: row._qbo_note() for row in self}

        def pick(record, rows):
            for row in rows:
                if (row.get("CustomerRef") or {}).get("value") == customers.get(record.id) \
                        and row.get("PrivateNote") == notes[record.id]:
                    return row
            return None
        return queries, pick

    def _qbo_note(self):
        label = self.env._("credit note") if self.kind == "credit" else self.env._("payment")
        return f"Odoo {label} {self.name} [{self._name}:{self.id}]"

    def _qbo_prepare_payload(self, company, link, match):
        self.ensure_one()
        qbo_id = link and link.qbo_id
        if not self._qbo_active():
            if not qbo_id:
                return None, None
            token = link.qbo_sync_token or (match and match.get("SyncToken"))
            return {"Id": qbo_id, "SyncToken": token}, "delete"
        move = self.move_id
        currency = move.currency_id
        applications, _problems = self._qbo_applications()
        invoices = self.env["account.move"].browse([inv.id for inv in applications])
        sales = self.env["account.move"]
        customer = self._qbo_customer(company, invoices | (move if self.kind == "credit" else sales))
        customer_id = sales._qbo_wait_for(customer, company, _lt("the customer"))[customer.id]
        waiting = invoices | (move if self.kind == "credit" else sales)
        refs = sales._qbo_wait_for(waiting, company, _lt("the document(s)")) if waiting else {}
        lines = [{"Amount": amount, "LinkedTxn": [{"TxnId": refs[inv.id], "TxnType": "Invoice"}]}
                 for inv, amount in sorted(applications.items(), key=lambda item: item[0].id)]
        if self.kind == "credit":
            credit = currency.round(sum(applications.values()))
            lines.append({"Amount": credit, "LinkedTxn": [{"TxnId": refs[move.id], "TxnType": "CreditMemo"}]})
            total = 0.0
            date = max([p.max_date for p in self._qbo_receivable_lines().matched_debit_ids] + [move.date])
        else:
            total = currency.round(-sum(self._qbo_receivable_lines().mapped("amount_currency")))
            date = move.date
        payload = {"CustomerRef": {"value": customer_id}, "TotalAmt": total, "TxnDate": fields.Date.to_string(date),
                   "Line": lines, "PrivateNote": self._qbo_note()}
        if self.kind == "payment":
            payload.update(self._qbo_payment_header(company))
        home = company.sudo().qbo_home_currency
        if home and (company.sudo().qbo_multicurrency or currency.name != home):
            payload["CurrencyRef"] = {"value": currency.name}
            if currency.name != home:
                rate = self.env["res.currency"]._get_conversion_rate(currency, company.currency_id, company, date)
                payload["ExchangeRate"] = round(rate, 8)
        if qbo_id:
            token = link.qbo_sync_token or (match and match.get("SyncToken"))
            payload.update({"Id": qbo_id, "SyncToken": token})   # full update: the lines are replaced
            return payload, "update"
        if match:
            return None, None   # the lost create: linked to it, nothing sent
        return payload, "create"

    def _qbo_payment_header(self, company):
        """Reference, payment method and deposit account of a customer payment."""
        move = self.move_id
        payment = move.origin_payment_id
        values = {}
        reference = (payment.memo if payment else move.statement_line_id.payment_ref) or move.ref or move.name
        if reference:
            values["PaymentRefNum"] = reference[:REF_NUM_MAX]
        method_line = payment.payment_method_line_id if payment else self.env["account.payment.method.line"]
        deposit = method_line.qbo_deposit_account_id or move.journal_id.qbo_deposit_account_id
        if deposit:   # none: QuickBooks deposits to Undeposited Funds
            values["DepositToAccountRef"] = {"value": deposit.qbo_id}
        if method_line.qbo_payment_method_id:
            values["PaymentMethodRef"] = {"value": method_line.qbo_payment_method_id.qbo_id}
        return values

    def _qbo_check_result(self, company, entity):
        """A Payment changes the Balance, LinkedTxn and SyncToken of the documents it links:
        their stored SyncTokens are forgotten, so their next update reads the current one
        instead of meeting a 5010."""
        self.env["qbo.link"].sudo().search([
            ("company_id", "=", company.id), ("res_model", "=", "account.move"),
            ("qbo_id", "in", [link["TxnId"] for line in entity.get("Line") or [] for link in line.get("LinkedTxn") or []]),
        ]).write({"qbo_sync_token": False})
        if entity.get("status") == "Deleted" or not self._qbo_active():
            return None
        move = self.move_id
        currency = move.currency_id
        expected = 0.0 if self.kind == "credit" else -sum(self._qbo_receivable_lines().mapped("amount_currency"))
        if currency.compare_amounts(float(entity.get("TotalAmt") or 0.0), expected):
            return _lt("QuickBooks holds a payment of %(q).2f and Odoo %(o).2f.",
                              q=float(entity.get("TotalAmt") or 0.0), o=expected)
        return None


class AccountMove(models.Model):
    _inherit = "account.move"

    def _qbo_is_payment_source(self):
        """A posted (or once posted) entry that lowers a customer's receivable: a customer
        payment's or statement line's entry, or a credit note."""
        self.ensure_one()
        if self.move_type == "out_refund":
            return True
        return self.move_type == "entry" and bool(
            (self.origin_payment_id and self.origin_payment_id.partner_type == "customer"
             and self.origin_payment_id.payment_type == "inbound")
            or (self.statement_line_id and self.line_ids.filtered(
                lambda l: l.account_id.account_type == "asset_receivable")))

    def _post(self, soft=True):
        posted = super()._post(soft)
        self.env["qbo.payment"]._qbo_enqueue_moves(posted.filtered(lambda m: m.move_type == "entry"))
        return posted

    def button_draft(self):
        res = super().button_draft()
        # an unreconciled payment has no partial whose removal would queue it
        self.env["qbo.payment"]._qbo_enqueue_moves(self.filtered(lambda m: m.move_type == "entry"))
        return res

    def button_cancel(self):
        res = super().button_cancel()
        self.env["qbo.payment"]._qbo_enqueue_moves(self.filtered(lambda m: m.move_type == "entry"))
        return res

    def unlink(self):
        rows = self.env["qbo.payment"].sudo().search([("move_id", "in", self.ids)])
        res = super().unlink()
        self.env["qbo.payment"]._qbo_enqueue_rows(rows.exists())
        return res


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        self.env["qbo.payment"]._qbo_enqueue_moves(partials.debit_move_id.move_id | partials.credit_move_id.move_id)
        return partials

    def unlink(self):
        moves = self.debit_move_id.move_id | self.credit_move_id.move_id
        res = super().unlink()
        self.env["qbo.payment"]._qbo_enqueue_moves(moves.exists())
        return res


class AccountPayment(models.Model):
    _inherit = "account.payment"

    qbo_payment_ids = fields.One2many("qbo.payment", "payment_id")
    qbo_state = fields.Selection(related="qbo_payment_ids.qbo_state", string="QuickBooks")
    qbo_error = fields.Text(related="qbo_payment_ids.qbo_error", string="QuickBooks error")
    qbo_url = fields.Char(related="qbo_payment_ids.qbo_url", string="Open in QuickBooks")
    qbo_applicable = fields.Boolean(compute="_compute_qbo_applicable")

    @api.depends("partner_type", "payment_type", "company_id")
    def _compute_qbo_applicable(self):
        for payment in self:
            payment.qbo_applicable = (payment.partner_type == "customer" and payment.payment_type == "inbound"
                                      and payment.company_id.sudo().qbo_enabled)

    def action_qbo_push(self):
        """Queue these customer payments for QuickBooks, whatever the payment switch says."""
        check_company_action(self.env, self.company_id, self, group=USER_GROUP,
                             message=self.env._("Only QuickBooks users can push records to QuickBooks."))
        payments = self.filtered(lambda p: p.qbo_applicable and p.move_id and p.move_id.state == "posted")
        self.env["qbo.payment"]._qbo_enqueue_moves(payments.move_id, force=True)
        message = self.env._("%(count)s payment(s) queued for QuickBooks.", count=len(payments))
        if len(payments) < len(self):
            message += " " + self.env._("%(count)s skipped (not a posted customer payment of a connected company).",
                                        count=len(self) - len(payments))
        return self.env.company._qbo_notify(self.env._("QuickBooks"), message)

    def action_qbo_open(self):
        self.ensure_one()
        check_company_action(self.env, self.company_id, self, group=USER_GROUP)
        return self.qbo_payment_ids[:1].with_company(self.company_id).action_qbo_open()


class AccountJournal(models.Model):
    _inherit = "account.journal"

    qbo_deposit_account_id = fields.Many2one(
        "qbo.reference", "QuickBooks deposit account", check_company=True,
        domain="[('kind', '=', 'account'), ('company_id', '=', company_id)]",
        help="Where QuickBooks deposits the customer payments of this journal. Empty: Undeposited Funds.")


class AccountPaymentMethodLine(models.Model):
    _inherit = "account.payment.method.line"

    qbo_deposit_account_id = fields.Many2one(
        "qbo.reference", "QuickBooks deposit account",
        domain="[('kind', '=', 'account'), ('company_id', '=', company_id)]",
        help="Overrides the journal's QuickBooks deposit account for this payment method.")
    qbo_payment_method_id = fields.Many2one(
        "qbo.reference", "QuickBooks payment method",
        domain="[('kind', '=', 'paymentmethod'), ('company_id', '=', company_id)]")


class QboReference(models.Model):
    _inherit = "qbo.reference"

    kind = fields.Selection(selection_add=[("paymentmethod", "Payment method")],
                            ondelete={"paymentmethod": "cascade"})

    @api.model
    def _qbo_import(self, company):
        res = super()._qbo_import(company)
        methods = company._qbo_client().query_all("PaymentMethod")
        existing = self.with_context(active_test=False).search([("company_id", "=", company.id),
                                                                ("kind", "=", "paymentmethod")])
        by_id = {ref.qbo_id: ref for ref in existing}
        seen = self.browse()
        for method in methods:
            vals = {"name": method.get("Name"), "active": method.get("Active", True)}
            ref = by_id.get(method["Id"])
            if ref:
                ref.write({k: v for k, v in vals.items() if ref[k] != v})
                seen |= ref
            else:
                self.create(dict(vals, kind="paymentmethod", qbo_id=method["Id"], company_id=company.id))
        (existing - seen).filtered("active").write({"active": False})
        return res


class QboJob(models.Model):
    _inherit = "qbo.job"

    kind = fields.Selection(selection_add=[("payment", "Customer payment")], ondelete={"payment": "cascade"})


class ResCompany(models.Model):
    _inherit = "res.company"

    qbo_sync_payments = fields.Boolean(
        "Push customer payments", help="Customer payments, bank-statement reconciliations of customer invoices and "
                                       "credit notes applied to invoices are pushed to QuickBooks as Payments.")


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    qbo_sync_payments = fields.Boolean(related="company_id.qbo_sync_payments", readonly=False)
