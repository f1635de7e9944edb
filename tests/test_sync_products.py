from odoo.tests import tagged

from .test_sync_customers import QboSyncCase


@tagged("post_install", "-at_install")
class TestProductHub(QboSyncCase):

    def _product(self, **vals):
        values = {"name": "Garden Hose 20m", "default_code": "HOSE-20", "list_price": 25.5, "type": "consu",
                  "sale_ok": True, "description_sale": "Green, 20 metres"}
        values.update(vals)
        return self.env["product.product"].create(values)

    def item(self, product):
        return [i for i in self.qbo("Item") if i["Id"] == product.qbo_id][0]

    def test_product_pushed_as_item(self):
        product = self._product()
        self.assertEqual(product.qbo_state, "queued")
        self.drain()
        self.assertEqual(product.qbo_state, "synced", product.qbo_error)
        item = self.item(product)
        self.assertEqual(item["Name"], "Garden Hose 20m")
        self.assertEqual(item["Sku"], "HOSE-20")
        self.assertEqual(item["Type"], "NonInventory")
        self.assertEqual(float(item["UnitPrice"]), 25.5)
        self.assertEqual(item["IncomeAccountRef"]["value"], self.income.qbo_id)
        service = self._product(name="Installation", default_code="SRV-INST", type="service")
        self.drain()
        self.assertEqual(self.item(service)["Type"], "Service")

    def test_tracked_fields_update_others_do_not(self):
        product = self._product()
        self.drain()
        token = self.item(product)["SyncToken"]
        product.write({"weight": 3.0})
        self.assertFalse(self.pending_jobs(product))
        product.write({"lst_price": 30.0})
        product.product_tmpl_id.write({"name": "Garden Hose 20 m"})
        self.assertEqual(len(self.pending_jobs(product)), 1)
        self.drain()
        item = self.item(product)
        self.assertEqual(float(item["UnitPrice"]), 30.0)
        self.assertEqual(item["Name"], "Garden Hose 20 m")
        self.assertEqual(int(item["SyncToken"]), int(token) + 1)

    def test_archiving_deactivates_item(self):
        product = self._product()
        self.drain()
        product.product_tmpl_id.action_archive()
        self.drain()
        self.assertIs(self.item(product)["Active"], False)

    def test_match_by_sku_links_existing_item(self):
        existing = [i for i in self.qbo("Item") if i.get("Sku")][0]
        count = len(self.qbo("Item"))
        product = self._product(name="Our name for it", default_code=existing["Sku"])
        self.drain()
        self.assertEqual(product.qbo_id, existing["Id"])
        self.assertEqual(len(self.qbo("Item")), count)

    def test_product_sync_off_creates_nothing(self):
        self.company.qbo_sync_products = False
        product = self._product(default_code="OFF-1")
        self.assertFalse(self.pending_jobs(product))
        product.action_qbo_link()
        self.drain()
        self.assertEqual(product.qbo_state, "error")
        self.assertIn("No match in QuickBooks", product.qbo_error)

    def test_missing_income_account_is_explained(self):
        self.company.qbo_income_account_id = False
        product = self._product(default_code="NOACC-1")
        self.drain()
        self.assertEqual(product.qbo_state, "error")
        self.assertIn("income account", product.qbo_error)
