from odoo import fields, models


class AccountPaymentTerm(models.Model):
    _inherit = "account.payment.term"

    # Payment terms can be shared by companies, each connected to its own QBO realm.
    qbo_term_ref_id = fields.Many2one(
        "qbo.reference", string="QuickBooks term", company_dependent=True,
        domain="[('kind', '=', 'term'), ('company_id', '=', current_company_id)]",
        help="The QuickBooks Online term sent with invoices that use this payment term.")
