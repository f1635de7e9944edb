from odoo import Command
from odoo.tests import tagged

from .test_invoices import QboInvoiceCase


@tagged("post_install", "-at_install")
class TestReconciliation(QboInvoiceCase):

    def setUp(self):
        super().setUp()
        self.company.qbo_sync_payments = True

    def make_book(self):
        moves = self.env["account.move"]
        for price in (100.0, 250.0):
            move = self.env["account.move"].create({
                "move_type": "out_invoice", "partner_id": self.customer.id, "invoice_date": "2025-03-14",
                "invoice_line_ids": [Command.create({"product_id": self.fitting.id, "quantity": 1, "price_unit": price})]})
            move.action_post()
            moves |= move
        moves.action_qbo_push()
        wizard = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=moves[0].ids).create({"amount": 40, "payment_date": "2025-03-20"})
        payment = wizard._create_payments()
        self.drain()
        return moves, payment

    def reads(self, before):
        after = self.sim.counters(self.US_REALM)
        return sum(after.get(k, 0) - before.get(k, 0) for k in ("read", "query", "cdc"))

    def lines(self, **domain):
        return self.env["qbo.reconciliation.line"].search(
            [("company_id", "=", self.company.id)] + [(k, "=", v) for k, v in domain.items()])

    def test_equal_book_then_a_difference_made_in_quickbooks(self):
        moves, payment = self.make_book()
        before = self.sim.counters(self.US_REALM)
        rows, differences = self.company._qbo_reconcile()
        self.assertEqual(differences, 0, self.lines(equal=False).mapped(lambda l: (l.name, l.note, l.difference)))
        self.assertEqual(rows, 4, "one customer, two invoices, one payment")
        self.assertEqual(self.reads(before), 4, "first refresh: one query per entity")
        customer_line = self.lines(kind="customer")
        self.assertAlmostEqual(customer_line.odoo_open, sum(moves.mapped("amount_residual")), places=2)
        self.assertAlmostEqual(customer_line.qbo_open, customer_line.odoo_open, places=2)

        # somebody records a payment in QuickBooks only: the invoice and the customer differ
        client = self.company._qbo_client()
        client.create("Payment", {"CustomerRef": {"value": self.customer.qbo_id}, "TotalAmt": 10,
                                  "Line": [{"Amount": 10, "LinkedTxn": [{"TxnId": moves[1].qbo_id,
                                                                         "TxnType": "Invoice"}]}]})
        before = self.sim.counters(self.US_REALM)
        rows, differences = self.company._qbo_reconcile()
        self.assertLessEqual(self.reads(before), 2, "later refreshes: one CDC call and the changed customers")
        self.assertEqual(differences, 2)
        invoice_line = self.lines(kind="document", res_id=moves[1].id)
        self.assertFalse(invoice_line.equal)
        self.assertAlmostEqual(invoice_line.difference, 10, places=2)
        self.assertIn(f"txnId={moves[1].qbo_id}", invoice_line.qbo_url)
        self.assertEqual(invoice_line.action_open_record()["res_id"], moves[1].id)
        self.assertFalse(self.lines(kind="customer").equal)
        self.assertEqual(self.company.qbo_reconciliation_differences, 2)
        dashboard = self.env["qbo.dashboard"].create({"company_id": self.company.id})
        self.assertEqual(dashboard.reconciliation_differences, 2)

    def test_deleted_in_quickbooks_is_listed(self):
        moves, payment = self.make_book()
        self.company._qbo_reconcile()
        row = self.env["qbo.payment"].search([("payment_id", "=", payment.id)])
        client = self.company._qbo_client()
        remote = client.read("Payment", row.qbo_id)
        client.delete("Payment", remote["Id"], remote["SyncToken"])
        rows, differences = self.company._qbo_reconcile()
        line = self.lines(kind="payment")
        self.assertFalse(line.equal)
        self.assertIn("Deleted in QuickBooks", line.note)
        self.assertFalse(self.lines(kind="document", res_id=moves[0].id).equal)

    def test_other_company_lines_are_not_visible(self):
        self.make_book()
        self.company._qbo_reconcile()
        other = self.env["res.company"].create({"name": "Elsewhere Ltd"})
        user = self.user
        user.write({"company_ids": [Command.set(other.ids)], "company_id": other.id})
        self.assertFalse(self.env["qbo.reconciliation.line"].with_user(user).search([]))
        self.assertTrue(self.env["qbo.reconciliation.line"].search([("company_id", "=", self.company.id)]))
