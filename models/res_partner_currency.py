from odoo import models


class ResPartner(models.Model):
    """A customer created in a multi-currency QuickBooks company takes the currency of its
    Odoo pricelist (QBO fixes a customer's currency at creation, and every transaction of the
    customer must be in it)."""

    _inherit = "res.partner"

    def _qbo_prepare_payload(self, company, link, match):
        payload, operation = super()._qbo_prepare_payload(company, link, match)
        company = company.sudo()
        if operation == "create" and company.qbo_multicurrency and company.qbo_home_currency:
            currency = self.commercial_partner_id.with_company(company).property_product_pricelist.currency_id
            if currency and currency.name != company.qbo_home_currency:
                payload["CurrencyRef"] = {"value": currency.name}
        return payload, operation
