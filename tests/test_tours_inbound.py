"""Browser tour: a payment recorded on the simulator's page (by the browser, through the page's
own form) shows in Odoo as the invoice's "Paid in QuickBooks" badge."""
from odoo import Command
from odoo.tests import tagged

from .test_tours import QboTourCase

VERIFIER = "tour-verifier-token"


@tagged("post_install", "-at_install", "qbo_tour")
class TestInboundTours(QboTourCase):

    def test_payment_on_simulator_page_turns_badge_paid(self):
        self.connect()
        company = self.company
        company.sudo().qbo_webhook_verifier = VERIFIER
        Ref = self.env["qbo.reference"]
        term = self.env.ref("account.account_payment_term_30days")
        term.with_company(company).qbo_term_ref_id = Ref.search([("company_id", "=", company.id),
                                                                 ("kind", "=", "term"), ("qbo_id", "=", "3")])
        company.tax_calculation_rounding_method = "round_globally"
        partner = self.env["res.partner"].create({"name": "Tour Paying Customer", "is_company": True,
                                                  "qbo_hub": "active"})
        product = self.env["product.product"].create({"name": "Tour Service", "type": "service",
                                                      "default_code": "TOUR-SVC", "list_price": 80.0,
                                                      "taxes_id": [Command.clear()]})
        move = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": partner.id, "invoice_date": "2025-05-02",
            "invoice_payment_term_id": term.id,
            "invoice_line_ids": [Command.create({"product_id": product.id, "quantity": 2, "price_unit": 80.0,
                                                 "tax_ids": [Command.clear()]})]})
        move.action_post()
        move.action_qbo_push()
        self.drain()
        self.drain()
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        self.sim.webhooks.configure(f"{self.base_url()}/qbo/webhook", VERIFIER, auto=False)

        # the browser records the payment on the simulator's invoice page, with the page's own form
        page = f"{self.sim.url}/company/{self.US_REALM}/invoice/{move.qbo_id}"
        self.browser_js(page, """
            const form = document.querySelector('form.sim-pay');
            fetch(form.action, {method: 'POST', body: new URLSearchParams(new FormData(form)), redirect: 'manual'})
                .then(() => console.log('test successful'));
        """, login=None)
        paid = [i for i in self.sim.entities(self.US_REALM, "Invoice") if i["Id"] == move.qbo_id][0]
        self.assertEqual(paid["Balance"], 0)

        # Intuit's webhook reaches Odoo's public route over HTTP; the inbound cron reads the change.
        # (After browser_js the test server only serves requests bearing the test's cookie, so the
        # simulator's signed delivery is posted through the test's HTTP opener.)
        self.assertEqual(self.sim.webhooks.flush(send=lambda url, body, headers: self.url_open(
            "/qbo/webhook", data=body, headers=headers).status_code), [200])
        self.env.flush_all()
        self.env["qbo.webhook.event"]._qbo_inbound_company(company.id)
        self.env.invalidate_all()
        self.assertEqual(move.qbo_remote_status, "paid")
        self.start_tour(f"/odoo/action-qbo_financial_hub.account_move_qbo_action/{move.id}",
                        "qbo_invoice_paid_badge", login="admin")
