"""The QuickBooks side of a product template: products are edited on the template form, but
QuickBooks items are Odoo variants. A single-variant template shows its variant's state, id,
error and actions; a template with several variants shows the state of the worst of them and
lists the variants on its QuickBooks page."""
from odoo import api, fields, models

from .qbo_sync_mixin import SYNC_STATES

# the template's badge when its variants differ: the one that needs attention first
STATE_PRIORITY = {"error": 0, "queued": 1, "synced": 2, "none": 3}


class ProductTemplate(models.Model):
    _name = "product.template"
    _inherit = ["product.template", "qbo.smart.button"]

    _qbo_button_invisible = "qbo_state == 'none' or not id"

    qbo_state = fields.Selection(SYNC_STATES, string="QuickBooks", compute="_compute_qbo_template",
                                 search="_search_qbo_state")
    qbo_id = fields.Char("QuickBooks Id", compute="_compute_qbo_template")
    qbo_error = fields.Text("QuickBooks error", compute="_compute_qbo_template")
    qbo_last_sync = fields.Datetime("Last QuickBooks sync", compute="_compute_qbo_template")
    qbo_url = fields.Char("Open in QuickBooks", compute="_compute_qbo_template")
    qbo_variant_ids = fields.Many2many("product.product", string="Variants in QuickBooks",
                                       compute="_compute_qbo_template")

    @api.depends_context("company")
    @api.depends("product_variant_ids")
    def _compute_qbo_template(self):
        for template in self:
            variants = template.product_variant_ids
            template.qbo_variant_ids = variants
            if len(variants) == 1:
                template.qbo_state = variants.qbo_state
                template.qbo_id = variants.qbo_id
                template.qbo_error = variants.qbo_error
                template.qbo_last_sync = variants.qbo_last_sync
                template.qbo_url = variants.qbo_url
                continue
            states = variants.mapped("qbo_state")
            template.qbo_state = min(states, key=STATE_PRIORITY.get) if states else "none"
            template.qbo_id = False
            template.qbo_url = False
            template.qbo_last_sync = max(variants.filtered("qbo_last_sync").mapped("qbo_last_sync"), default=False)
            template.qbo_error = "\n".join(f"{v.display_name}: {v.qbo_error}" for v in variants if v.qbo_error) or False

    def _search_qbo_state(self, operator, value):
        return [("product_variant_ids", "any", [("qbo_state", operator, value)])]

    def action_qbo_push(self):
        return self.product_variant_ids.action_qbo_link()

    def action_qbo_retry(self):
        return self.product_variant_ids.filtered(lambda p: p.qbo_state == "error").action_qbo_push()

    def action_qbo_open(self):
        self.ensure_one()
        if len(self.product_variant_ids) == 1:
            return self.product_variant_ids.action_qbo_open()
        return {"type": "ir.actions.act_window", "res_model": "product.product", "name": self.env._("Variants in QuickBooks"),
                "view_mode": "list,form", "domain": [("product_tmpl_id", "=", self.id)],
                "views": [(self.env.ref("qbo_financial_hub.product_product_view_list_qbo").id, "list"), (False, "form")]}
