from datetime import datetime

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.qbo_reason import _lt, log_note
from ..models.qbo_rights import USER_GROUP, check_company_action
from ..qbo import NotFoundError, QBOError, quote

MAX_ROWS = 200


class AccountMoveQboLink(models.TransientModel):
    """Link an Odoo invoice, credit note or quotation to a QuickBooks document (invoice, credit
    memo, estimate) that already exists, without pushing."""

    _name = "account.move.qbo.link"
    _description = "Link a document to QuickBooks"

    move_id = fields.Many2one("account.move", ondelete="cascade")
    order_id = fields.Many2one("sale.order", ondelete="cascade")
    company_id = fields.Many2one("res.company", compute="_compute_entity")
    entity = fields.Char(compute="_compute_entity")
    same_customer = fields.Boolean("Same customer only", default=True)
    search_number = fields.Char("Number")
    search_amount = fields.Float("Amount")
    search_date = fields.Date("Date")
    line_ids = fields.One2many("account.move.qbo.link.line", "wizard_id", string="QuickBooks documents")
    message = fields.Char(readonly=True)

    _sql_constraints = [("qbo_link_one_document", "CHECK((move_id IS NULL) != (order_id IS NULL))",
                         "Link one invoice or one quotation.")]

    @api.depends("move_id.move_type", "order_id")
    def _compute_entity(self):
        for wizard in self:
            record = wizard._record()
            wizard.entity = record._qbo_entity
            wizard.company_id = record.company_id

    def _record(self):
        return self.move_id or self.order_id

    def _record_date(self):
        record = self._record()
        if record._name == "sale.order":
            return record.date_order.date() if record.date_order else None
        return record.invoice_date or record.date

    def _reopen(self):
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
                "view_mode": "form", "target": "new", "name": self.env._("Link a QuickBooks document")}

    def _customer_qbo_id(self):
        company = self.company_id
        customer = self._record()._qbo_customer(company)
        link = customer._qbo_links(company).get(customer.id)
        return link.qbo_id if link else None

    def _qbo_check_rights(self):
        check_company_action(self.env, self.company_id, self._record(), group=USER_GROUP,
                             message=self.env._("Only QuickBooks users can push records to QuickBooks."))
        self.check_access("read")

    def action_search(self):
        """Ask QuickBooks (live) for candidate documents and list the nearest first. Only this
        search writes the lines (users cannot create or change them): a line is a document the
        company's own QuickBooks answered."""
        self.ensure_one()
        self._qbo_check_rights()
        move, company = self._record(), self.company_id
        conditions = []
        customer_id = self._customer_qbo_id()
        if self.same_customer and customer_id:
            conditions.append(f"CustomerRef = {quote(customer_id)}")
        if self.search_number:
            conditions.append(f"DocNumber LIKE {quote('%' + self.search_number.strip() + '%')}")
        if self.search_date:
            conditions.append(f"TxnDate = {quote(fields.Date.to_string(self.search_date))}")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        try:
            client = company.sudo()._qbo_client()
            rows = client.query_rows(f"SELECT * FROM {self.entity}{where} MAXRESULTS {MAX_ROWS}")
        except QBOError as exc:
            raise UserError(exc.user_message()) from None
        linked = set(self.env["qbo.link"].sudo().search([
            ("company_id", "=", company.id), ("res_model", "=", move._name),
            ("qbo_id", "in", [r["Id"] for r in rows])]).mapped("qbo_id"))
        date = self._record_date()
        candidates = []
        for row in rows:
            if row["Id"] in linked:
                continue
            try:
                row_date = datetime.strptime(row.get("TxnDate") or "", "%Y-%m-%d").date()
            except ValueError:
                row_date = None
            total = float(row.get("TotalAmt") or 0.0)
            if self.search_amount and abs(total - self.search_amount) >= 0.005:
                continue
            distance = (abs((row_date - date).days) if row_date and date else 9999, abs(total - move.amount_total))
            candidates.append((distance, row, row_date, total))
        candidates.sort(key=lambda c: c[0])
        self.line_ids.sudo().unlink()
        self.env["account.move.qbo.link.line"].sudo().create([{
            "wizard_id": self.id, "sequence": index, "qbo_id": row["Id"], "qbo_sync_token": row.get("SyncToken"),
            "doc_number": row.get("DocNumber"), "txn_date": row_date, "amount": total,
            "currency": (row.get("CurrencyRef") or {}).get("value"),
            "customer_qbo_id": (row.get("CustomerRef") or {}).get("value"),
            "customer_name": (row.get("CustomerRef") or {}).get("name")}
            for index, (_d, row, row_date, total) in enumerate(candidates)])
        self.write({"message": self.env._("%(count)s QuickBooks document(s) found, not linked yet.",
                                          count=len(candidates))})
        return self._reopen()


