from datetime import timedelta

from odoo import Command
from odoo.tests import tagged

from .test_invoices import QboCanadaCase, QboInvoiceCase


class PaymentScenarios:
    """The same scenarios on the US and the Canadian company: after every push, QuickBooks'
    balance of each document and of the customer equals Odoo's residual to the cent."""

    # hooks of each company ---------------------------------------------------------------
    company_under_test = None
    realm_under_test = None

    def penv(self):
        company = self.company_under_test()
        return self.env(context=dict(self.env.context, allowed_company_ids=[company.id]))

    def pdrain(self):
        self.env.flush_all()
        done = self.env["qbo.job"]._qbo_process_company(self.company_under_test().id, client_options={
            "max_retries": 2, "sleep": lambda seconds: None})
        self.env.invalidate_all()
        return done

    def pinvoice(self, price=100.0, move_type="out_invoice"):
        move = self.penv()["account.move"].create({
            "move_type": move_type, "partner_id": self.customer.id, "invoice_date": "2025-03-14",
            "invoice_line_ids": [Command.create({"product_id": self.fitting.id, "quantity": 1, "price_unit": price})]})
        move.action_post()
        return move

    def register(self, invoices, amount=None, **vals):
        values = {"payment_date": "2025-03-20"}
        if amount is not None:
            values.update(amount=amount, payment_difference_handling="open")
        values.update(vals)
        wizard = self.penv()["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoices.ids).create(values)
        return wizard._create_payments()

    def remote(self, record, entity):
        qbo_id = record.with_company(self.company_under_test()).qbo_id
        self.assertTrue(qbo_id, f"{record.display_name} is linked")
        return [r for r in self.sim.entities(self.realm_under_test, entity) if r["Id"] == qbo_id][0]

    def qbo_payment(self, payment_or_move):
        move = payment_or_move.move_id if payment_or_move._name == "account.payment" else payment_or_move
        return self.env["qbo.payment"].search([("move_id", "=", move.id)])

    def assert_agree(self, moves):
        """Every document's QuickBooks Balance is Odoo's residual, and the customer's balance
        Odoo's open receivable."""
        company = self.company_under_test()
        moves.invalidate_recordset()
        for move in moves:
            remote = self.remote(move, move._qbo_entity)
            self.assertAlmostEqual(float(remote["Balance"]), move.amount_residual, places=2, msg=move.name)
        lines = self.env["account.move.line"].search([
            ("company_id", "=", company.id), ("partner_id", "=", self.customer.id), ("parent_state", "=", "posted"),
            ("account_id.account_type", "=", "asset_receivable")])
        remote_customer = self.remote(self.customer, "Customer")
        self.assertAlmostEqual(float(remote_customer["Balance"]), sum(lines.mapped("amount_residual")), places=2)

    def enable_payments(self):
        self.company_under_test().qbo_sync_payments = True

    # scenarios ----------------------------------------------------------------------------
    def test_partial_payment(self):
        self.enable_payments()
        invoice = self.pinvoice(200)
        payment = self.register(invoice, amount=50)
        self.assertEqual(invoice.payment_state, "partial")
        self.pdrain()
        row = self.qbo_payment(payment)
        self.assertEqual(row.with_company(self.company_under_test()).qbo_state, "synced", row.qbo_error)
        remote = self.remote(row, "Payment")
        self.assertEqual(float(remote["TotalAmt"]), 50)
        self.assertEqual([(float(l["Amount"]), l["LinkedTxn"][0]["TxnId"]) for l in remote["Line"]],
                         [(50.0, invoice.with_company(self.company_under_test()).qbo_id)])
        self.assertEqual(remote["TxnDate"], "2025-03-20")
        self.assertIn(payment.name, remote["PrivateNote"])
        self.assert_agree(invoice)

    def test_one_payment_for_three_invoices(self):
        self.enable_payments()
        invoices = self.pinvoice(100) | self.pinvoice(200) | self.pinvoice(300)
        payment = self.register(invoices, group_payment=True)
        self.assertEqual(len(payment), 1)
        self.assertTrue(all(state in ("paid", "in_payment") for state in invoices.mapped("payment_state")))
        self.pdrain()
        remote = self.remote(self.qbo_payment(payment), "Payment")
        self.assertEqual(len(remote["Line"]), 3)
        self.assertAlmostEqual(float(remote["TotalAmt"]), sum(invoices.mapped("amount_total")), places=2)
        self.assertEqual(float(remote["UnappliedAmt"]), 0)
        self.assert_agree(invoices)

    def test_overpayment_left_unapplied(self):
        self.enable_payments()
        invoice = self.pinvoice(100)
        payment = self.register(invoice, amount=invoice.amount_total + 40)
        self.assertEqual(invoice.amount_residual, 0)
        self.pdrain()
        remote = self.remote(self.qbo_payment(payment), "Payment")
        self.assertAlmostEqual(float(remote["UnappliedAmt"]), 40, places=2)
        self.assert_agree(invoice)

    def test_unreconciled_payment_updates_quickbooks(self):
        self.enable_payments()
        invoice = self.pinvoice(100)
        payment = self.register(invoice)
        self.pdrain()
        row = self.qbo_payment(payment)
        qbo_id = row.with_company(self.company_under_test()).qbo_id
        self.assertEqual(float(self.remote(invoice, "Invoice")["Balance"]), 0)
        payment.move_id.line_ids.remove_move_reconcile()
        self.assertEqual(invoice.amount_residual, invoice.amount_total)
        self.assertEqual(row.with_company(self.company_under_test()).qbo_state, "queued")
        self.pdrain()
        remote = self.remote(row, "Payment")
        self.assertEqual(remote["Id"], qbo_id, "the same QuickBooks payment, updated")
        self.assertEqual(remote["Line"], [])
        self.assertAlmostEqual(float(remote["UnappliedAmt"]), invoice.amount_total, places=2)
        self.assert_agree(invoice)

    def test_deleted_payment_deleted_in_quickbooks(self):
        self.enable_payments()
        invoice = self.pinvoice(100)
        payment = self.register(invoice, amount=30)
        self.pdrain()
        row = self.qbo_payment(payment)
        qbo_id = row.with_company(self.company_under_test()).qbo_id
        payment.action_draft()
        payment.unlink()
        self.assertTrue(row.exists(), "the row outlives the payment, to delete its QuickBooks copy")
        self.pdrain()
        self.assertFalse([p for p in self.sim.entities(self.realm_under_test, "Payment") if p["Id"] == qbo_id])
        self.assertEqual(row.with_company(self.company_under_test()).qbo_state, "none")
        self.assert_agree(invoice)

    def test_credit_note_applied_then_unapplied(self):
        self.enable_payments()
        invoice = self.pinvoice(100)
        refund = self.pinvoice(30, move_type="out_refund")
        self.pdrain()
        (invoice | refund).line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable").reconcile()
        self.assertEqual(refund.payment_state, "paid")
        self.pdrain()
        row = self.qbo_payment(refund)
        self.assertEqual(row.kind, "credit")
        remote = self.remote(row, "Payment")
        self.assertEqual(float(remote["TotalAmt"]), 0)
        kinds = sorted((l["LinkedTxn"][0]["TxnType"], float(l["Amount"])) for l in remote["Line"])
        self.assertEqual(kinds, [("CreditMemo", refund.amount_total), ("Invoice", refund.amount_total)])
        self.assert_agree(invoice | refund)
        # unreconciled: the application is undone in QuickBooks
        refund.line_ids.remove_move_reconcile()
        self.pdrain()
        self.assertEqual(row.with_company(self.company_under_test()).qbo_state, "none")
        self.assertEqual(float(self.remote(refund, "CreditMemo")["Balance"]), refund.amount_total)
        self.assert_agree(invoice | refund)

    def test_cancelled_invoice_with_payment_and_credit_voided_after_them(self):
        """An invoice paid (with a credit note and a payment for two invoices) is cancelled in
        Odoo, which unreconciles both: QuickBooks refuses to void an invoice a Payment applies,
        so the payment loses its line and the credit application goes first, then the void."""
        self.enable_payments()
        company = self.company_under_test()
        invoice, other = self.pinvoice(100), self.pinvoice(50)
        refund = self.pinvoice(20, move_type="out_refund")
        (invoice | refund).line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable").reconcile()
        payment = self.register(invoice | other, group_payment=True)
        self.pdrain()
        self.assertEqual(float(self.remote(invoice, "Invoice")["Balance"]), 0)
        paid_on_invoice = invoice.amount_total - refund.amount_total
        invoice.with_company(company).button_cancel()
        self.assertEqual(invoice.state, "cancel")
        self.pdrain()
        invoice = invoice.with_company(company)
        self.assertEqual(invoice.qbo_state, "synced", invoice.qbo_error)
        voided = self.remote(invoice, "Invoice")
        self.assertEqual((float(voided["TotalAmt"]), float(voided["Balance"])), (0, 0))
        self.assertIn("Voided", voided["PrivateNote"])
        remote = self.remote(self.qbo_payment(payment), "Payment")
        self.assertEqual([l["LinkedTxn"][0]["TxnId"] for l in remote["Line"]], [other.with_company(company).qbo_id])
        self.assertAlmostEqual(float(remote["UnappliedAmt"]), paid_on_invoice, places=2)
        self.assertEqual(self.qbo_payment(refund).with_company(company).qbo_state, "none", "credit application deleted")
        self.assert_agree(other | refund)

    def test_deleted_invoice_with_payment_voided_after_it(self):
        """Reset to draft (Odoo unreconciles) and deleted: the payment is updated, then the void."""
        self.enable_payments()
        company = self.company_under_test()
        invoice, other = self.pinvoice(80), self.pinvoice(40)
        payment = self.register(invoice | other, group_payment=True)
        self.pdrain()
        qbo_id = invoice.with_company(company).qbo_id
        invoice.with_company(company).button_draft()
        invoice.unlink()
        self.pdrain()
        voided = [r for r in self.sim.entities(self.realm_under_test, "Invoice") if r["Id"] == qbo_id][0]
        self.assertEqual(float(voided["TotalAmt"]), 0)
        jobs = self.env["qbo.job"].search([("company_id", "=", company.id), ("res_model", "=", "account.move"),
                                           ("operation", "=", "void")])
        self.assertEqual(jobs.mapped("state"), ["done"], jobs.mapped("error_message"))
        remote = self.remote(self.qbo_payment(payment), "Payment")
        self.assertEqual(len(remote["Line"]), 1)
        self.assert_agree(other)

    def test_payment_waits_for_its_invoice(self):
        """Payment sync on, invoices not pushed automatically: the payment queues its invoice
        and is sent after it."""
        self.enable_payments()
        invoice = self.pinvoice(100)
        self.assertEqual(invoice.with_company(self.company_under_test()).qbo_state, "none")
        payment = self.register(invoice)
        self.pdrain()
        self.pdrain()
        row = self.qbo_payment(payment)
        self.assertEqual(row.with_company(self.company_under_test()).qbo_state, "synced", row.qbo_error)
        self.assert_agree(invoice)

    def test_switch_off_then_manual_push(self):
        invoice = self.pinvoice(100)
        payment = self.register(invoice)
        self.assertFalse(self.qbo_payment(payment), "payment sync is off: nothing queued")
        company = self.company_under_test()
        self.user.company_ids |= company
        payment.with_user(self.user).with_context(allowed_company_ids=company.ids).action_qbo_push()
        self.pdrain()
        self.pdrain()
        self.assertEqual(payment.with_company(self.company_under_test()).qbo_state, "synced")
        self.assert_agree(invoice)

    def test_bank_statement_reconciliation_then_undone(self):
        self.enable_payments()
        invoice = self.pinvoice(100)
        journal = self.penv()["account.journal"].search([("company_id", "=", self.company_under_test().id),
                                                         ("type", "=", "bank")], limit=1)
        st_line = self.penv()["account.bank.statement.line"].create({
            "payment_ref": "Wire HL-7", "journal_id": journal.id, "partner_id": self.customer.id,
            "amount": invoice.amount_total, "date": "2025-03-21"})
        _liquidity, suspense, _other = st_line._seek_for_lines()
        receivable = invoice.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable")
        suspense.account_id = receivable.account_id
        (suspense + receivable).reconcile()
        self.assertEqual(invoice.amount_residual, 0)
        self.pdrain()
        row = self.qbo_payment(st_line.move_id)
        remote = self.remote(row, "Payment")
        self.assertEqual(remote["PaymentRefNum"], "Wire HL-7")
        self.assertEqual(remote["TxnDate"], "2025-03-21")
        self.assertEqual(len(remote["Line"]), 1)
        self.assert_agree(invoice)
        st_line.action_undo_reconciliation()
        self.pdrain()
        self.assertEqual(row.with_company(self.company_under_test()).qbo_state, "none")
        self.assertFalse(self.sim.entities(self.realm_under_test, "Payment"))
        self.assert_agree(invoice)

    def test_write_off_is_explained(self):
        self.enable_payments()
        invoice = self.pinvoice(100)
        writeoff = self.env["account.account"].search([
            ("company_ids", "in", self.company_under_test().ids), ("account_type", "=", "expense")], limit=1)
        payment = self.register(invoice, amount=invoice.amount_total - 5, payment_difference_handling="reconcile",
                                writeoff_account_id=writeoff.id, writeoff_label="Discount")
        self.assertEqual(invoice.amount_residual, 0)
        self.pdrain()
        row = self.qbo_payment(payment)
        self.assertEqual(row.with_company(self.company_under_test()).qbo_state, "error")
        self.assertIn("write-off", row.with_company(self.company_under_test()).qbo_error)
        self.assertFalse(self.sim.entities(self.realm_under_test, "Payment"), "nothing sent")


@tagged("post_install", "-at_install")
class TestPaymentsUS(PaymentScenarios, QboInvoiceCase):
    allow_inherited_tests_method = True

    def company_under_test(self):
        return self.company

    realm_under_test = QboInvoiceCase.US_REALM

    def test_payment_method_and_deposit_account_mapping(self):
        self.enable_payments()
        Ref = self.env["qbo.reference"]
        checking = Ref.search([("company_id", "=", self.company.id), ("kind", "=", "account"), ("qbo_id", "=", "7")])
        card = Ref.search([("company_id", "=", self.company.id), ("kind", "=", "paymentmethod"), ("name", "=", "Check")])
        self.assertTrue(card, "payment methods are imported with the lists")
        invoice = self.pinvoice(100)
        journal = self.env["account.journal"].search([("company_id", "=", self.company.id), ("type", "=", "bank")],
                                                     limit=1)
        method_line = journal.inbound_payment_method_line_ids[:1]
        method_line.qbo_payment_method_id = card
        journal.qbo_deposit_account_id = checking
        payment = self.register(invoice, journal_id=journal.id, payment_method_line_id=method_line.id,
                                communication="CHK 4711")
        self.pdrain()
        remote = self.remote(self.qbo_payment(payment), "Payment")
        self.assertEqual(remote["DepositToAccountRef"]["value"], "7")
        self.assertEqual(remote["PaymentMethodRef"]["value"], card.qbo_id)
        self.assertEqual(remote["PaymentRefNum"], "CHK 4711")

    def test_payment_bumps_invoice_token_and_later_update_succeeds(self):
        self.enable_payments()
        invoice = self.pinvoice(100)
        self.register(invoice, amount=10)
        self.pdrain()
        self.assertEqual(self.remote(invoice, "Invoice")["SyncToken"], "1")
        # a change QuickBooks sees (an update that changes nothing keeps the SyncToken, as in QBO)
        due = invoice.invoice_date_due + timedelta(days=10)
        invoice.invoice_date_due = due
        self.pdrain()
        self.assertEqual(invoice.qbo_state, "synced", invoice.qbo_error)
        remote = self.remote(invoice, "Invoice")
        self.assertEqual((remote["SyncToken"], remote["DueDate"]), ("2", str(due)))

    def test_foreign_currency_payment_with_rate(self):
        self.enable_payments()
        eur = self.env.ref("base.EUR")
        eur.active = True
        self.env["res.currency.rate"].create({"currency_id": eur.id, "name": "2025-01-01", "rate": 0.8})
        self.env["res.currency.rate"].create({"currency_id": eur.id, "name": "2025-03-18", "rate": 0.625})
        pricelist = self.env["product.pricelist"].create({"name": "EUR", "currency_id": eur.id})
        self.customer = self.env["res.partner"].create({"name": "Euro Shop GmbH", "is_company": True,
                                                        "property_product_pricelist": pricelist.id,
                                                        "qbo_hub": "active"})
        self.drain()
        invoice = self.invoice(partner_id=self.customer.id, currency_id=eur.id)
        payment = self.register(invoice, amount=40, currency_id=eur.id)
        self.pdrain()
        self.pdrain()
        row = self.qbo_payment(payment)
        self.assertEqual(row.qbo_state, "synced", row.qbo_error or invoice.qbo_error)
        remote = self.remote(row, "Payment")
        self.assertEqual(remote["CurrencyRef"]["value"], "EUR")
        self.assertEqual(float(remote["ExchangeRate"]), 1.6, "the rate of the payment date, home per euro")
        self.assertEqual(float(remote["TotalAmt"]), 40)
        self.assertAlmostEqual(float(self.remote(invoice, "Invoice")["Balance"]), invoice.amount_residual, places=2)


@tagged("post_install", "-at_install")
class TestPaymentsCanada(PaymentScenarios, QboCanadaCase):
    allow_inherited_tests_method = True

    def company_under_test(self):
        return self.ca

    realm_under_test = QboCanadaCase.CA_REALM
