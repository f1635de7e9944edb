from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    qbo_enabled = fields.Boolean(related="company_id.qbo_enabled", readonly=False)
    # where the tokens go and whose QuickBooks company it is: system administrators only
    qbo_environment = fields.Selection(related="company_id.qbo_environment", readonly=False, groups="base.group_system")
    qbo_custom_url = fields.Char(related="company_id.qbo_custom_url", readonly=False, groups="base.group_system")
    qbo_realm_id = fields.Char(related="company_id.qbo_realm_id", readonly=False, groups="base.group_system")
    qbo_client_id = fields.Char(related="company_id.qbo_client_id", readonly=False, groups="base.group_system")
    qbo_client_secret = fields.Char(related="company_id.qbo_client_secret", readonly=False, groups="base.group_system")
    qbo_access_token = fields.Char(related="company_id.qbo_access_token", readonly=False, groups="base.group_system")
    qbo_refresh_token = fields.Char(related="company_id.qbo_refresh_token", readonly=False, groups="base.group_system")
    qbo_access_token_expires_at = fields.Datetime(related="company_id.qbo_access_token_expires_at")
    qbo_refresh_token_expires_at = fields.Datetime(related="company_id.qbo_refresh_token_expires_at")
    qbo_state = fields.Selection(related="company_id.qbo_state")
    qbo_state_message = fields.Text(related="company_id.qbo_state_message")
    qbo_company_name = fields.Char(related="company_id.qbo_company_name")
    qbo_country = fields.Char(related="company_id.qbo_country")
    qbo_tax_model = fields.Selection(related="company_id.qbo_tax_model")
    qbo_home_currency = fields.Char(related="company_id.qbo_home_currency")
    qbo_references_date = fields.Datetime(related="company_id.qbo_references_date")
    qbo_mapping_problems = fields.Text(related="company_id.qbo_mapping_problems")
    qbo_customer_match = fields.Selection(related="company_id.qbo_customer_match", readonly=False)
    qbo_product_match = fields.Selection(related="company_id.qbo_product_match", readonly=False)
    qbo_invoice_number = fields.Selection(related="company_id.qbo_invoice_number", readonly=False)
    qbo_sync_customers = fields.Boolean(related="company_id.qbo_sync_customers", readonly=False)
    qbo_sync_products = fields.Boolean(related="company_id.qbo_sync_products", readonly=False)
    qbo_auto_push_invoices = fields.Boolean(related="company_id.qbo_auto_push_invoices", readonly=False)
    qbo_auto_push_quotations = fields.Boolean(related="company_id.qbo_auto_push_quotations", readonly=False)
    qbo_tax_default_id = fields.Many2one(related="company_id.qbo_tax_default_id", readonly=False)
    qbo_tax_zero_id = fields.Many2one(related="company_id.qbo_tax_zero_id", readonly=False)
    qbo_tax_exempt_id = fields.Many2one(related="company_id.qbo_tax_exempt_id", readonly=False)
    qbo_product_tax_default_id = fields.Many2one(related="company_id.qbo_product_tax_default_id", readonly=False)
    qbo_product_tax_zero_id = fields.Many2one(related="company_id.qbo_product_tax_zero_id", readonly=False)
    qbo_income_account_id = fields.Many2one(related="company_id.qbo_income_account_id", readonly=False)
    qbo_expense_account_id = fields.Many2one(related="company_id.qbo_expense_account_id", readonly=False)
    qbo_asset_account_id = fields.Many2one(related="company_id.qbo_asset_account_id", readonly=False)
    qbo_receivable_account_id = fields.Many2one(related="company_id.qbo_receivable_account_id", readonly=False)
    qbo_line_product_id = fields.Many2one(related="company_id.qbo_line_product_id", readonly=False)

    def action_qbo_connect(self):
        self.ensure_one()
        self.company_id._qbo_check_manager()   # the company the settings name: before saving anything
        self.execute()  # save what was typed (client id, environment) before leaving the page
        return {"type": "ir.actions.act_url", "target": "self",
                "url": f"/qbo/oauth/connect?company_id={self.company_id.id}"}

    def action_qbo_test_connection(self):
        self.company_id._qbo_check_manager()
        self.execute()
        return self.company_id.action_qbo_test_connection()

    def action_qbo_disconnect(self):
        self.company_id.action_qbo_disconnect()
        return {"type": "ir.actions.client", "tag": "reload"}

    def action_qbo_refresh_references(self):
        self.company_id._qbo_check_manager()
        self.execute()
        self.company_id.action_qbo_refresh_references()
        return {"type": "ir.actions.client", "tag": "reload"}
