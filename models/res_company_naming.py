from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .qbo_naming import DOC_NUMBER_MAX, SAMPLE_VALUES, TEMPLATE_VARIABLES, TemplateError, render_template

NUMBER_TEMPLATES = ("qbo_invoice_template", "qbo_estimate_template")
TEXT_TEMPLATES = ("qbo_memo_template", "qbo_private_note_template")


def render_all(record, values):
    """(label, text, problem) of every template set on `record` (a company or the settings)."""
    for fname in NUMBER_TEMPLATES + TEXT_TEMPLATES:
        template = record[fname]
        if not template:
            continue
        label = record._fields[fname].string
        try:
            text = render_template(template, values)
        except TemplateError as exc:
            yield label, None, record.env._("%(label)s: unknown variable {%(var)s}. Use only %(allowed)s.", label=label,
                                 var=exc, allowed=", ".join("{%s}" % v for v in TEMPLATE_VARIABLES))
            continue
        problem = None
        if fname in NUMBER_TEMPLATES and len(text) > DOC_NUMBER_MAX:
            problem = record.env._("%(label)s: '%(text)s' has %(n)s characters; QuickBooks accepts at most %(max)s.",
                        label=label, text=text, n=len(text), max=DOC_NUMBER_MAX)
        yield label, text, problem


class ResCompany(models.Model):
    _inherit = "res.company"

    qbo_invoice_template = fields.Char(
        "QuickBooks invoice number template", default="{number}",
        help="Used when the QuickBooks invoice number is set to 'Naming template'. Variables: "
             + ", ".join("{%s}" % v for v in TEMPLATE_VARIABLES) + f". At most {DOC_NUMBER_MAX} characters.")
    qbo_estimate_template = fields.Char(
        "QuickBooks estimate number template",
        help="Number of the QuickBooks estimate of a quotation; empty: the quotation's number.")
    qbo_memo_template = fields.Char(
        "QuickBooks customer memo template", help="Message shown to the customer on the QuickBooks form.")
    qbo_private_note_template = fields.Char(
        "QuickBooks private note template", default="Odoo {number}",
        help="Internal note on the QuickBooks form.")

    @api.constrains(*NUMBER_TEMPLATES, *TEXT_TEMPLATES)
    def _check_qbo_templates(self):
        for company in self:
            for _label, _text, problem in render_all(company, SAMPLE_VALUES):
                if problem:
                    raise ValidationError(problem)

    def _qbo_render(self, fname, values):
        self.ensure_one()
        return render_template(self[fname] or "", values)


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    qbo_invoice_template = fields.Char(related="company_id.qbo_invoice_template", readonly=False)
    qbo_estimate_template = fields.Char(related="company_id.qbo_estimate_template", readonly=False)
    qbo_memo_template = fields.Char(related="company_id.qbo_memo_template", readonly=False)
    qbo_private_note_template = fields.Char(related="company_id.qbo_private_note_template", readonly=False)
    qbo_template_preview = fields.Text("Preview", compute="_compute_qbo_template_preview")

    @api.depends("qbo_invoice_template", "qbo_estimate_template", "qbo_memo_template",
                 "qbo_private_note_template", "qbo_invoice_number")
    def _compute_qbo_template_preview(self):
        for settings in self:
            values = dict(SAMPLE_VALUES)
            move = self.env["account.move"].search([("company_id", "=", settings.company_id.id),
                                                    ("move_type", "=", "out_invoice"), ("state", "=", "posted")],
                                                   limit=1, order="id desc")
            if move:
                values = move._qbo_template_values()
            lines = [problem or f"{label}: {text}" for label, text, problem in render_all(settings, values)]
            settings.qbo_template_preview = "\n".join(lines) or False
