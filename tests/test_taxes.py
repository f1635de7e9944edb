"""Receivables agree to the cent (issue 13, points 1-4): tax-included prices, group taxes, fiscal
positions, cash rounding, early-payment discounts, per-line rounding, currencies, local dates and
lines without a product, on the US and on the Canadian company. Every push is checked the way an
accountant would: QuickBooks' TotalAmt and TotalTax against Odoo's amount_total and amount_tax."""
from odoo import Command
from odoo.tests import new_test_user, tagged

from .test_invoices import QboCanadaCase, QboInvoiceCase


class SameTotalsMixin:

    def assert_same_totals(self, record, remote, total=None, tax=None):
        total = record.amount_total if total is None else total
        tax = record.amount_tax if tax is None else tax
        self.assertEqual(round(float(remote["TotalAmt"]) * 100), round(total * 100),
                         f"QuickBooks total {remote['TotalAmt']} against Odoo's {total}")
        self.assertEqual(round(float(remote["TxnTaxDetail"].get("TotalTax") or 0) * 100), round(tax * 100),
                         f"QuickBooks tax {remote['TxnTaxDetail'].get('TotalTax')} against Odoo's {tax}")

    @staticmethod
    def item_lines(remote):
        return [line for line in remote["Line"] if line["DetailType"] == "SalesItemLineDetail"]

    @staticmethod
    def rate_amounts(remote):
        return {t["TaxLineDetail"]["TaxRateRef"]["value"]: t["Amount"] for t in remote["TxnTaxDetail"]["TaxLine"]}

    def cash_rounding(self, company, strategy):
        Account = self.env["account.account"].with_company(company)
        income = Account.search([("company_ids", "in", company.id), ("account_type", "=", "income")], limit=1)
        expense = Account.search([("company_ids", "in", company.id), ("account_type", "=", "expense")], limit=1)
        return self.env["account.cash.rounding"].with_company(company).create({
            "name": f"Nickel {strategy}", "rounding": 0.05, "strategy": strategy, "rounding_method": "HALF-UP",
            "profit_account_id": income.id, "loss_account_id": expense.id})

    def account_item_scenario(self, company, ref, make_invoice, drain, push, taxes, realm):
        """A line without a product on an income account mapped to another QuickBooks account
        than the default item's: refused before sending (the income would land elsewhere), then
        sent with the item picked for that account, which books on the account's QuickBooks one."""
        env = self.env(context=dict(self.env.context, allowed_company_ids=[company.id]))
        company.qbo_line_product_id = self.services
        account = env["account.account"].create({"code": f"4009{company.id:02d}", "name": "Storage income",
                                                 "account_type": "income"}).with_company(company)
        move = make_invoice([Command.create({"name": "Storage, March", "quantity": 2, "price_unit": 40.25,
                                             "account_id": account.id, "tax_ids": [Command.set(taxes.ids)]})])
        self.assertEqual(move.invoice_line_ids.account_id, account)
        self.assertFalse(move._qbo_preflight(company), "the account is not mapped: the default item is used")
        account.qbo_account_ref_id = ref("account", "2")
        booked = self.services.with_company(company)._qbo_income_ref(company)
        self.assertNotEqual(booked.qbo_id, "2")
        problems = "\n".join(move._qbo_preflight(company))
        self.assertIn(f"its account {account.display_name} is mapped to the QuickBooks account Services", problems)
        self.assertIn(f"books income on {booked.name}", problems)
        storage = env["product.product"].create({
            "name": "Storage", "default_code": f"STO-{company.id}", "type": "service", "company_id": company.id,
            "taxes_id": [Command.clear()], "property_account_income_id": account.id})
        drain()
        storage = storage.with_company(company)
        self.assertEqual(storage.qbo_state, "synced", storage.qbo_error)
        item = [i for i in self.sim.entities(realm, "Item") if i["Id"] == storage.qbo_id][0]
        self.assertEqual(item["IncomeAccountRef"]["value"], "2")
        account.qbo_line_product_id = storage
        self.assertFalse(move._qbo_preflight(company))
        inv = push(move)
        self.assert_same_totals(move, inv)
        line = self.item_lines(inv)[0]
        self.assertEqual(line["SalesItemLineDetail"]["ItemRef"]["value"], storage.qbo_id)
        self.assertEqual((line["Description"], line["Amount"]), ("Storage, March", 80.5))

    def epd_term(self, company, qbo_term):
        term = self.env["account.payment.term"].create({
            "name": f"2/10 Net 30 {company.name}", "company_id": company.id, "early_discount": True,
            "discount_percentage": 2, "discount_days": 10, "early_pay_discount_computation": "mixed",
            "line_ids": [Command.create({"value": "percent", "value_amount": 100, "nb_days": 30})]})
        term.with_company(company).qbo_term_ref_id = qbo_term
        return term


