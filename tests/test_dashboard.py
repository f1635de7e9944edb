from odoo.exceptions import AccessError
from odoo.tests import tagged

from .test_sync_customers import QboSyncCase


@tagged("post_install", "-at_install")
class TestDashboard(QboSyncCase):

    def dashboard(self, user=None):
        user = user or self.user
        action = self.env["qbo.dashboard"].with_user(user).action_open_dashboard()
        self.assertEqual(action["res_model"], "qbo.dashboard")
        return self.env["qbo.dashboard"].with_user(user).browse(action["res_id"])

    def test_counts_and_lists(self):
        synced = self.Partner.create({"name": "Dash Synced", "is_company": True, "qbo_hub": "active"})
        self.drain()
        self.company.qbo_sync_customers = False
        failing = self.Partner.create({"name": "Dash Failing", "is_company": True, "qbo_hub": "active"})
        self.drain()
        self.assertEqual(failing.qbo_state, "error")
        self.company.qbo_sync_customers = True
        queued = self.Partner.create({"name": "Dash Queued", "is_company": True, "qbo_hub": "active"})
        dash = self.dashboard()
        base = [("qbo_listed", "=", True)]
        Partner = self.Partner
        self.assertEqual(dash.customer_synced, Partner.search_count(base + [("qbo_state", "=", "synced")]))
        self.assertGreaterEqual(dash.customer_synced, 1)
        self.assertEqual(dash.customer_queued, 1)
        self.assertEqual(dash.customer_error, 1)
        self.assertEqual(dash.customer_none, Partner.search_count(base + [("qbo_state", "=", "none")]))
        self.assertEqual(dash.queue_length, 1)
        self.assertTrue(dash.queue_oldest)
        self.assertTrue(dash.queue_last_run)
        self.assertGreaterEqual(dash.queue_throughput, 1)
        self.assertEqual(dash.error_count, 1)
        self.assertEqual(dash.error_job_ids.record_name, "Dash Failing")
        self.assertIn("No match", dash.error_job_ids.error_message)
        self.assertFalse(dash.needs_reconnect)
        self.assertEqual(dash.qbo_company_name, self.company.qbo_company_name)

        action = dash.with_context(qbo_kind="customer", qbo_filter="error").action_open_list()
        self.assertEqual(action["res_model"], "res.partner")
        self.assertEqual(Partner.search(action["domain"]), failing)
        action = dash.with_context(qbo_kind="customer", qbo_filter="queued").action_open_list()
        self.assertEqual(Partner.search(action["domain"]), queued)
        action = dash.with_context(qbo_kind="customer", qbo_filter="synced").action_open_list()
        self.assertIn(synced, Partner.search(action["domain"]))
        self.assertEqual(dash.error_job_ids.action_open_record()["res_id"], failing.id)

        # Retry all queues the failed record again
        dash.action_retry_all()
        self.assertEqual(failing.qbo_state, "queued")
        self.drain()
        self.assertEqual(failing.qbo_state, "synced")
        self.assertEqual(self.dashboard().error_count, 0)

    def test_products_and_documents(self):
        self.env["product.product"].create({"name": "Dash Product", "default_code": "DASH-1", "list_price": 3})
        dash = self.dashboard()
        self.assertEqual(dash.product_queued, 1)
        action = dash.with_context(qbo_kind="product", qbo_filter="queued").action_open_list()
        self.assertEqual(self.env["product.product"].search(action["domain"]).default_code, "DASH-1")
        for kind, model in (("invoice", "account.move"), ("quotation", "sale.order")):
            available = "qbo_state" in self.env[model]._fields
            self.assertEqual(dash[f"has_{kind}s"], available)
            if available:
                action = dash.with_context(qbo_kind=kind, qbo_filter="none").action_open_list()
                self.assertEqual(action["res_model"], model)

    def test_reconnect_and_imports(self):
        self.company.write({"qbo_state": "reconnect", "qbo_state_message": "Refresh token refused"})
        dash = self.dashboard()
        self.assertTrue(dash.needs_reconnect)
        self.assertEqual(dash.action_reconnect()["res_model"], "res.config.settings")
        self.company.qbo_state = "connected"
        with self.assertRaisesRegex(AccessError, "Only QuickBooks administrators"):
            self.dashboard().action_import_customers()
        action = self.dashboard(self.manager).action_import_customers()
        self.assertEqual(action["res_model"], "qbo.import")
        imp = self.env["qbo.import"].browse(action["res_id"])
        self.assertEqual((imp.kind, imp.state), ("customer", "queued"))
        self.env.flush_all()
        imp._qbo_run()
        dash = self.dashboard()
        self.assertEqual(dash.customer_import_id, imp)
        self.assertEqual(dash.customer_import_progress, 100.0)
        self.assertGreaterEqual(dash.customer_synced, 3)
        action = self.dashboard(self.manager).action_import_products()
        self.assertEqual(self.env["qbo.import"].browse(action["res_id"]).kind, "product")
