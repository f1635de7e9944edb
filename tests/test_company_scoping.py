"""Each finding of issue 11, tried as a user would: company walls on queueing, imports and the
dashboard, who may toggle, push and import, the token refresh's own transaction."""
from unittest.mock import patch

import psycopg2.errors

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .test_import import QboImportCase


@tagged("post_install", "-at_install")
class TestCompanyScoping(QboImportCase):

    def setUp(self):
        super().setUp()
        self.company_b = self.env["res.company"].create({"name": "Scoping B Ltd"})
        self.qbo_configure(self.company_b, self.CA_REALM)
        self.company_b.write({"qbo_sync_products": True, "qbo_sync_customers": True})
        self.plain = new_test_user(self.env, login="qbo_plain_user", groups="base.group_user,base.group_partner_manager")
        self.user_b = new_test_user(self.env, login="qbo_user_b", groups="base.group_user,qbo_financial_hub.group_qbo_manager",
                                    company_id=self.company_b.id, company_ids=[(6, 0, [self.company_b.id])])

    def jobs(self, company, records):
        return self.env["qbo.job"].search([("company_id", "=", company.id), ("res_model", "=", records._name),
                                           ("res_id", "in", records.ids)])

    # -- queueing ------------------------------------------------------------------------
    def test_product_of_company_b_never_pushed_to_a(self):
        product = self.env["product.product"].create({"name": "B Only Widget", "default_code": "BONLY-1",
                                                      "list_price": 5.0, "company_id": self.company_b.id})
        shared = self.env["product.product"].create({"name": "Shared Widget", "default_code": "SHARED-1",
                                                     "list_price": 5.0})
        self.assertFalse(self.jobs(self.company, product), "company A does not queue company B's product")
        self.assertTrue(self.jobs(self.company_b, product), "company B queues its own product")
        self.assertTrue(self.jobs(self.company, shared), "a product of no company is everybody's")
        # a job queued before the product moved to company B is refused by the engine, unsent
        self.env["qbo.job"]._qbo_create_jobs(self.company, "product.product", shared.ids, "item")
        shared.with_context(qbo_no_enqueue=True).company_id = self.company_b
        self.drain()
        job = self.jobs(self.company, shared)
        self.assertEqual(job.state, "error")
        self.assertIn("belongs to another company", job.error_message)
        self.assertFalse(self.qbo_by_name("Item", "Shared Widget", field="Name"), "nothing reached A's QuickBooks")
        self.assertFalse(self.qbo_by_name("Item", "B Only Widget", field="Name"))
        # pushing it by hand in company A says why it is skipped
        with self.assertRaises(AccessError):  # company A's users cannot even read it
            product.with_user(self.manager).action_qbo_push()
        result = shared.with_user(self.manager).sudo().action_qbo_push()
        self.assertIn("of another company", result["params"]["message"])
        # editing a shared partner, as a user of company A alone, follows it into every company
        # where it is Active, without the user needing access to those companies
        partner = self.env["res.partner"].create({"name": "Shared Customer", "is_company": True})
        partner.with_company(self.company_b).qbo_hub = "active"
        self.jobs(self.company_b, partner).state = "cancelled"
        self.env.flush_all()
        partner.with_user(self.user).write({"email": "shared@example.com"})
        self.assertIn("pending", self.jobs(self.company_b, partner).mapped("state"))

    def test_partner_private_to_b_never_queued_for_a(self):
        partner_b = self.env["res.partner"].create({"name": "Private B Customer", "company_id": self.company_b.id})
        self.env["qbo.job"]._qbo_create_jobs(self.company, "res.partner", partner_b.ids, "customer")
        self.assertFalse(self.jobs(self.company, partner_b), "a partner private to B is never queued for A")

    # -- imports ---------------------------------------------------------------------------
    def test_user_of_a_cannot_see_or_start_imports_of_b(self):
        imp_b = self.env["qbo.import"].with_user(self.user_b).with_company(self.company_b)._qbo_start(
            "customer", self.company_b)
        imp_b.sudo().skipped_reasons = "Secret B customer: skipped"
        Import = self.env["qbo.import"].with_user(self.user)
        self.assertFalse(Import.search([("company_id", "=", self.company_b.id)]))
        with self.assertRaises(AccessError):
            imp_b.with_user(self.user).read(["skipped_reasons"])
        with self.assertRaises(AccessError):
            Import.create({"company_id": self.company_b.id, "kind": "customer"})
        with self.assertRaises(AccessError):
            self.env["qbo.import"].with_user(self.manager).create({"company_id": self.company_b.id, "kind": "customer"})
        with self.assertRaises(AccessError):
            self.env["qbo.import"].with_user(self.manager)._qbo_start("customer", self.company_b)
        with self.assertRaisesRegex(AccessError, "Only QuickBooks administrators"):
            Import._qbo_start("customer", self.company)
        with self.assertRaises(AccessError):
            imp_b.with_user(self.manager).action_cancel()

    def test_import_matches_links_and_creates_only_in_its_company(self):
        private_b = self.env["res.partner"].create({"name": "Amy's Bird Sanctuary", "is_company": True,
                                                    "company_id": self.company_b.id})
        product_b = self.env["product.product"].with_context(qbo_no_enqueue=True).create(
            {"name": "B pump", "default_code": "PMP-1", "list_price": 1.0, "company_id": self.company_b.id})
        imp = self.run_import("customer")
        self.assertEqual(imp.state, "done", imp.error_message)
        amy = self.partner_of("1")
        self.assertNotEqual(amy, private_b, "company B's private partner is not linked to A's QuickBooks")
        self.assertEqual(amy.company_id, self.company, "an imported customer belongs to the importing company")
        self.assertFalse(private_b.with_company(self.company).qbo_hub)
        self.assertFalse(self.env["qbo.link"].search([("res_model", "=", "res.partner"), ("res_id", "=", private_b.id)]))
        self.assertEqual(self.partner_of("4").company_id, self.company, "sub-customers too")
        store = self.sim._company(self.US_REALM)
        store.data["Item"]["61"] = {"Id": "61", "Name": "Pump", "Sku": "PMP-1", "Type": "NonInventory",
                                    "Active": True, "UnitPrice": 3, "SyncToken": "0"}
        imp = self.run_import("product")
        self.assertEqual(imp.state, "done", imp.error_message)
        pump = self.product_of("61")
        self.assertNotEqual(pump, product_b, "company B's product is not matched by SKU for company A")
        self.assertEqual(pump.company_id, self.company)
        self.assertEqual(product_b.list_price, 1.0)

    def test_linked_record_moved_to_b_is_skipped(self):
        self.run_import("customer")
        amy = self.partner_of("1")
        amy.company_id = self.company_b
        self.sim._company(self.US_REALM).data["Customer"]["1"]["DisplayName"] = "Amy renamed in QuickBooks"
        imp = self.run_import("customer")
        self.assertEqual(amy.name, "Amy's Bird Sanctuary", "another company's record is never reshaped")
        self.assertIn("belongs to another company", imp.skipped_reasons)

    # -- dashboard -------------------------------------------------------------------------
    def test_dashboard_is_the_current_company_only(self):
        Dashboard = self.env["qbo.dashboard"].with_user(self.manager)
        dash = Dashboard.create({"company_id": self.company_b.id})
        self.assertEqual(dash.company_id, self.company, "the client cannot choose the company")
        self.assertEqual(dash.qbo_realm_id, self.US_REALM)
        with self.assertRaises(AccessError):
            dash.write({"company_id": self.company_b.id})
        dash_b = self.env["qbo.dashboard"].with_user(self.user_b).with_company(self.company_b).create({})
        self.assertEqual(dash_b.qbo_realm_id, self.CA_REALM)
        with self.assertRaises(AccessError):
            dash_b.with_user(self.manager).read(["qbo_realm_id", "queue_length"])
        with self.assertRaises(AccessError):
            dash_b.with_user(self.manager).action_import_customers()
        self.assertFalse(self.env["qbo.import"].search([("company_id", "=", self.company_b.id)]))

    # -- who may act -----------------------------------------------------------------------
    def test_plain_user_cannot_toggle_push_or_link(self):
        Partner = self.env["res.partner"].with_user(self.plain)
        with self.assertRaisesRegex(AccessError, "Only QuickBooks users"):
            Partner.create({"name": "Sneaky Customer", "qbo_hub": "active"})
        partner = Partner.create({"name": "Honest Customer"})
        partner.write({"name": "Honest Customer Ltd", "qbo_hub": False})  # unchanged toggle: fine
        with self.assertRaisesRegex(AccessError, "Only QuickBooks users"):
            partner.write({"qbo_hub": "active"})
        with self.assertRaises(AccessError):
            partner.action_qbo_push()
        with self.assertRaises(AccessError):
            partner.action_qbo_link()
        product = self.env["product.product"].create({"name": "Plain Pushed", "list_price": 1})
        with self.assertRaises(AccessError):
            product.with_user(self.plain).action_qbo_link()
        # CSV import (base_import's load) is refused the same way, and queues nothing
        result = Partner.load(["name", "qbo_hub"], [["CSV Customer", "active"]])
        self.assertTrue(result["messages"], result)
        self.assertIn("Only QuickBooks users", str(result["messages"]))
        self.assertFalse(self.env["res.partner"].search([("name", "=", "CSV Customer")]))
        self.assertFalse(self.env["qbo.job"].search([("res_model", "=", "res.partner"),
                                                     ("res_id", "in", partner.ids)]))
        # a QuickBooks user may
        partner.with_user(self.user).write({"qbo_hub": "active"})
        self.assertTrue(self.pending_jobs(partner))

    def test_mapping_refuses_lists_of_another_company(self):
        self.company_b.action_qbo_refresh_references()
        ref_b = self.env["qbo.reference"].search([("company_id", "=", self.company_b.id), ("kind", "=", "account")],
                                                 limit=1)
        with self.assertRaises(UserError):
            self.company.qbo_income_account_id = ref_b
        term_b = self.env["qbo.reference"].search([("company_id", "=", self.company_b.id), ("kind", "=", "term")],
                                                  limit=1)
        term = self.env["account.payment.term"].create({"name": "Scoped term"})
        with self.assertRaises(UserError):
            term.with_company(self.company).qbo_term_ref_id = term_b

    def test_quickbooks_administrator_sets_up_without_being_odoo_administrator(self):
        self.assertFalse(self.manager.has_group("base.group_erp_manager"))
        self.assertFalse(self.manager.has_group("account.group_account_manager"))
        action = self.env["res.company"].with_user(self.manager).action_qbo_open_settings()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.company", self.company.id))
        company = self.company.with_user(self.manager)
        company.write({"qbo_customer_match": "email", "qbo_sync_products": False, "qbo_invoice_template": "Q-{number}"})
        self.assertEqual(self.company.qbo_customer_match, "email")
        with self.assertRaises(AccessError):
            company.write({"name": "Renamed by the QuickBooks administrator"})
        with self.assertRaises(AccessError):
            company.write({"qbo_client_secret": "not theirs"})
        with self.assertRaises(AccessError):
            self.company_b.with_user(self.manager).write({"qbo_sync_customers": False})
        with self.assertRaises(AccessError):
            self.company.with_user(self.user).write({"qbo_customer_match": "name"})
        code = self.env["qbo.reference"].search([("company_id", "=", self.company.id), ("kind", "=", "taxcode")],
                                                limit=1)
        tax = self.env["account.tax"].search([("company_id", "=", self.company.id), ("type_tax_use", "=", "sale")],
                                             limit=1)
        tax.with_user(self.manager).write({"qbo_tax_code_ref_id": code.id})
        self.assertEqual(tax.qbo_tax_code_ref_id, code)
        with self.assertRaises(AccessError):
            tax.with_user(self.manager).write({"amount": 99.0})
        with self.assertRaises(AccessError):
            tax.with_user(self.user).write({"qbo_tax_code_ref_id": False})
        term = self.env["account.payment.term"].create({"name": "Mapped by the QuickBooks administrator"})
        ref = self.env["qbo.reference"].search([("company_id", "=", self.company.id), ("kind", "=", "term")], limit=1)
        term.with_user(self.manager).write({"qbo_term_ref_id": ref.id})
        self.assertEqual(term.with_company(self.company).qbo_term_ref_id, ref)

    # -- transactions ----------------------------------------------------------------------
    def test_token_refresh_never_commits_the_callers_transaction(self):
        company = self.company.sudo()
        company.qbo_access_token_expires_at = "2020-01-01 00:00:00"
        old_refresh = company.qbo_refresh_token
        self.env.flush_all()
        cr = self.env.cr

        def busy_row():
            raise psycopg2.errors.LockNotAvailable("row locked by the caller's own transaction")

        with patch.object(type(self.registry), "cursor", side_effect=busy_row), \
                patch.object(type(cr), "commit", side_effect=AssertionError("the caller's cursor was committed")):
            token = company._qbo_refresh_access_token()
        company.invalidate_recordset()
        self.assertTrue(token)
        self.assertEqual(company.qbo_access_token, token, "the new token is in the caller's transaction")
        self.assertNotEqual(company.qbo_refresh_token, old_refresh)
