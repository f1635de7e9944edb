from odoo import api, models

from .qbo_names import clean_name, suffixed_name
from .qbo_reason import _lt
from .qbo_sync_mixin import QboPayloadError, in_queries

ITEM_NAME_MAX = 100
VARIANT_TRACKED = frozenset({"default_code", "lst_price", "active", "product_template_attribute_value_ids"})
TEMPLATE_TRACKED = frozenset({
    "name", "default_code", "list_price", "taxes_id", "property_account_income_id",
    "property_account_expense_id", "active", "description_sale", "type", "categ_id", "sale_ok",
})


class ProductTemplate(models.Model):
    _inherit = "product.template"

    def write(self, vals):
        res = super().write(vals)
        if TEMPLATE_TRACKED & vals.keys():
            self.with_context(active_test=False).product_variant_ids._qbo_enqueue_synced()
        return res

    @api.model_create_multi
    def create(self, vals_list):
        templates = super().create(vals_list)
        templates.product_variant_ids._qbo_enqueue_synced()
        return templates


class ProductProduct(models.Model):
    _name = "product.product"
    _inherit = ["product.product", "qbo.sync.mixin"]

    _qbo_kind = "item"
    _qbo_entity = "Item"
    _qbo_level = 0

    @api.model_create_multi
    def create(self, vals_list):
        products = super().create(vals_list)
        products._qbo_enqueue_synced()
        return products

    def write(self, vals):
        res = super().write(vals)
        if VARIANT_TRACKED & vals.keys():
            self._qbo_enqueue_synced()
        return res

    def _qbo_enqueue_synced(self):
        """Queue these products in every company that syncs products (or already holds them);
        nothing written under `qbo_no_enqueue` (an import of what QBO holds) is pushed back."""
        if not self or self.env.context.get("qbo_no_enqueue"):
            return
        for company in self.env["res.company"].sudo().search([("qbo_enabled", "=", True)]):
            linked = self._qbo_links(company)
            # saleable products, when the company creates items; an archived one only to deactivate its item
            products = self.filtered(lambda p: (p.sale_ok or not p.active) and (p.active or p.id in linked)
                                     and (company.qbo_sync_products or p.id in linked))
            if products:
                products._qbo_enqueue(company)

    def action_qbo_link(self):
        self._qbo_check_push_rights()
        self._qbo_enqueue(self.env.company)
        return self.env.company._qbo_notify(
            self.env._("QuickBooks"), self.env._("%(count)s product(s) queued for QuickBooks.", count=len(self)), "info")

    def _qbo_app_path(self, qbo_id):
        return f"item?itemId={qbo_id}"

    # ------------------------------------------------------------------------------
    def _qbo_item_name(self, link=None):
        self.ensure_one()
        base = self.with_context(display_default_code=False).display_name or self.name
        if link and link.name_clash:
            return suffixed_name(base, self.default_code or f"Odoo {self.id}", ITEM_NAME_MAX)
        return clean_name(base, ITEM_NAME_MAX)

    def _qbo_match_taken(self, company, link, match, other):
        """Matched by SKU: the clear error naming the other product. Matched by name: a name
        clash, pushed under the suffixed name (rule 3 of qbo_names)."""
        if (company.qbo_product_match == "sku" and self.default_code) or (link and link.name_clash):
            return super()._qbo_match_taken(company, link, match, other)
        return QboPayloadError(_lt("The QuickBooks item %(name)s is linked to %(other)s: this product is "
                                          "pushed under its suffixed name.",
                                          name=match.get("Name"), other=other.display_name), code="clash")

    def _qbo_name_clash_allowed(self, payload):
        return payload.get("Name") == self._qbo_item_name()

    def _qbo_match_queries(self, company):
        by_sku = company.qbo_product_match == "sku"
        links = self._qbo_links(company)
        values = {}
        for product in self:
            if by_sku and product.default_code:
                values[product.id] = ("Sku", [product.default_code])
            else:
                values[product.id] = ("Name", [product._qbo_item_name(links.get(product.id))])
        queries = []
        for field in ("Sku", "Name"):
            queries += in_queries("SELECT *, Sku FROM Item", field,
                                  [v for f, vs in values.values() if f == field for v in vs])

        index = {}

        def pick(product, rows):
            if not index:
                for row in rows:
                    for key in ("Sku", "Name"):
                        if row.get(key):
                            index.setdefault((key, row[key].lower()), row)
            field, wanted = values[product.id]
            for value in wanted:
                if value and (field, value.lower()) in index:
                    return index[(field, value.lower())]
            return None
        return queries, pick

    def _qbo_preflight(self, company):
        self.ensure_one()
        company = company.sudo()
        product = self.with_company(company)
        problems = []
        if not product.name:
            problems.append(_lt("The product has no name."))
        if product.default_code and any(ch in product.default_code for ch in "\r\n\t\x00"):
            problems.append(_lt("The internal reference %(sku)r holds a line break or a tab: QuickBooks "
                                       "accepts none in a SKU.", sku=product.default_code))
        if not product._qbo_income_ref(company):
            problems.append(_lt("No QuickBooks income account: map the product's income account or set a default."))
        if company.qbo_tax_model != "us" and not product._qbo_sales_tax_code(company):
            problems.append(_lt("No QuickBooks tax code for the product's sales tax: map it in the settings."))
        return problems

    def _qbo_income_ref(self, company):
        template = self.product_tmpl_id
        account = template.property_account_income_id or template.categ_id.property_account_income_categ_id
        return (account.qbo_account_ref_id if account else None) or company.qbo_income_account_id

    def _qbo_sales_tax_code(self, company):
        taxes = self.taxes_id.filtered(lambda t: t.company_id == company)
        code = taxes[:1].qbo_tax_code_ref_id if taxes else company.qbo_product_tax_zero_id
        return code or company.qbo_product_tax_default_id

    def _qbo_prepare_payload(self, company, link, match):
        self.ensure_one()
        company = company.sudo()
        product = self.with_company(company)
        qbo_id = (link and link.qbo_id) or (match and match.get("Id"))
        if not qbo_id and not company.qbo_sync_products:
            raise QboPayloadError(_lt("No match in QuickBooks, and creating products is switched off in the settings."),
                                  code="no-match")
        if not qbo_id and not product.active:
            raise QboPayloadError(_lt("An archived product is not created in QuickBooks."), code="archived")
        name = product._qbo_item_name(link)
        template = product.product_tmpl_id
        expense = template.property_account_expense_id or template.categ_id.property_account_expense_categ_id
        payload = {
            "Name": name,
            "Sku": (product.default_code or "")[:100],
            "Type": "Service" if product.type == "service" else "NonInventory",
            "UnitPrice": round(product.lst_price, 6),
            "Description": (product.description_sale or "")[:4000],
            "Active": bool(product.active),
        }
        income_ref = product._qbo_income_ref(company)
        if income_ref:
            payload["IncomeAccountRef"] = {"value": income_ref.qbo_id}
        expense_ref = (expense.qbo_account_ref_id if expense else None) or company.qbo_expense_account_id
        if expense_ref and product.purchase_ok:
            payload["ExpenseAccountRef"] = {"value": expense_ref.qbo_id}
        taxes = product.taxes_id.filtered(lambda t: t.company_id == company)
        if company.qbo_tax_model == "us":
            payload["Taxable"] = bool(taxes)
        elif product._qbo_sales_tax_code(company):
            payload["SalesTaxCodeRef"] = {"value": product._qbo_sales_tax_code(company).qbo_id}
        same_sku = match and product.default_code and match.get("Sku") == product.default_code
        if match and not (link and link.qbo_id) and match.get("Active") is False and not same_sku \
                and not (link and link.name_clash):
            raise QboPayloadError(_lt("An inactive QuickBooks item holds this name."), code="clash")
        if qbo_id:
            token = (link and link.qbo_id == qbo_id and link.qbo_sync_token) or (match and match.get("SyncToken"))
            payload.update({"Id": qbo_id, "SyncToken": token, "sparse": True})
            return payload, "update"
        return payload, "create"
