"""Tours of the first hour (issue 22): the reconciliation page, the settings block, a payment
pushed from its form, an invoice paid in QuickBooks only, the dashboard's checklist."""
from odoo import Command
from odoo.tests import tagged

from ..simulator import web as sim_web
from .test_tours import QboTourCase


@tagged("post_install", "-at_install", "qbo_tour")
class TestFirstHourTours(QboTourCase):

    def invoice(self, customer, price=100.0):
        self.company.qbo_sync_products = True
        product = self.env["product.product"].search([("default_code", "=", "TOUR-DESIGN")]) or \
            self.env["product.product"].create({"name": "Design work", "default_code": "TOUR-DESIGN", "type": "service",
                                                "list_price": price, "taxes_id": [Command.clear()]})
        move = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": customer.id, "invoice_date": "2025-03-14",
            "invoice_line_ids": [Command.create({"product_id": product.id, "quantity": 1, "price_unit": price,
                                                 "tax_ids": [Command.clear()]})]})
        move.action_post()
        return move

    def paid_in_quickbooks(self):
        """A customer and an invoice in QuickBooks, the invoice paid there, not in Odoo."""
        self.connect()
        customer = self.env["res.partner"].create({"name": "Tour Recon Co", "is_company": True, "qbo_hub": "active"})
        move = self.invoice(customer)
        move.action_qbo_push()
        self.drain()
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        sim_web.record_payment(self.sim.companies[self.US_REALM], move.qbo_id)
        self.env["qbo.webhook.event"]._qbo_inbound_company(self.company.id, client_options={"sleep": lambda s: None})
        self.company._qbo_reconcile()
        self.env.invalidate_all()
        self.assertEqual(move.qbo_remote_status, "paid")
        return customer, move

    def test_reconciliation_page(self):
        self.paid_in_quickbooks()
        self.assertTrue(self.env["qbo.reconciliation.line"].search_count(
            [("company_id", "=", self.company.id), ("equal", "=", False)]))
        self.start_tour("/odoo/action-qbo_financial_hub.qbo_reconciliation_action", "qbo_reconciliation_page",
                        login="admin")

    def test_settings_block(self):
        self.connect()
        self.start_tour("/odoo/action-account.action_account_config", "qbo_settings_block", login="admin")

    def test_payment_pushed_from_its_form(self):
        self.connect()
        customer = self.env["res.partner"].create({"name": "Tour Payment Co", "is_company": True, "qbo_hub": "active"})
        move = self.invoice(customer)
        move.action_qbo_push()
        self.drain()
        wizard = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids).create({"payment_date": "2025-03-20"})
        payment = wizard._create_payments()
        self.assertFalse(payment.qbo_state, "payments are not pushed by themselves in this company")
        self.env.flush_all()
        self.start_tour(f"/odoo/action-account.action_account_payments/{payment.id}", "qbo_payment_push",
                        login="admin")
        self.drain()
        self.assertEqual(payment.qbo_state, "synced", payment.qbo_error)

    def test_invoice_paid_in_quickbooks_only(self):
        _customer, move = self.paid_in_quickbooks()
        self.env.flush_all()
        self.start_tour(f"/odoo/action-qbo_financial_hub.account_move_qbo_action/{move.id}",
                        "qbo_invoice_payment_status", login="admin")

    def test_dashboard_checklist(self):
        self.qbo_configure(self.company, self.US_REALM)
        self.start_tour("/odoo/action-qbo_financial_hub.qbo_dashboard_action", "qbo_dashboard_checklist", login="admin")
        self.company.invalidate_recordset()
        self.assertTrue(self.company.qbo_references_date, "the checklist's Refresh lists read them")
