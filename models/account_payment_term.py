from odoo import api, fields, models
from odoo.exceptions import UserError

from .qbo_rights import qbo_admin_write


class AccountPaymentTerm(models.Model):
    _inherit = "account.payment.term"

    # Payment terms can be shared by companies, each connected to its own QBO realm.
    qbo_term_ref_id = fields.Many2one(
        "qbo.reference", check_company=True, string="QuickBooks term", company_dependent=True,
        domain="[('kind', '=', 'term'), ('company_id', '=', current_company_id)]",
        help="The QuickBooks Online term sent with invoices that use this payment term.")

    @api.constrains("qbo_term_ref_id")
    def _check_qbo_term_company(self):
        """The QuickBooks term of the current company is one of that company's QuickBooks lists
        (the message names no entry of another company's list)."""
        for term in self.sudo():
            if term.qbo_term_ref_id and term.qbo_term_ref_id.company_id != self.env.company:
                raise UserError(self.env._("A QuickBooks term of another company cannot be mapped for %(company)s.",
                                           company=self.env.company.name))

    def write(self, vals):
        # the QuickBooks side of the mapping is the QuickBooks administrator's to set
        done = qbo_admin_write(self, vals, {"qbo_term_ref_id"}, lambda records, v: super(AccountPaymentTerm, records).write(v))
        return super().write(vals) if done is None else done
