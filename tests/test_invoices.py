from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .test_sync_customers import QboSyncCase


class QboInvoiceCase(QboSyncCase):
    """US company mapped for invoices: one taxed product, one untaxed, a customer, a term."""

    def setUp(self):
        super().setUp()
        Ref = self.env["qbo.reference"]
        company = self.company

        def ref(kind, qbo_id, comp=company):
            return Ref.search([("company_id", "=", comp.id), ("kind", "=", kind), ("qbo_id", "=", qbo_id)])
        self.ref = ref
        self.tax_ca = self.env["account.tax"].create({
            "name": "CA Sales 8.25%", "amount": 8.25, "type_tax_use": "sale", "company_id": company.id,
            "qbo_tax_code_ref_id": ref("taxcode", "2").id})
        self.term = self.env.ref("account.account_payment_term_30days")
        self.term.with_company(company).qbo_term_ref_id = ref("term", "3")
        self.customer = self.env["res.partner"].create({"name": "Harbour Lights Ltd", "is_company": True,
                                                        "qbo_hub": "active"})
        self.chair = self.env["product.product"].create({
            "name": "Oak Chair", "default_code": "CHAIR-1", "list_price": 120.0, "type": "consu",
            "taxes_id": [Command.set(self.tax_ca.ids)]})
        self.fitting = self.env["product.product"].create({
            "name": "Fitting", "default_code": "FIT-1", "list_price": 45.5, "type": "service",
            "taxes_id": [Command.clear()]})
        self.drain()
        self.assertEqual(self.customer.qbo_state, "synced", self.customer.qbo_error)

    def invoice(self, lines=None, post=True, move_type="out_invoice", **vals):
        values = {
            "move_type": move_type, "partner_id": self.customer.id, "invoice_date": "2025-03-14",
            "invoice_payment_term_id": self.term.id,
            "invoice_line_ids": lines or [
                Command.create({"display_type": "line_section", "name": "Dining room"}),
                Command.create({"product_id": self.chair.id, "quantity": 3, "price_unit": 120.0, "discount": 10,
                                "tax_ids": [Command.set(self.tax_ca.ids)]}),
                Command.create({"product_id": self.fitting.id, "quantity": 2, "price_unit": 45.5,
                                "tax_ids": [Command.clear()]}),
                Command.create({"display_type": "line_note", "name": "Delivered on Friday"}),
            ]}
        values.update(vals)
        move = self.env["account.move"].create(values)
        if post:
            move.action_post()
        return move

    def remote(self, move, entity=None):
        entity = entity or move._qbo_entity
        return [r for r in self.qbo(entity) if r["Id"] == move.qbo_id][0]


