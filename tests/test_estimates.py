from odoo import Command
from odoo.tests import tagged

from .test_invoices import QboInvoiceCase


class QboEstimateCase(QboInvoiceCase):

    def quotation(self, **vals):
        values = {"partner_id": self.customer.id, "validity_date": "2025-04-30", "order_line": [
            Command.create({"display_type": "line_section", "name": "Dining room"}),
            Command.create({"product_id": self.chair.id, "product_uom_qty": 3, "price_unit": 120.0, "discount": 10,
                            "tax_id": [Command.set(self.tax_ca.ids)]}),
            Command.create({"product_id": self.fitting.id, "product_uom_qty": 2, "price_unit": 45.5,
                            "tax_id": [Command.clear()]}),
        ]}
        values.update(vals)
        return self.env["sale.order"].create(values)

    def estimate(self, order):
        return [r for r in self.qbo("Estimate") if r["Id"] == order.qbo_id][0]


@tagged("post_install", "-at_install")
class TestEstimates(QboEstimateCase):

    def test_quotation_estimate_invoice(self):
        self.company.qbo_auto_push_quotations = True
        order = self.quotation()
        self.assertEqual(order.qbo_state, "none", "a draft quotation waits until sent or confirmed")
        order.action_quotation_sent()
        self.assertEqual(order.qbo_state, "queued")
        self.drain()
        self.assertEqual(order.qbo_state, "synced", order.qbo_error)
        est = self.estimate(order)
        self.assertEqual(float(est["TotalAmt"]), order.amount_total)
        self.assertEqual(float(est["TotalAmt"]), 441.73)
        self.assertEqual(est["DocNumber"], order.name)
        self.assertEqual(est["ExpirationDate"], "2025-04-30")
        self.assertIn(f"estimate?txnId={order.qbo_id}", order.qbo_url)
        # a change updates the same estimate
        order.order_line.filtered(lambda l: l.product_id == self.fitting).product_uom_qty = 4
        self.assertEqual(order.qbo_state, "queued")
        self.drain()
        est = self.estimate(order)
        self.assertEqual(len(self.qbo("Estimate")), 1)
        self.assertEqual(float(est["TotalAmt"]), order.amount_total)
        # the invoice made from it refers to the estimate
        order.action_confirm()
        self.drain()
        invoice = order._create_invoices()
        invoice.invoice_date = "2025-03-20"
        invoice.action_post()
        invoice.action_qbo_push()
        self.drain()
        self.assertEqual(invoice.qbo_state, "synced", invoice.qbo_error)
        inv = self.remote(invoice)
        self.assertEqual(inv["LinkedTxn"], [{"TxnId": order.qbo_id, "TxnType": "Estimate"}])
        self.assertEqual(self.estimate(order)["TxnStatus"], "Closed")
        self.assertEqual(float(inv["TotalAmt"]), invoice.amount_total)

    def test_estimate_number_template_and_preflight(self):
        self.company.qbo_estimate_template = "EST-{number}"
        order = self.quotation()
        order.action_qbo_push()
        self.drain()
        self.assertEqual(self.estimate(order)["DocNumber"], f"EST-{order.name}")
        self.customer.with_context(qbo_no_enqueue=True).qbo_hub = "inactive"
        order.action_qbo_push()
        self.drain()
        self.assertEqual(order.qbo_state, "error")
        self.assertIn("Inactive in the Financial Hub", order.qbo_error)
