from odoo.tests import tagged

from .test_estimates import QboEstimateCase


@tagged("post_install", "-at_install")
class TestEstimateLinkAndCancel(QboEstimateCase):
    """A quotation linked by hand to an estimate QuickBooks already holds; a cancelled quotation
    closes or deletes its estimate, as the settings choose."""

    def pushed_quotation(self):
        order = self.quotation()
        order.action_qbo_push()
        self.drain()
        self.assertEqual(order.qbo_state, "synced", order.qbo_error)
        return order

    def test_cancel_closes_the_estimate(self):
        self.assertEqual(self.company.qbo_estimate_cancel, "close")
        order = self.pushed_quotation()
        order._action_cancel()
        self.assertEqual(order.qbo_state, "queued")
        self.drain()
        self.assertEqual(order.qbo_state, "synced", order.qbo_error)
        self.assertEqual(self.estimate(order)["TxnStatus"], "Closed")
        self.assertEqual(float(self.estimate(order)["TotalAmt"]), order.amount_total, "the estimate itself is kept")
        # back to a quotation: pushed again, the estimate is open again
        order.action_draft()
        order.action_qbo_push()
        self.drain()
        self.assertEqual(self.estimate(order)["TxnStatus"], "Pending")

    def test_cancel_deletes_the_estimate(self):
        self.company.qbo_estimate_cancel = "delete"
        order = self.pushed_quotation()
        qbo_id = order.qbo_id
        order._action_cancel()
        self.drain()
        self.assertFalse([e for e in self.qbo("Estimate") if e["Id"] == qbo_id])
        self.assertEqual((order.qbo_state, order.qbo_id), ("none", False))
        self.assertIn("was deleted", order.message_ids[:1].body)

    def test_cancel_keeps_the_estimate_when_asked(self):
        self.company.qbo_estimate_cancel = "keep"
        order = self.pushed_quotation()
        order._action_cancel()
        self.assertFalse(self.pending_jobs(order))
        self.assertEqual(self.estimate(order)["TxnStatus"], "Pending")

    def test_cancel_of_a_quotation_never_pushed_sends_nothing(self):
        order = self.quotation()
        order._action_cancel()
        self.assertFalse(self.pending_jobs(order))
        self.assertEqual(order.qbo_state, "none")

    def test_link_wizard_and_unlink(self):
        order = self.quotation()
        self.sim._company(self.US_REALM).write("Estimate", {
            "DocNumber": "EST-9", "TxnDate": "2025-03-14", "CustomerRef": {"value": self.customer.qbo_id},
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 50.0,
                      "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": 50.0}}]})
        other = self.env["res.partner"].create({"name": "Other Estimates Co", "is_company": True, "qbo_hub": "active"})
        self.drain()
        self.sim._company(self.US_REALM).write("Estimate", {
            "DocNumber": "EST-10", "TxnDate": "2025-03-14", "CustomerRef": {"value": other.qbo_id},
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 10.0,
                      "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": 10.0}}]})
        action = order.with_user(self.user).action_qbo_link_wizard()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertEqual((wizard.entity, wizard.order_id, wizard.company_id), ("Estimate", order, self.company))
        self.assertEqual(wizard.line_ids.mapped("doc_number"), ["EST-9"], "same customer only, by default")
        line = wizard.line_ids
        self.assertIn("another total", line.warning)
        line.with_user(self.user).action_link()
        self.assertEqual((order.qbo_state, order.qbo_doc_number), ("synced", "EST-9"))
        # an estimate is linked once
        wizard2 = self.env[action["res_model"]].create({"order_id": self.quotation().id, "same_customer": False})
        wizard2.action_search()
        self.assertEqual(wizard2.line_ids.mapped("doc_number"), ["EST-10"])
        # unlinked: QuickBooks is not changed
        order.with_user(self.user).action_qbo_unlink()
        self.assertEqual((order.qbo_state, order.qbo_id), ("none", False))
        self.assertEqual(len(self.qbo_by_name("Estimate", "EST-9", field="DocNumber")), 1)
