from odoo import api, fields, models

from .qbo_job import record_names
from .qbo_reason import shown
from .qbo_rights import USER_GROUP, check_company_action
from .qbo_sync_mixin import SYNC_STATES
from .qbo_walls import check_record_company


class QboLink(models.Model):
    """The link between one Odoo record and its QuickBooks Online twin, per company.

    Partners and products are shared by companies and each company talks to its own QBO
    realm, so the QBO id, SyncToken, sync state and last error live here rather than on
    the records themselves. One row per (company, record)."""

    _name = "qbo.link"
    _description = "QuickBooks Online link"
    _order = "id desc"
    _rec_name = "record_name"

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    res_model = fields.Char("Model", required=True, index=True)
    res_id = fields.Many2oneReference("Record", model_field="res_model", required=True, index=True)
    record_name = fields.Char(compute="_compute_record_name")
    qbo_id = fields.Char("QuickBooks Id", index=True, copy=False)
    qbo_sync_token = fields.Char("SyncToken", copy=False)
    qbo_name = fields.Char("Name in QuickBooks", help="The DisplayName or Name QuickBooks holds.")
    qbo_doc_number = fields.Char("QuickBooks number")
    name_clash = fields.Boolean(
        help="QuickBooks refused the plain name as taken (by a vendor, an employee or an inactive "
             "record): the record is pushed under its suffixed name.")
    state = fields.Selection(SYNC_STATES, default="none", required=True, index=True)
    error_code = fields.Char()
    error_message = fields.Text(help="The reason in English, as logs and exports read it.")
    error_reason = fields.Json(copy=False, help="The reason as a sentence and its values, read in each reader's language.")
    error_text = fields.Text("Reason", compute="_compute_error_text", help="The reason in the reader's language.")
    last_sync = fields.Datetime()

    _sql_constraints = [
        ("qbo_link_unique", "unique(company_id, res_model, res_id)", "A record is linked once per company."),
        ("qbo_link_qbo_unique", "unique(company_id, res_model, qbo_id)",
         "This QuickBooks record is already linked to another Odoo record."),
    ]

    @api.constrains("company_id", "res_model", "res_id")
    def _check_record_company(self):
        check_record_company(self)

    @api.depends("res_model", "res_id")
    def _compute_record_name(self):
        names = record_names(self)
        for link in self:
            link.record_name = names.get((link.res_model, link.res_id)) or f"{link.res_model},{link.res_id}"

    @api.depends_context("lang")
    @api.depends("error_message", "error_reason")
    def _compute_error_text(self):
        for link in self:
            link.error_text = shown(link.error_reason, link.error_message, self.env.lang)

    def action_open_record(self):
        self.ensure_one()
        check_company_action(self.env, self.company_id, self, group=USER_GROUP)
        return {"type": "ir.actions.act_window", "res_model": self.res_model, "res_id": self.res_id,
                "view_mode": "form", "target": "current"}
