from odoo import models


class AccountPayment(models.Model):
    """Customer payments pushed to QuickBooks get the smart button too."""

    _name = "account.payment"
    _inherit = ["account.payment", "qbo.smart.button"]

    _qbo_button_invisible = "not qbo_state or qbo_state == 'none' or not id or not qbo_applicable"
