from lxml import etree

from odoo.tests import tagged

from .test_sync_customers import QboSyncCase


@tagged("post_install", "-at_install")
class TestTemplateAndSmartButton(QboSyncCase):

    def _template(self, **vals):
        values = {"name": "Rain Barrel", "default_code": "BARREL", "list_price": 80.0, "type": "consu", "sale_ok": True}
        values.update(vals)
        return self.env["product.template"].create(values)

    def test_single_variant_template_shows_its_variant(self):
        template = self._template()
        self.assertEqual(template.qbo_state, "queued")
        self.drain()
        variant = template.product_variant_id
        self.assertEqual(variant.qbo_state, "synced", variant.qbo_error)
        template.invalidate_recordset()
        self.assertEqual((template.qbo_state, template.qbo_id, template.qbo_url),
                         ("synced", variant.qbo_id, variant.qbo_url))
        self.assertIn(f"itemId={variant.qbo_id}", template.qbo_url)
        self.assertEqual(template.action_qbo_open()["url"], variant.qbo_url)
        self.assertIn(template, self.env["product.template"].search([("qbo_state", "=", "synced")]))

    def test_multi_variant_template_shows_the_worst_variant(self):
        size = self.env["product.attribute"].create({"name": "Barrel size", "value_ids": [
            (0, 0, {"name": "100 l"}), (0, 0, {"name": "200 l"})]})
        template = self._template(attribute_line_ids=[(0, 0, {"attribute_id": size.id,
                                                               "value_ids": [(6, 0, size.value_ids.ids)]})])
        self.assertEqual(len(template.product_variant_ids), 2)
        self.drain()
        small, large = template.product_variant_ids
        template.invalidate_recordset()
        self.assertEqual(template.qbo_state, "synced")
        self.assertFalse(template.qbo_id, "several items: no single id")
        self.assertEqual(template.qbo_variant_ids, small | large)
        self.env["qbo.link"].search([("res_model", "=", "product.product"), ("res_id", "=", large.id)]).write(
            {"state": "error", "error_message": "Refused"})
        template.invalidate_recordset()
        large.invalidate_recordset()
        self.assertEqual(template.qbo_state, "error")
        self.assertIn(f"{large.display_name}: Refused", template.qbo_error)
        self.assertIn(template, self.env["product.template"].search([("qbo_state", "=", "error")]))
        action = template.action_qbo_open()
        self.assertEqual(action["res_model"], "product.product")
        # retry from the template queues the failed variant only
        template.action_qbo_retry()
        self.assertTrue(self.pending_jobs(large))
        self.assertFalse(self.pending_jobs(small))

    def test_smart_button_in_every_form(self):
        for model in ("res.partner", "product.template", "product.product", "account.move", "sale.order",
                      "account.payment"):
            arch = etree.fromstring(self.env[model].with_user(self.user).get_views([(False, "form")])["views"]["form"]["arch"])
            buttons = arch.xpath("//div[@name='button_box']/button[@name='action_qbo_open']")
            self.assertEqual(len(buttons), 1, model)
            self.assertTrue(buttons[0].xpath(".//field[@name='qbo_state']"), model)
        partner = self.Partner.create({"name": "Smart Button Co", "is_company": True, "qbo_hub": "active"})
        self.assertEqual(partner.action_qbo_open()["params"]["type"], "info", "queued: says so, nothing to open")
        self.drain()
        action = partner.action_qbo_open()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertTrue(action["url"].endswith(f"nameId={partner.qbo_id}"))
        self.assertEqual(partner.qbo_id, self.qbo_by_name("Customer", "Smart Button Co")[0]["Id"])

    def test_no_button_for_users_outside_the_hub(self):
        from odoo.tests import new_test_user
        outsider = new_test_user(self.env, login="qbo_outsider", groups="base.group_user,base.group_partner_manager")
        arch = self.env["res.partner"].with_user(outsider).get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertNotIn("action_qbo_open", arch)