@tagged("post_install", "-at_install")
class TestTaxesUS(SameTotalsMixin, QboInvoiceCase):
    """The US company: lines TAX / NON, one tax code per transaction, TotalTax sent explicitly."""

    def setUp(self):
        super().setUp()
        self.services = self.env["product.product"].create({
            "name": "Odoo services", "default_code": "SVC-ODOO", "type": "service", "list_price": 0,
            "taxes_id": [Command.clear()]})
        self.drain()
        self.assertEqual(self.services.qbo_state, "synced", self.services.qbo_error)
        self.code_ca = self.ref("taxcode", "2")

    def push(self, record, realm=None):
        record.action_qbo_push()
        self.drain()
        self.assertEqual(record.qbo_state, "synced", record.qbo_error)
        return [r for r in self.qbo(record._qbo_entity, realm) if r["Id"] == record.qbo_id][0]

    def test_us_tax_included_prices(self):
        incl = self.env["account.tax"].create({
            "name": "CA 8.25% included", "amount": 8.25, "type_tax_use": "sale", "price_include_override": "tax_included",
            "qbo_tax_code_ref_id": self.code_ca.id})
        move = self.invoice(lines=[
            Command.create({"product_id": self.chair.id, "quantity": 7, "price_unit": 19.99,
                            "tax_ids": [Command.set(incl.ids)]}),
            Command.create({"product_id": self.fitting.id, "quantity": 3, "price_unit": 4.99,
                            "tax_ids": [Command.set(incl.ids)]})])
        self.assertEqual(move.amount_total, 154.9)
        inv = self.push(move)
        self.assert_same_totals(move, inv)
        self.assertNotIn("GlobalTaxCalculation", inv, "US companies have no tax-inclusive mode: lines go net")
        self.assertEqual([line["Amount"] for line in self.item_lines(inv)],
                         move.invoice_line_ids.mapped("price_subtotal"))
        self.assertEqual(inv["TxnTaxDetail"]["TxnTaxCodeRef"]["value"], "2")

    def test_us_round_per_line(self):
        self.company.tax_calculation_rounding_method = "round_per_line"
        self.assertNotIn("Rounding Method", self.company._qbo_mapping_problems() and "\n".join(
            self.company._qbo_mapping_problems()) or "")
        move = self.invoice(lines=[Command.create({"product_id": self.chair.id, "quantity": 1, "price_unit": 1.30,
                                                   "tax_ids": [Command.set(self.tax_ca.ids)]}) for _i in range(5)])
        self.assertEqual(move.amount_tax, 0.55, "per line 0.11 x 5, where QuickBooks alone computes 0.54")
        inv = self.push(move)
        self.assert_same_totals(move, inv)

    def test_us_round_globally_half_cent_lines(self):
        self.company.tax_calculation_rounding_method = "round_globally"
        move = self.invoice(lines=[Command.create({"product_id": self.fitting.id, "quantity": 1, "price_unit": 1.05,
                                                   "discount": 50, "tax_ids": [Command.clear()]}) for _i in range(2)])
        self.assertEqual(move.amount_total, 1.05, "0.525 twice, rounded once; line by line it would be 1.06")
        inv = self.push(move)
        self.assert_same_totals(move, inv)

    def test_us_fiscal_position(self):
        tax_ny = self.env["account.tax"].create({"name": "NYC 8.875%", "amount": 8.875, "type_tax_use": "sale",
                                                 "qbo_tax_code_ref_id": self.ref("taxcode", "3").id})
        position = self.env["account.fiscal.position"].create({"name": "New York City", "tax_ids": [
            Command.create({"tax_src_id": self.tax_ca.id, "tax_dest_id": tax_ny.id})]})
        self.customer.property_account_position_id = position
        move = self.invoice(lines=[Command.create({"product_id": self.chair.id, "quantity": 3, "price_unit": 33.33})])
        self.assertEqual(move.invoice_line_ids.tax_ids, tax_ny)
        inv = self.push(move)
        self.assert_same_totals(move, inv)
        self.assertEqual(inv["TxnTaxDetail"]["TxnTaxCodeRef"]["value"], "3")

    def test_us_cash_rounding_line_and_biggest_tax(self):
        self.company.qbo_line_product_id = self.services
        for strategy in ("add_invoice_line", "biggest_tax"):
            move = self.invoice(invoice_cash_rounding_id=self.cash_rounding(self.company, strategy).id)
            self.assertEqual(move.amount_total, 441.75)
            inv = self.push(move)
            self.assert_same_totals(move, inv)
            if strategy == "add_invoice_line":
                rounding = self.item_lines(inv)[-1]
                self.assertEqual(rounding["Amount"], 0.02)
                self.assertEqual(rounding["SalesItemLineDetail"]["ItemRef"]["value"], self.services.qbo_id)
                self.assertEqual(rounding["SalesItemLineDetail"]["TaxCodeRef"]["value"], "NON")

    def test_us_early_payment_discount(self):
        self.company.qbo_line_product_id = self.services
        term = self.epd_term(self.company, self.ref("term", "3"))
        move = self.invoice(invoice_payment_term_id=term.id)
        self.assertTrue(move.line_ids.filtered(lambda l: l.display_type == "epd"))
        inv = self.push(move)
        self.assert_same_totals(move, inv)
        self.assertEqual(len(self.item_lines(inv)), 4, "the two products and the two discount lines")

    def test_us_line_without_product(self):
        move = self.invoice(lines=[Command.create({"name": "Consulting, March", "quantity": 2, "price_unit": 150,
                                                   "tax_ids": [Command.set(self.tax_ca.ids)]})])
        self.assertIn("'Consulting, March' has no product", "\n".join(move._qbo_preflight(self.company)))
        self.company.qbo_line_product_id = self.services
        inv = self.push(move)
        self.assert_same_totals(move, inv)
        line = self.item_lines(inv)[0]
        self.assertEqual(line["Description"], "Consulting, March")
        self.assertEqual(line["SalesItemLineDetail"]["ItemRef"]["value"], self.services.qbo_id)
        self.assertEqual((line["SalesItemLineDetail"]["Qty"], line["SalesItemLineDetail"]["UnitPrice"]), (2, 150))
        self.assertEqual(line["SalesItemLineDetail"]["TaxCodeRef"]["value"], "TAX")
        # the line's income account names another item
        freight = self.env["product.product"].create({"name": "Freight", "default_code": "FRT-1", "type": "service",
                                                      "taxes_id": [Command.clear()]})
        move2 = self.invoice(lines=[Command.create({"name": "Freight to Boston", "quantity": 1, "price_unit": 80,
                                                    "tax_ids": [Command.clear()]})])
        move2.invoice_line_ids.account_id.with_company(self.company).qbo_line_product_id = freight
        move2.action_qbo_push()
        self.drain()  # the item first, the invoice waits for it
        self.pending_jobs(move2).next_attempt_at = "2000-01-01 00:00:00"
        inv2 = self.push(move2)
        self.assertEqual(self.item_lines(inv2)[0]["SalesItemLineDetail"]["ItemRef"]["value"], freight.qbo_id)
        self.assert_same_totals(move2, inv2)

    def test_us_line_without_product_on_a_mapped_income_account(self):
        self.account_item_scenario(self.company, self.ref, lambda lines: self.invoice(lines=lines), self.drain,
                                   self.push, self.tax_ca, self.US_REALM)

    def test_us_foreign_currency_at_the_booked_rate(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        self.env["res.currency.rate"].create({"currency_id": eur.id, "name": "2025-01-01", "rate": 0.8})
        pricelist = self.env["product.pricelist"].create({"name": "EUR", "currency_id": eur.id})
        euro_customer = self.env["res.partner"].create({"name": "Euro Shop GmbH", "is_company": True,
                                                        "property_product_pricelist": pricelist.id, "qbo_hub": "active"})
        self.drain()
        move = self.invoice(partner_id=euro_customer.id, currency_id=eur.id)
        # a rate entered after the invoice was booked does not change it
        self.env["res.currency.rate"].create({"currency_id": eur.id, "name": "2025-03-14", "rate": 0.5})
        inv = self.push(move)
        self.assertEqual(move.invoice_currency_rate, 0.8)
        self.assertEqual(float(inv["ExchangeRate"]), 1.25)
        self.assertEqual(inv["CurrencyRef"]["value"], "EUR")
        self.assert_same_totals(move, inv)

    def test_us_home_currency_mismatch(self):
        """An Odoo company in EUR connected to the US QuickBooks company (home USD)."""
        eur, usd = self.env.ref("base.EUR"), self.env.ref("base.USD")
        eur.active = True
        branch = self.env["res.company"].create({"name": "Euro Branch GmbH", "currency_id": eur.id})
        self.env.user.company_ids |= branch
        self.env["account.chart.template"].try_loading("generic_coa", company=branch, install_demo=False)
        branch.currency_id = eur
        self.env["res.currency.rate"].search([("currency_id", "=", usd.id)]).unlink()
        self.qbo_configure(branch, self.US2_REALM)
        branch.action_qbo_refresh_references()
        ref = self.env["qbo.reference"].search
        branch.qbo_income_account_id = ref([("company_id", "=", branch.id), ("kind", "=", "account"),
                                            ("qbo_id", "=", "2")])
        problems = "\n".join(branch._qbo_mapping_problems())
        self.assertIn("home currency USD is not the company currency EUR", problems)
        env = self.env(context=dict(self.env.context, allowed_company_ids=[branch.id]))
        pricelist = env["product.pricelist"].create({"name": "EUR branch", "currency_id": eur.id,
                                                     "company_id": branch.id})
        customer = env["res.partner"].create({"name": "Berlin Kunde", "is_company": True})
        customer.with_company(branch).write({"property_product_pricelist": pricelist.id, "qbo_hub": "active"})
        service = env["product.product"].create({"name": "Euro services", "default_code": "SVC-EUR",
                                                 "type": "service", "taxes_id": [Command.clear()]})
        branch.qbo_line_product_id = service
        move = env["account.move"].create({
            "move_type": "out_invoice", "partner_id": customer.id, "invoice_date": "2025-03-14",
            "invoice_line_ids": [Command.create({"name": "Beratung", "quantity": 1, "price_unit": 200,
                                                 "tax_ids": [Command.clear()]})]})
        move.action_post()
        self.assertIn("no exchange rate between EUR and the QuickBooks home currency USD",
                      "\n".join(move._qbo_preflight(branch)))

        def drain_branch():
            self.env.flush_all()
            self.env["qbo.job"]._qbo_process_company(branch.id, client_options={
                "max_retries": 2, "sleep": lambda seconds: None})
            self.env.invalidate_all()
        # rates of USD in the EUR company: QuickBooks' rate is derived from them
        self.env["res.currency.rate"].create({"currency_id": usd.id, "name": "2025-01-01", "rate": 1.1,
                                              "company_id": branch.id})
        self.assertNotIn("home currency", "\n".join(branch._qbo_mapping_problems()))
        move.with_company(branch).action_qbo_push()
        drain_branch()
        for _round in range(3):
            self.env["qbo.job"].search([("state", "=", "pending")]).write({"next_attempt_at": "2000-01-01 00:00:00"})
            drain_branch()
        move = move.with_company(branch)
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        inv = [r for r in self.qbo("Invoice", self.US2_REALM) if r["Id"] == move.qbo_id][0]
        self.assertEqual(inv["CurrencyRef"]["value"], "EUR")
        self.assertEqual(float(inv["ExchangeRate"]), 1.1, "USD per EUR, from Odoo's rate of USD in the EUR company")
        self.assert_same_totals(move, inv)
        self.assertEqual(float(inv["HomeTotalAmt"]), 220.0)

    def test_us_late_evening_quotation(self):
        seller = new_test_user(self.env, login="ny_seller", tz="America/New_York",
                               groups="base.group_user,sales_team.group_sale_salesman")
        order = self.env["sale.order"].create({
            "partner_id": self.customer.id, "user_id": seller.id, "date_order": "2025-03-14 03:30:00",
            "validity_date": "2025-04-30", "order_line": [
                Command.create({"product_id": self.chair.id, "product_uom_qty": 3, "price_unit": 19.99,
                                "tax_id": [Command.set(self.tax_ca.ids)]})]})
        est = self.push(order)
        self.assertEqual(est["TxnDate"], "2025-03-13", "23:30 in New York on the 13th, 03:30 UTC on the 14th")
        self.assertEqual(est["ExpirationDate"], "2025-04-30")
        self.assert_same_totals(order, est)


@tagged("post_install", "-at_install")
class TestTaxesCanada(SameTotalsMixin, QboCanadaCase):
    """The Canadian company: a tax code on every line, per-rate tax lines sent explicitly."""

    def setUp(self):
        super().setUp()
        self.services = self.ca_env["product.product"].create({
            "name": "Maple services", "default_code": "MSV-1", "type": "service", "taxes_id": [Command.clear()]})
        self.drain_ca()
        self.Tax = self.env["account.tax"].with_company(self.ca)

    def push(self, record):
        record = record.with_company(self.ca)
        record.action_qbo_push()
        self.drain_ca()
        record = record.with_company(self.ca)
        self.assertEqual(record.qbo_state, "synced", record.qbo_error)
        return [r for r in self.qbo(record._qbo_entity, self.CA_REALM) if r["Id"] == record.qbo_id][0]

    def ca_invoice(self, lines, **vals):
        values = {"move_type": "out_invoice", "partner_id": self.customer.id, "invoice_date": "2025-03-14",
                  "invoice_line_ids": lines}
        values.update(vals)
        move = self.ca_env["account.move"].create(values)
        move.action_post()
        return move

    def line(self, product, qty, price, taxes):
        return Command.create({"product_id": product.id, "quantity": qty, "price_unit": price,
                               "tax_ids": [Command.set(taxes.ids)]})

    def test_ca_tax_included_hst(self):
        hst_incl = self.Tax.create({"name": "HST 13% included", "amount": 13, "type_tax_use": "sale",
                                    "company_id": self.ca.id, "price_include_override": "tax_included",
                                    "qbo_tax_code_ref_id": self.ca_ref("taxcode", "4").id})
        move = self.ca_invoice([self.line(self.chair, 3, 19.99, hst_incl), self.line(self.fitting, 1, 4.99, hst_incl),
                                self.line(self.fitting, 1, 10, self.gst)])
        inv = self.push(move)
        self.assertEqual(inv["GlobalTaxCalculation"], "TaxInclusive")
        self.assert_same_totals(move, inv)
        gross = [line["SalesItemLineDetail"]["TaxInclusiveAmt"] for line in self.item_lines(inv)]
        self.assertEqual(gross, move.invoice_line_ids.mapped("price_total"), "the lines as Odoo states them")
        self.assertEqual(gross[:2], [59.97, 4.99])

    def test_ca_group_tax_gst_pst_bc(self):
        pst = self.Tax.create({"name": "PST BC 7%", "amount": 7, "type_tax_use": "sale", "company_id": self.ca.id,
                               "qbo_tax_code_ref_id": self.ca_ref("taxcode", "6").id})
        group = self.Tax.create({"name": "GST + PST BC 12%", "amount_type": "group", "type_tax_use": "sale",
                                 "company_id": self.ca.id, "children_tax_ids": [Command.set((self.gst | pst).ids)]})
        # listed on the mapping page, carried through its children's codes by QuickBooks' combined code
        action = self.env.ref("qbo_financial_hub.account_tax_qbo_action")
        self.assertIn(group, self.Tax.search(eval(action.domain)))
        self.assertEqual(group.qbo_tax_code_used_id, self.ca_ref("taxcode", "5"))
        self.assertFalse(any("GST + PST" in p for p in self.ca._qbo_mapping_problems()))
        move = self.ca_invoice([self.line(self.chair, 1, 10.05, group), self.line(self.chair, 1, 10.05, group)])
        self.assertEqual(move.amount_tax, 2.40, "per line and per child (GST 0.50, PST 0.70, twice); QuickBooks "
                                                "alone computes 2.41 (5 % and 7 % of 20.10)")
        inv = self.push(move)
        self.assert_same_totals(move, inv)
        self.assertEqual({line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in self.item_lines(inv)}, {"5"})
        self.assertEqual(self.rate_amounts(inv), {"1": 1.0, "3": 1.4})
        # or the group mapped as a whole
        group.qbo_tax_code_ref_id = self.ca_ref("taxcode", "5")
        move2 = self.ca_invoice([self.line(self.fitting, 3, 33.33, group)])
        self.assert_same_totals(move2, self.push(move2))

    def test_ca_group_without_combined_code_refused(self):
        hst_child = self.Tax.create({"name": "HST child 13%", "amount": 13, "type_tax_use": "sale",
                                     "company_id": self.ca.id, "qbo_tax_code_ref_id": self.ca_ref("taxcode", "4").id})
        group = self.Tax.create({"name": "GST + HST (nonsense)", "amount_type": "group", "type_tax_use": "sale",
                                 "company_id": self.ca.id, "children_tax_ids": [Command.set((self.gst | hst_child).ids)]})
        self.assertIn("no QuickBooks code combines", group.qbo_tax_code_problem)
        move = self.ca_invoice([self.line(self.chair, 1, 100, group)])
        move.with_company(self.ca).action_qbo_push()
        self.drain_ca()
        move = move.with_company(self.ca)
        self.assertEqual(move.qbo_state, "error")
        self.assertIn("no QuickBooks code combines", move.qbo_error)
        self.assertFalse(self.qbo("Invoice", self.CA_REALM))

    def test_ca_fiscal_position(self):
        position = self.ca_env["account.fiscal.position"].create({"name": "Out of province", "company_id": self.ca.id,
                                                                  "tax_ids": [Command.create({
                                                                      "tax_src_id": self.hst.id,
                                                                      "tax_dest_id": self.gst.id})]})
        self.customer.with_company(self.ca).property_account_position_id = position
        move = self.ca_invoice([Command.create({"product_id": self.fitting.id, "quantity": 3, "price_unit": 33.33})])
        self.assertEqual(move.invoice_line_ids.tax_ids, self.gst)
        inv = self.push(move)
        self.assert_same_totals(move, inv)
        self.assertEqual(self.item_lines(inv)[0]["SalesItemLineDetail"]["TaxCodeRef"]["value"], "3")

    def test_ca_round_per_line(self):
        self.ca.tax_calculation_rounding_method = "round_per_line"
        move = self.ca_invoice([self.line(self.chair, 1, 1.30, self.gst) for _i in range(5)])
        self.assertEqual(move.amount_tax, 0.35, "per line 0.07 x 5, where QuickBooks alone computes 0.33")
        inv = self.push(move)
        self.assert_same_totals(move, inv)
        self.assertEqual(self.rate_amounts(inv), {"1": 0.35})

    def test_ca_cash_rounding(self):
        self.ca.qbo_line_product_id = self.services
        for strategy in ("add_invoice_line", "biggest_tax"):
            move = self.ca_invoice([self.line(self.chair, 3, 10.01, self.gst), self.line(self.fitting, 1, 7.77, self.hst)],
                                   invoice_cash_rounding_id=self.cash_rounding(self.ca, strategy).id)
            self.assertEqual(round(move.amount_total * 100) % 5, 0)
            inv = self.push(move)
            self.assert_same_totals(move, inv)
            if strategy == "add_invoice_line":
                self.assertEqual(self.item_lines(inv)[-1]["SalesItemLineDetail"]["TaxCodeRef"]["value"], "8",
                                 "the rounding line carries the zero-rated code")

    def test_ca_early_payment_discount(self):
        self.ca.qbo_line_product_id = self.services
        term = self.epd_term(self.ca, self.ca_ref("term", "3"))
        move = self.ca_invoice([self.line(self.chair, 3, 33.33, self.gst), self.line(self.fitting, 1, 77.77, self.hst)],
                               invoice_payment_term_id=term.id)
        inv = self.push(move)
        self.assert_same_totals(move, inv)
        epd = move.line_ids.filtered(lambda l: l.display_type == "epd")
        self.assertEqual(len(epd), 3, "a taxed discount line per tax and their untaxed twin")
        codes = [line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in self.item_lines(inv)]
        self.assertEqual(codes, ["3", "4"] + [line.tax_ids.qbo_tax_code_ref_id.qbo_id or "8" for line in epd.sorted("id")])

    def test_ca_line_without_product(self):
        self.ca.qbo_line_product_id = self.services
        move = self.ca_invoice([Command.create({"name": "Snow removal, February", "quantity": 4, "price_unit": 62.5,
                                                "tax_ids": [Command.set(self.gst.ids)]})])
        inv = self.push(move)
        self.assert_same_totals(move, inv)
        line = self.item_lines(inv)[0]
        self.assertEqual(line["SalesItemLineDetail"]["ItemRef"]["value"],
                         self.services.with_company(self.ca).qbo_id)
        self.assertEqual(line["SalesItemLineDetail"]["TaxCodeRef"]["value"], "3")
        self.assertEqual(line["Description"], "Snow removal, February")

    def test_ca_line_without_product_on_a_mapped_income_account(self):
        self.account_item_scenario(self.ca, self.ca_ref, self.ca_invoice, self.drain_ca, self.push, self.gst,
                                   self.CA_REALM)

    def test_ca_currency_not_enabled_refused(self):
        usd = self.env.ref("base.USD")
        self.env["res.currency.rate"].create({"currency_id": usd.id, "name": "2025-01-01", "rate": 0.7,
                                              "company_id": self.ca.id})
        move = self.ca_invoice([self.line(self.chair, 1, 100, self.gst)], currency_id=usd.id)
        self.assertIn("The currency USD is not enabled in QuickBooks", "\n".join(move._qbo_preflight(self.ca)))

    def test_ca_home_currency_mismatch(self):
        """An Odoo company in EUR connected to the Canadian QuickBooks company (home CAD, one currency)."""
        eur = self.env.ref("base.EUR")
        eur.active = True
        branch = self.env["res.company"].create({"name": "Euro Maple SARL", "currency_id": eur.id})
        self.env.user.company_ids |= branch
        self.qbo_configure(branch, self.CA2_REALM)
        branch.action_qbo_refresh_references()
        problems = "\n".join(branch._qbo_mapping_problems())
        self.assertIn("home currency CAD is not the company currency EUR and multi-currency is off", problems)

    def test_ca_late_evening_quotation(self):
        seller = new_test_user(self.env, login="bc_seller", tz="America/Vancouver", company_id=self.ca.id,
                               company_ids=[Command.set(self.ca.ids)],
                               groups="base.group_user,sales_team.group_sale_salesman")
        order = self.ca_env["sale.order"].create({
            "partner_id": self.customer.id, "user_id": seller.id, "date_order": "2025-03-14 06:30:00",
            "order_line": [Command.create({"product_id": self.chair.id, "product_uom_qty": 3, "price_unit": 10.05,
                                           "tax_id": [Command.set(self.gst.ids)]})]})
        est = self.push(order)
        self.assertEqual(est["TxnDate"], "2025-03-13", "23:30 in Vancouver on the 13th")
        self.assert_same_totals(order, est)
