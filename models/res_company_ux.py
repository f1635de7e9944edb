"""Company settings of the documents pushed to QuickBooks: what a cancelled quotation does to
its estimate, the invoice PDF, classes and locations."""
from markupsafe import Markup, escape

from odoo import api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    qbo_estimate_cancel = fields.Selection(
        [("close", "Close the estimate"), ("delete", "Delete the estimate"), ("keep", "Leave it")],
        string="Cancelled quotation", default="close", required=True,
        help="What happens in QuickBooks when a quotation that has an estimate there is cancelled in Odoo.")
    qbo_attach_invoice_pdf = fields.Boolean(
        "Attach the invoice PDF",
        help="Every pushed invoice gets its Odoo PDF attached in QuickBooks, sent with the invoice by e-mail; "
             "a re-pushed invoice gets the new PDF instead of the old one.")


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    qbo_estimate_cancel = fields.Selection(related="company_id.qbo_estimate_cancel", readonly=False)
    qbo_attach_invoice_pdf = fields.Boolean(related="company_id.qbo_attach_invoice_pdf", readonly=False)
    qbo_mapping_problems_html = fields.Html(compute="_compute_qbo_mapping_problems_html", sanitize=False)

    @api.depends("qbo_mapping_problems")
    def _compute_qbo_mapping_problems_html(self):
        for settings in self:
            problems = [p.strip("-• ") for p in (settings.qbo_mapping_problems or "").splitlines() if p.strip()]
            settings.qbo_mapping_problems_html = (
                Markup("<ul class='mb-0 ps-3'>%s</ul>") % Markup().join(Markup("<li>%s</li>") % escape(p)
                                                                         for p in problems)
                if problems else False)