@tagged("post_install", "-at_install")
class TestInvoices(QboInvoiceCase):

    def test_invoice_pushed_with_totals_to_the_cent(self):
        move = self.invoice()
        self.assertEqual(move.qbo_state, "none", "no automatic push unless switched on")
        move.with_user(self.user).action_qbo_push()
        self.assertEqual(move.qbo_state, "queued")
        self.drain()
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        inv = self.remote(move)
        self.assertEqual(move.amount_total, 441.73)
        self.assertEqual(float(inv["TotalAmt"]), move.amount_total)
        self.assertEqual(float(inv["TxnTaxDetail"]["TotalTax"]), move.amount_tax)
        self.assertEqual(inv["TxnTaxDetail"]["TxnTaxCodeRef"]["value"], "2")
        self.assertEqual(inv["DocNumber"], move.name)
        self.assertEqual(move.qbo_doc_number, move.name)
        self.assertEqual(inv["CustomerRef"]["value"], self.customer.qbo_id)
        self.assertEqual(inv["SalesTermRef"]["value"], "3")
        self.assertEqual(inv["TxnDate"], "2025-03-14")
        self.assertEqual(inv["DueDate"], fields.Date.to_string(move.invoice_date_due))
        kinds = [line["DetailType"] for line in inv["Line"]]
        self.assertEqual(kinds, ["DescriptionOnly", "SalesItemLineDetail", "SalesItemLineDetail",
                                 "DescriptionOnly", "SubTotalLineDetail"])
        chair = inv["Line"][1]
        self.assertEqual(chair["SalesItemLineDetail"]["ItemRef"]["value"], self.chair.qbo_id)
        self.assertEqual(chair["SalesItemLineDetail"]["TaxCodeRef"]["value"], "TAX")
        self.assertEqual(float(chair["Amount"]), 324.0, "the 10% discount is folded into the unit price")
        self.assertEqual(inv["Line"][2]["SalesItemLineDetail"]["TaxCodeRef"]["value"], "NON")
        self.assertEqual(inv["Line"][3]["Description"], "Delivered on Friday")
        self.assertIn(f"invoice?txnId={move.qbo_id}", move.qbo_url)

    def test_auto_push_on_post_and_reset_updates_same_document(self):
        self.company.qbo_auto_push_invoices = True
        move = self.invoice()
        self.assertEqual(move.qbo_state, "queued")
        self.drain()
        qbo_id = move.qbo_id
        self.assertTrue(qbo_id)
        move.button_draft()
        move.invoice_line_ids.filtered(lambda l: l.product_id == self.fitting).quantity = 4
        move.action_post()
        self.drain()
        self.assertEqual(move.qbo_id, qbo_id)
        self.assertEqual(len(self.qbo("Invoice")), 1)
        inv = self.remote(move)
        self.assertEqual(float(inv["TotalAmt"]), move.amount_total)
        self.assertEqual(inv["SyncToken"], "1")

    def test_posted_invoice_edit_follows_to_quickbooks(self):
        move = self.invoice()
        move.with_user(self.user).action_qbo_push()
        self.drain()
        token = self.remote(move)["SyncToken"]
        move.write({"invoice_date_due": "2025-05-30"})
        self.assertEqual(move.qbo_state, "queued", "a change QBO can follow is queued, not skipped")
        self.drain()
        inv = self.remote(move)
        self.assertEqual(inv["DueDate"], "2025-05-30")
        self.assertEqual(int(inv["SyncToken"]), int(token) + 1)
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)

    def test_cancel_voids_in_quickbooks(self):
        move = self.invoice()
        move.action_qbo_push()
        self.drain()
        move.button_cancel()
        self.assertEqual(move.qbo_state, "queued")
        self.drain()
        inv = self.remote(move)
        self.assertEqual(float(inv["TotalAmt"]), 0.0)
        self.assertEqual(inv["PrivateNote"], "Voided")
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        # a cancelled invoice that never reached QuickBooks sends nothing
        other = self.invoice()
        other.action_qbo_push()
        other.button_cancel()
        self.assertEqual(other.qbo_state, "none")

    def test_credit_note_is_a_credit_memo(self):
        self.company.qbo_auto_push_invoices = True
        move = self.invoice()
        refund = self.invoice(move_type="out_refund", invoice_payment_term_id=False, lines=[
            Command.create({"product_id": self.chair.id, "quantity": 1, "price_unit": 120.0,
                            "tax_ids": [Command.set(self.tax_ca.ids)]})])
        self.assertEqual(len(self.pending_jobs(move | refund)), 2)
        self.drain()
        self.assertEqual(refund.qbo_state, "synced", refund.qbo_error)
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        memo = self.remote(refund, "CreditMemo")
        self.assertEqual(float(memo["TotalAmt"]), refund.amount_total)
        self.assertEqual(float(memo["TotalAmt"]), 129.90)
        self.assertIn("creditmemo?txnId=", refund.qbo_url)

    def test_customer_and_products_queued_first(self):
        newcomer = self.env["res.partner"].create({"name": "New Customer Co", "is_company": True})
        move = self.invoice(partner_id=newcomer.id)
        move.action_qbo_push()
        self.drain()
        self.assertEqual(move.qbo_state, "error")
        self.assertIn("Inactive in the Financial Hub", move.qbo_error)
        newcomer.with_context(qbo_no_enqueue=True).qbo_hub = "active"
        move.action_qbo_push()
        self.drain()
        self.assertEqual(newcomer.qbo_state, "synced", "the invoice queued its customer")
        self.assertEqual(move.qbo_state, "queued", "and waits for it")
        self.pending_jobs(move).next_attempt_at = "2000-01-01 00:00:00"
        self.drain()
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)

    def test_preflight_reports_every_problem_and_sends_nothing(self):
        self.company.qbo_invoice_number = "template"
        self.company.qbo_invoice_template = "{customer}"
        bare_tax = self.env["account.tax"].create({"name": "Unmapped 5%", "amount": 5, "type_tax_use": "sale"})
        term = self.env.ref("account.account_payment_term_15days")
        self.company.qbo_income_account_id = False
        self.customer.qbo_hub = "inactive"
        self.customer.name = "Harbour Lights Limited Partnership"
        eur = self.env.ref("base.EUR")
        eur.active = True
        self.env["res.currency.rate"].create({"currency_id": eur.id, "name": "2025-01-01", "rate": 0.9})
        move = self.invoice(invoice_payment_term_id=term.id, currency_id=eur.id, lines=[
            Command.create({"product_id": self.chair.id, "quantity": 1, "price_unit": 10,
                            "tax_ids": [Command.set(bare_tax.ids)]}),
            Command.create({"name": "Freight", "quantity": 1, "price_unit": 5, "tax_ids": [Command.clear()]})])
        self.company.sudo().write({"qbo_multicurrency": False})
        move.action_qbo_push()
        before = self.sim.counters(self.US_REALM).get("total", 0)
        self.drain()
        self.assertEqual(move.qbo_state, "error")
        error = move.qbo_error
        for text in ("Inactive in the Financial Hub", "15 Days", "Unmapped 5%", "'Freight' has no product",
                     "income account", "longer than the 21", "currency EUR is not enabled"):
            self.assertIn(text, error)
        self.assertEqual(self.sim.counters(self.US_REALM).get("total", 0), before, "nothing doomed is sent")
        self.assertFalse(self.qbo("Invoice"))

    def test_us_invoice_with_two_tax_codes_refused(self):
        tax_ny = self.env["account.tax"].create({"name": "NYC 8.875%", "amount": 8.875, "type_tax_use": "sale",
                                                 "qbo_tax_code_ref_id": self.ref("taxcode", "3").id})
        move = self.invoice(lines=[
            Command.create({"product_id": self.chair.id, "quantity": 1, "price_unit": 10,
                            "tax_ids": [Command.set(self.tax_ca.ids)]}),
            Command.create({"product_id": self.fitting.id, "quantity": 1, "price_unit": 10,
                            "tax_ids": [Command.set(tax_ny.ids)]})])
        self.assertIn("one sales tax per transaction", "\n".join(move._qbo_preflight(self.company)))

    def test_tax_mapped_to_another_rate_refused_before_sending(self):
        move = self.invoice()
        move.action_qbo_push()
        self.tax_ca.qbo_tax_code_ref_id = self.ref("taxcode", "3")  # 8.875% in QBO against 8.25% in Odoo
        self.drain()
        self.assertEqual(move.qbo_state, "error")
        self.assertFalse(move.qbo_id, "nothing was sent")
        self.assertIn("8.25", move.qbo_error)
        self.assertIn("8.875", move.qbo_error)
        self.assertFalse(self.qbo("Invoice"))

    def test_totals_mismatch_after_push_is_an_error_with_both_figures(self):
        move = self.invoice()
        move.action_qbo_push()
        self.drain()
        inv = self.remote(move)
        self.assertEqual(move._qbo_check_result(self.company, inv), None)
        inv["TotalAmt"] = 443.76
        problem = move._qbo_check_result(self.company, inv)
        self.assertIn("441.73", problem)
        self.assertIn("443.76", problem)

    def test_naming_template(self):
        self.customer.ref = "C-77"
        self.company.write({"qbo_invoice_number": "template", "qbo_invoice_template": "{customer_ref}-{number}",
                            "qbo_memo_template": "Thank you, {customer}"})
        move = self.invoice()
        move.action_qbo_push()
        self.drain()
        inv = self.remote(move)
        self.assertEqual(inv["DocNumber"], f"C-77-{move.name}")
        self.assertEqual(inv["CustomerMemo"]["value"], "Thank you, Harbour Lights Ltd")
        with self.assertRaisesRegex(ValidationError, "unknown variable"):
            self.company.qbo_invoice_template = "{number}-{unknown}"
        with self.assertRaisesRegex(ValidationError, "at most 21"):
            self.company.qbo_invoice_template = "{customer}-{number}"
        settings = self.env["res.config.settings"].create({"qbo_invoice_template": "Q-{number}"})
        self.assertIn(f"Q-{move.name}", settings.qbo_template_preview)

    def test_foreign_currency(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        self.env["res.currency.rate"].create({"currency_id": eur.id, "name": "2025-01-01", "rate": 0.8})
        pricelist = self.env["product.pricelist"].create({"name": "EUR", "currency_id": eur.id})
        euro_customer = self.env["res.partner"].create({"name": "Euro Shop GmbH", "is_company": True,
                                                        "property_product_pricelist": pricelist.id,
                                                        "qbo_hub": "active"})
        self.drain()
        move = self.invoice(partner_id=euro_customer.id, currency_id=eur.id)
        move.action_qbo_push()
        self.drain()
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        inv = self.remote(move)
        self.assertEqual(inv["CurrencyRef"]["value"], "EUR")
        self.assertEqual(float(inv["ExchangeRate"]), 1.25)
        self.assertEqual(float(inv["TotalAmt"]), move.amount_total)


@tagged("post_install", "-at_install")
class TestInvoiceLink(QboInvoiceCase):

    def _remote_invoice(self, amount=100.0, customer=None):
        client = self.company._qbo_client()
        return client.create("Invoice", {
            "CustomerRef": {"value": customer or self.customer.qbo_id}, "TxnDate": "2025-03-10",
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": amount,
                      "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": amount}}]})

    def test_link_double_link_and_unlink(self):
        near = self._remote_invoice(441.73)
        self._remote_invoice(12.0)
        self._remote_invoice(50.0, customer="1")
        move = self.invoice()
        action = move.with_user(self.user).action_qbo_link_wizard()
        wizard = self.env["account.move.qbo.link"].browse(action["res_id"])
        self.assertEqual(len(wizard.line_ids), 2, "same customer by default")
        self.assertEqual(wizard.line_ids[0].qbo_id, near["Id"], "nearest amount first")
        self.assertFalse(wizard.line_ids[0].warning)
        self.assertIn("another total", wizard.line_ids[1].warning)
        wizard.line_ids[0].with_user(self.user).action_link()
        self.assertEqual(move.qbo_state, "synced")
        self.assertEqual(move.qbo_id, near["Id"])
        self.assertEqual(move.qbo_doc_number, near["DocNumber"])
        self.assertFalse(self.pending_jobs(move), "linking pushes nothing")
        # the same QBO invoice cannot be linked to a second Odoo invoice
        other = self.invoice()
        wizard2 = self.env["account.move.qbo.link"].create({"move_id": other.id, "same_customer": False})
        wizard2.action_search()
        self.assertNotIn(near["Id"], wizard2.line_ids.mapped("qbo_id"), "already linked ones are not offered")
        line = self.env["account.move.qbo.link.line"].create({"wizard_id": wizard2.id, "qbo_id": near["Id"]})
        with self.assertRaisesRegex(UserError, "already linked"):
            line.action_link()
        self.assertTrue(any("another customer" in (w or "") for w in wizard2.line_ids.mapped("warning")))
        # unlink forgets the link, QuickBooks keeps its invoice
        move.with_user(self.user).action_qbo_unlink()
        self.assertEqual(move.qbo_state, "none")
        self.assertFalse(move.qbo_id)
        self.assertTrue([r for r in self.qbo("Invoice") if r["Id"] == near["Id"]])
        # a re-push after a fix updates the linked document
        wizard3 = self.env["account.move.qbo.link"].create({"move_id": move.id})
        wizard3.action_search()
        wizard3.line_ids.filtered(lambda l: l.qbo_id == near["Id"]).action_link()
        move.action_qbo_push()
        self.drain()
        self.assertEqual(move.qbo_id, near["Id"])
        self.assertEqual(self.remote(move)["DocNumber"], move.name)


