"""Browser tours of the product template's QuickBooks page, the smart button, the badge that
turns green without a reload, and the estimate link wizard."""
import threading
import time
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged

from .test_tours import QboTourCase


@tagged("post_install", "-at_install", "qbo_tour")
class TestToursUx(QboTourCase):

    def test_template_page(self):
        self.connect()
        self.company.qbo_sync_products = True
        template = self.env["product.template"].create({"name": "Tour Lamp", "default_code": "LAMP", "list_price": 30,
                                                        "sale_ok": True})
        self.drain()
        self.assertEqual(template.qbo_state, "synced", template.qbo_error)
        self.start_tour(f"/odoo/action-product.product_template_action/{template.id}", "qbo_template_page",
                        login="admin")
        self.env.invalidate_all()
        self.assertEqual(template.product_variant_id.qbo_state, "queued")

    def test_smart_button(self):
        self.connect()
        partner = self.env["res.partner"].create({"name": "Tour Smart Co", "is_company": True, "qbo_hub": "active"})
        self.drain()
        self.assertEqual(partner.qbo_state, "synced", partner.qbo_error)
        self.start_tour(f"/odoo/action-qbo_financial_hub.res_partner_qbo_action/{partner.id}", "qbo_smart_button",
                        login="admin")

    def test_live_badge_after_push(self):
        from odoo.addons.bus.websocket import WebsocketConnectionHandler
        # Odoo turns the websocket off in tests unless a test asks for it (as bus' WebsocketCase does)
        self.startPatcher(patch.object(WebsocketConnectionHandler, "websocket_allowed", return_value=True))
        self.connect()
        partner = self.env["res.partner"].create({"name": "Tour Live Co", "is_company": True, "qbo_hub": "active"})
        self.env.flush_all()
        self.assertEqual(partner.qbo_state, "queued")
        errors = []

        def drain_when_seen():
            # what the cron does once the tour saw the Queued badge: push, commit, and the bus
            # tells the browser (the test cursor ignores post-commit hooks, so the dispatch is
            # triggered here as the bus would)
            try:
                for _attempt in range(300):
                    with self.registry.cursor() as cr:
                        env = api.Environment(cr, SUPERUSER_ID, {})
                        if env["ir.config_parameter"].get_param("qbo_financial_hub.tour_live_ready"):
                            env["qbo.job"]._qbo_process_company(
                                self.company.id, client_options={"max_retries": 2, "sleep": lambda seconds: None})
                            break
                    time.sleep(0.1)
            except Exception as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
            self._dispatch_bus()

        thread = threading.Thread(target=drain_when_seen)
        thread.start()
        try:
            self.start_tour("/odoo/action-qbo_financial_hub.res_partner_qbo_action", "qbo_live_badge", login="admin")
        finally:
            thread.join(timeout=60)
        self.assertFalse(errors)
        self.env.invalidate_all()
        self.assertEqual(partner.qbo_state, "synced")

    def _dispatch_bus(self):
        from odoo.addons.bus.websocket import dispatch
        for websockets in list(dispatch._channels_to_ws.values()):
            for websocket in list(websockets):
                websocket.trigger_notification_dispatching()

    def test_estimate_link_wizard(self):
        self.connect()
        customer = self.env["res.partner"].create({"name": "Tour Estimate Co", "is_company": True, "qbo_hub": "active"})
        self.drain()
        self.sim._company(self.US_REALM).write("Estimate", {
            "DocNumber": "EST-77", "TxnDate": "2025-03-14", "CustomerRef": {"value": customer.qbo_id},
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 100.0,
                      "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": 100.0}}]})
        product = self.env["product.product"].create({"name": "Tour Service", "type": "service", "list_price": 100})
        order = self.env["sale.order"].create({"partner_id": customer.id, "order_line": [
            (0, 0, {"product_id": product.id, "product_uom_qty": 1, "price_unit": 100.0, "tax_id": [(5,)]})]})
        self.env.flush_all()
        self.start_tour(f"/odoo/action-sale.action_quotations_with_onboarding/{order.id}", "qbo_estimate_link_wizard",
                        login="admin")
        self.env.invalidate_all()
        self.assertEqual(order.qbo_state, "none")
        self.assertEqual(len(self.sim.entities(self.US_REALM, "Estimate")), 1, "QuickBooks itself is not changed")
