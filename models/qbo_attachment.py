"""The invoice PDF in QuickBooks: when the company asks for it, every successful push of an
invoice queues an 'attach' job that uploads the Odoo invoice PDF to QuickBooks (an Attachable
linked to the invoice, sent with it by e-mail) and then deletes the copy it attached before,
so that the invoice carries exactly one. The upload uses the job's requestid: a lost answer
retried does not attach twice. A PDF over QuickBooks' size limit is refused before sending."""
import contextlib
from datetime import datetime

from odoo import api, fields, models

from ..qbo import AuthenticationError, NotFoundError, QBOError
from .qbo_reason import _lt, log_note

ATTACHMENT_MAX_BYTES = 100 * 1024 * 1024  # QuickBooks' limit for one attachment
ATTACH = "attach"


class QboAttachment(models.Model):
    """The Attachable a record has in QuickBooks, per company."""

    _name = "qbo.attachment"
    _description = "QuickBooks attachment"
    _order = "id desc"

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    res_model = fields.Char("Model", required=True, index=True)
    res_id = fields.Many2oneReference("Record", model_field="res_model", required=True, index=True)
    qbo_id = fields.Char("QuickBooks Id")
    file_name = fields.Char()
    file_size = fields.Integer("Size (bytes)")
    state = fields.Selection([("synced", "Attached"), ("error", "Error")], required=True, default="synced")
    error_message = fields.Text()
    last_sync = fields.Datetime()

    _sql_constraints = [("qbo_attachment_unique", "unique(company_id, res_model, res_id)",
                         "A record has one attachment per company.")]


class QboJob(models.Model):
    _inherit = "qbo.job"

    operation = fields.Selection(selection_add=[(ATTACH, "Attach the PDF")], ondelete={ATTACH: "cascade"})

    def _qbo_send_direct(self, company, client):
        """Jobs that are not sent in a /batch: {job id: outcome}."""
        outcome = {}
        for job in self:
            record = self.env[job.res_model].browse(job.res_id).with_company(company).exists()
            if not record:
                outcome[job.id] = {"state": "cancelled", "message": _lt("The record no longer exists.")}
                continue
            try:
                entity = record._qbo_attach_pdf(company, client, requestid=f"{job.batch_ref}-{job.id}")
            except AuthenticationError:
                raise
            except QBOError as exc:
                outcome[job.id] = self._qbo_classify(exc, (record, "create", {}))
                record._qbo_attachment_state(company, error=exc.user_message())
                continue
            if entity is None:
                outcome[job.id] = {"state": "cancelled", "message": _lt("Nothing to attach.")}
            elif isinstance(entity, str):
                outcome[job.id] = {"state": "error", "code": "too-large", "message": entity}
            else:
                outcome[job.id] = {"state": "done", "entity": entity}
        return outcome


class AccountMove(models.Model):
    _inherit = "account.move"

    qbo_attachment_name = fields.Char("PDF in QuickBooks", compute="_compute_qbo_attachment")
    qbo_attachment_error = fields.Text("PDF error", compute="_compute_qbo_attachment")

    @api.depends_context("company")
    def _compute_qbo_attachment(self):
        rows = self.env["qbo.attachment"].sudo().search([("res_model", "=", self._name), ("res_id", "in", self.ids)])
        by_key = {(row.company_id.id, row.res_id): row for row in rows}
        for move in self:
            row = by_key.get((move.company_id.id, move.id))
            move.qbo_attachment_name = row.file_name if row and row.qbo_id else False
            move.qbo_attachment_error = row.error_message if row and row.state == "error" else False

    def _qbo_after_push(self, company, entities):
        """A pushed invoice gets its PDF attached (again) in QuickBooks, when the company asks."""
        res = super()._qbo_after_push(company, entities)
        if company.sudo().qbo_attach_invoice_pdf:
            moves = self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted"
                                  and (entities.get(m.id) or {}).get("Id"))
            if moves:
                self.env["qbo.job"]._qbo_create_jobs(company, self._name, moves.ids, "invoice", ATTACH,
                                                     level=self._qbo_level + 1, mark_queued=False)
        return res

    def _qbo_pdf(self):
        """(file name, content) of the invoice PDF: the one Odoo issued when there is one."""
        self.ensure_one()
        document = self._get_invoice_legal_documents("pdf")
        if document:
            return document["filename"], document["content"]
        content, _type = self.env["ir.actions.report"].sudo()._render_qweb_pdf("account.account_invoices", self.ids)
        return self._get_invoice_report_filename(), content

    def _qbo_attachment_state(self, company, **vals):
        Attachment = self.env["qbo.attachment"].sudo()
        row = Attachment.search([("company_id", "=", company.id), ("res_model", "=", self._name),
                                 ("res_id", "=", self.id)], limit=1)
        values = {"state": "error" if vals.get("error") else "synced", "error_message": vals.pop("error", False),
                  **vals}
        if row:
            row.write(values)
        else:
            row = Attachment.create(dict(values, company_id=company.id, res_model=self._name, res_id=self.id))
        return row

    def _qbo_attach_pdf(self, company, client, requestid):
        """Upload the PDF linked to the QuickBooks invoice, then delete the copy attached
        before. Returns the new Attachable, None when nothing is to be attached, or why the
        PDF cannot be sent (a message)."""
        self.ensure_one()
        link = self._qbo_links(company).get(self.id)
        if not (link and link.qbo_id) or self.state != "posted":
            return None
        file_name, content = self._qbo_pdf()
        if len(content) > ATTACHMENT_MAX_BYTES:
            message = _lt("The invoice PDF (%(size).1f MB) is larger than the %(max)s MB QuickBooks accepts: "
                                 "it was not attached.", size=len(content) / 1048576,
                                 max=ATTACHMENT_MAX_BYTES // 1048576)
            self._qbo_attachment_state(company, error=message)
            return message
        previous = self.env["qbo.attachment"].sudo().search([
            ("company_id", "=", company.id), ("res_model", "=", self._name), ("res_id", "=", self.id)], limit=1)
        attachable = client.upload(file_name, content, "application/pdf", {
            "AttachableRef": [{"EntityRef": {"type": self._qbo_entity, "value": link.qbo_id}, "IncludeOnSend": True}],
        }, requestid=requestid)
        old_id = previous.qbo_id
        if old_id and old_id != attachable.get("Id"):
            with contextlib.suppress(NotFoundError):  # already gone from QuickBooks
                old = client.read("Attachable", old_id)
                client.delete("Attachable", old_id, old.get("SyncToken", "0"))
        self._qbo_attachment_state(company, qbo_id=attachable.get("Id"), file_name=file_name, file_size=len(content),
                                   last_sync=datetime.utcnow())
        log_note(self, _lt("Invoice PDF %(name)s attached in QuickBooks (Attachable %(id)s).",
                                          name=file_name, id=attachable.get("Id")))
        return attachable