class QboCanadaCase(QboSyncCase):
    """A second Odoo company, in CAD, connected to the simulator's Canadian realm."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cad = cls.env.ref("base.CAD")
        cad.active = True
        cls.ca = cls.env["res.company"].create({"name": "Maple Goods Inc", "currency_id": cad.id,
                                                "country_id": cls.env.ref("base.ca").id})
        cls.env.user.company_ids |= cls.ca
        cls.env["account.chart.template"].try_loading("generic_coa", company=cls.ca, install_demo=False)
        cls.ca.currency_id = cad  # the generic chart sets USD

    def setUp(self):
        super().setUp()
        ca = self.qbo_configure(self.ca, self.CA_REALM)
        ca.action_qbo_refresh_references()
        Ref = self.env["qbo.reference"]

        def ref(kind, qbo_id):
            return Ref.search([("company_id", "=", ca.id), ("kind", "=", kind), ("qbo_id", "=", qbo_id)])
        self.ca_ref = ref
        ca.write({"qbo_income_account_id": ref("account", "1").id, "qbo_product_tax_default_id": ref("taxcode", "3").id,
                  "qbo_tax_default_id": ref("taxcode", "3").id, "qbo_product_tax_zero_id": ref("taxcode", "8").id})
        self.assertEqual(ca.qbo_tax_model, "global")
        Tax = self.env["account.tax"].with_company(ca)
        self.gst = Tax.create({"name": "GST 5%", "amount": 5, "type_tax_use": "sale", "company_id": ca.id,
                               "qbo_tax_code_ref_id": ref("taxcode", "3").id})
        self.hst = Tax.create({"name": "HST ON 13%", "amount": 13, "type_tax_use": "sale", "company_id": ca.id,
                               "qbo_tax_code_ref_id": ref("taxcode", "4").id})
        env = self.env(context=dict(self.env.context, allowed_company_ids=[ca.id]))
        self.ca_env = env
        self.customer = env["res.partner"].create({"name": "Maple Customer", "is_company": True})
        self.customer.with_company(ca).qbo_hub = "active"
        self.chair = env["product.product"].create({"name": "Maple Chair", "default_code": "MCH-1", "list_price": 100,
                                                    "taxes_id": [Command.set(self.gst.ids)]})
        self.fitting = env["product.product"].create({"name": "Maple Fitting", "default_code": "MFT-1",
                                                      "list_price": 50, "type": "service",
                                                      "taxes_id": [Command.set(self.hst.ids)]})
        self.drain_ca()
        self.assertEqual(self.customer.with_company(ca).qbo_state, "synced")

    def drain_ca(self):
        self.env.flush_all()
        done = self.env["qbo.job"]._qbo_process_company(self.ca.id, client_options={
            "max_retries": 2, "sleep": lambda seconds: None})
        self.env.invalidate_all()
        return done


@tagged("post_install", "-at_install")
class TestInvoicesCanada(QboCanadaCase):
    """A real tax code on every line, several taxes on one invoice."""

    def test_canadian_invoice_several_taxes_and_discount(self):
        move = self.ca_env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id, "invoice_date": "2025-03-14",
            "invoice_line_ids": [
                Command.create({"product_id": self.chair.id, "quantity": 2, "price_unit": 100, "discount": 10,
                                "tax_ids": [Command.set(self.gst.ids)]}),
                Command.create({"product_id": self.fitting.id, "quantity": 1, "price_unit": 50,
                                "tax_ids": [Command.set(self.hst.ids)]}),
                Command.create({"product_id": self.fitting.id, "quantity": 1, "price_unit": 20,
                                "tax_ids": [Command.clear()]}),
            ]})
        move.action_post()
        self.assertEqual(move.company_id, self.ca)
        move.action_qbo_push()
        self.drain_ca()
        move = move.with_company(self.ca)
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        inv = [r for r in self.qbo("Invoice", self.CA_REALM) if r["Id"] == move.qbo_id][0]
        self.assertEqual(move.amount_total, 265.5)
        self.assertEqual(float(inv["TotalAmt"]), move.amount_total)
        self.assertEqual(float(inv["TxnTaxDetail"]["TotalTax"]), move.amount_tax)
        codes = [line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in inv["Line"]
                 if line["DetailType"] == "SalesItemLineDetail"]
        self.assertEqual(codes, ["3", "4", "8"])
        self.assertEqual(inv["GlobalTaxCalculation"], "TaxExcluded")
        self.assertEqual(inv["CurrencyRef"]["value"], "CAD")


@tagged("post_install", "-at_install")
class TestInvoiceRetries(QboInvoiceCase):

    def test_lost_answer_then_new_requestids_links_not_duplicates(self):
        """QBO applies a batch and the answer is lost beyond the client's quick retries: the
        chunk is queued again and re-sent later with new requestids. The invoices QBO already
        holds under their numbers are found and linked; no 6140, no second copy."""
        moves = self.env["account.move"]
        for _i in range(5):
            moves |= self.invoice()
        moves.with_user(self.user).action_qbo_push()
        self.sim.set_faults(self.US_REALM, lost_rate=1.0)
        self.drain(max_retries=0)
        self.assertEqual(set(moves.mapped("qbo_state")), {"queued"}, "outcome unknown: still queued")
        self.sim.set_faults(self.US_REALM)
        self.env["qbo.job"].search([("state", "=", "pending")]).write({"next_attempt_at": "2000-01-01 00:00:00"})
        self.drain()
        self.assertEqual(set(moves.mapped("qbo_state")), {"synced"}, moves.mapped("qbo_error"))
        for move in moves:
            copies = [inv for inv in self.qbo("Invoice") if inv.get("DocNumber") == move.name]
            self.assertEqual(len(copies), 1, f"{move.name} is in QuickBooks once")
            self.assertEqual(move.qbo_id, copies[0]["Id"])

    def test_number_held_by_another_document_is_explained(self):
        move = self.invoice()
        other = self.env["res.partner"].create({"name": "Someone Else", "is_company": True, "qbo_hub": "active"})
        self.drain()
        # somebody typed an invoice with the same number for another customer in QuickBooks
        client = self.company._qbo_client()
        client.create("Invoice", {"CustomerRef": {"value": other.qbo_id}, "DocNumber": move.name,
                                  "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 10.0,
                                            "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]})
        counters = self.sim.counters(self.US_REALM)
        writes = counters.get("batch_items", 0) + counters.get("create", 0)   # in a batch or alone
        move.with_user(self.user).action_qbo_push()
        self.drain()
        self.assertEqual(move.qbo_state, "error")
        self.assertIn("already holds Invoice", move.qbo_error)
        self.assertIn("Link QuickBooks invoice", move.qbo_error)
        self.assertEqual(len([i for i in self.qbo("Invoice") if i.get("DocNumber") == move.name]), 1)
        counters = self.sim.counters(self.US_REALM)
        self.assertLessEqual(counters.get("batch_items", 0) + counters.get("create", 0) - writes, 3,
                             "only lookups were sent, no create")
