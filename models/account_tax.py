from odoo import fields, models


class AccountTax(models.Model):
    _inherit = "account.tax"

    qbo_tax_code_ref_id = fields.Many2one(
        "qbo.reference", string="QuickBooks tax code", copy=False,
        domain="[('kind', '=', 'taxcode'), ('company_id', '=', company_id)]",
        help="The QuickBooks Online tax code sent on invoice lines that carry this tax.")