class AccountMoveQboLinkLine(models.TransientModel):
    _name = "account.move.qbo.link.line"
    _description = "QuickBooks document that can be linked"
    _order = "sequence, id"

    wizard_id = fields.Many2one("account.move.qbo.link", required=True, ondelete="cascade")
    sequence = fields.Integer()
    qbo_id = fields.Char("QuickBooks Id", required=True)
    qbo_sync_token = fields.Char()
    doc_number = fields.Char("Number")
    txn_date = fields.Date("Date")
    amount = fields.Float("Total")
    currency = fields.Char()
    customer_qbo_id = fields.Char()
    customer_name = fields.Char("Customer")
    warning = fields.Char(compute="_compute_warning")

    @api.depends("customer_qbo_id", "amount")
    def _compute_warning(self):
        for line in self:
            move = line.wizard_id._record()
            warnings = []
            customer_id = line.wizard_id._customer_qbo_id()
            if line.customer_qbo_id != customer_id:
                warnings.append(self.env._("another customer (%(c)s)", c=line.customer_name or line.customer_qbo_id))
            if move.currency_id.compare_amounts(line.amount, move.amount_total):
                warnings.append(self.env._("another total (%(q).2f instead of %(o).2f)", q=line.amount, o=move.amount_total))
            line.warning = ", ".join(warnings) or False

    def _qbo_confirm(self):
        """The document as the company's QuickBooks holds it now, read by its id: the link is
        made to what QuickBooks confirms, never to an id alone."""
        wizard = self.wizard_id
        try:
            row = wizard.company_id.sudo()._qbo_client().read(wizard.entity, self.qbo_id)
        except NotFoundError:
            raise UserError(self.env._("QuickBooks has no %(entity)s with id %(id)s any more: search again.",
                                       entity=wizard.entity, id=self.qbo_id)) from None
        except QBOError as exc:
            raise UserError(exc.user_message()) from None
        if not isinstance(row, dict) or str(row.get("Id")) != str(self.qbo_id):
            raise UserError(self.env._("QuickBooks did not confirm %(entity)s %(id)s: search again.",
                                       entity=wizard.entity, id=self.qbo_id))
        return row

    def action_link(self):
        self.ensure_one()
        wizard = self.wizard_id
        wizard._qbo_check_rights()
        self.check_access("read")
        move, company = wizard._record(), wizard.company_id
        Link = self.env["qbo.link"].sudo()
        other = Link.search([("company_id", "=", company.id), ("res_model", "=", move._name),
                             ("qbo_id", "=", self.qbo_id), ("res_id", "!=", move.id)], limit=1)
        if other:
            raise UserError(self.env._("QuickBooks %(entity)s %(doc)s is already linked to %(name)s.", entity=wizard.entity,
                              doc=self.doc_number or self.qbo_id, name=other.record_name))
        row = self._qbo_confirm()
        vals = {"qbo_id": self.qbo_id, "qbo_sync_token": row.get("SyncToken") or self.qbo_sync_token,
                "qbo_doc_number": row.get("DocNumber") or self.doc_number,
                "state": "synced", "error_code": False, "error_message": False, "last_sync": fields.Datetime.now()}
        link = Link.search([("company_id", "=", company.id), ("res_model", "=", move._name),
                            ("res_id", "=", move.id)], limit=1)
        move._qbo_cancel_pending_jobs()
        if link:
            link.write(vals)
        else:
            Link.create(dict(vals, company_id=company.id, res_model=move._name, res_id=move.id))
        log_note(move, _lt("Linked to QuickBooks %(entity)s %(doc)s (id %(id)s).", entity=wizard.entity,
                                 doc=self.doc_number or "-", id=self.qbo_id))
        move.invalidate_recordset(["qbo_state", "qbo_id", "qbo_error", "qbo_last_sync", "qbo_url", "qbo_doc_number"])
        return {"type": "ir.actions.act_window_close"}
