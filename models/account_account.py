from odoo import fields, models

from .qbo_rights import qbo_admin_write


class AccountAccount(models.Model):
    _inherit = "account.account"

    qbo_account_ref_id = fields.Many2one(
        "qbo.reference", check_company=True, string="QuickBooks account", company_dependent=True,
        domain="[('kind', '=', 'account'), ('company_id', '=', current_company_id)]",
        help="The QuickBooks Online account used when products carry this account.")
    qbo_line_product_id = fields.Many2one(
        "product.product", string="QuickBooks item for lines without a product", company_dependent=True,
        help="Invoice lines on this account that have no product are sent to QuickBooks with this product's item "
             "(instead of the one set in the settings).")

    def write(self, vals):
        # the QuickBooks side of the mapping is the QuickBooks administrator's to set
        done = qbo_admin_write(self, vals, {"qbo_account_ref_id", "qbo_line_product_id"},
                               lambda records, v: super(AccountAccount, records).write(v))
        return super().write(vals) if done is None else done
