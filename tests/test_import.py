import json
import time

from odoo.tests import tagged

from .test_sync_customers import QboSyncCase


class QboImportCase(QboSyncCase):

    def run_import(self, kind, max_pages=None, page_size=None):
        imp = self.env["qbo.import"].with_user(self.manager)._qbo_start(kind, self.company)
        if page_size:
            imp.page_size = page_size
        self.env.flush_all()  # the import reads and writes through cursors of its own
        imp._qbo_run(max_pages=max_pages)
        self.env.invalidate_all()
        return imp

    def partner_of(self, qbo_id):
        link = self.env["qbo.link"].search([("company_id", "=", self.company.id), ("res_model", "=", "res.partner"),
                                            ("qbo_id", "=", qbo_id)])
        return self.env["res.partner"].browse(link.res_id)

    def product_of(self, qbo_id):
        link = self.env["qbo.link"].search([("company_id", "=", self.company.id),
                                            ("res_model", "=", "product.product"), ("qbo_id", "=", qbo_id)])
        return self.env["product.product"].browse(link.res_id)


@tagged("post_install", "-at_install")
class TestImport(QboImportCase):

    def test_import_customers(self):
        net30 = self.env["account.payment.term"].create({"name": "Net 30 (QBO)"})
        term_ref = self.env["qbo.reference"].search([("company_id", "=", self.company.id), ("kind", "=", "term"),
                                                     ("qbo_id", "=", "3")])
        net30.with_company(self.company).qbo_term_ref_id = term_ref
        store = self.sim._company(self.US_REALM)
        store.data["Customer"]["1"]["ShipAddr"] = {"Line1": "9 Harbour Rd", "City": "Monterey",
                                                  "CountrySubDivisionCode": "CA", "PostalCode": "93940",
                                                  "Country": "US"}
        store.data["Customer"]["1"]["PrimaryPhone"] = {"FreeFormNumber": "(650) 555-3311"}
        imp = self.run_import("customer")
        self.assertEqual(imp.state, "done", imp.error_message)
        self.assertEqual(imp.progress, 100.0)
        self.assertEqual((imp.total, imp.created_count, imp.linked_count), (3, 3, 0))

        amy = self.partner_of("1")
        self.assertEqual(amy.name, "Amy's Bird Sanctuary")
        self.assertEqual(amy.email, "birds@example.com")
        self.assertEqual(amy.phone, "(650) 555-3311")
        self.assertEqual((amy.street, amy.city, amy.zip), ("12 Ocean Dr.", "Half Moon Bay", "94213"))
        self.assertEqual(amy.country_id.code, "US")
        self.assertEqual(amy.state_id.code, "CA")
        self.assertEqual(amy.with_company(self.company).qbo_hub, "active")
        self.assertEqual(amy.qbo_state, "synced")
        shipping = amy.child_ids.filtered(lambda c: c.type == "delivery")
        self.assertEqual(shipping.mapped("city"), ["Monterey"])

        bill = self.partner_of("2")
        self.assertEqual(bill.with_company(self.company).property_payment_term_id, net30)
        branch = self.partner_of("4")
        self.assertEqual(branch.name, "Beach Branch")
        self.assertEqual(branch.parent_id, bill)
        self.assertEqual(branch.type, "delivery")
        self.assertEqual(branch.qbo_state, "synced")

        self.assertFalse(self.partner_of("3"), "inactive customers are not imported")
        for vendor in ("Brosnahan Insurance Agency", "Acme Supplies Vendor", "Emily Platt", "Old Customer Ltd"):
            self.assertFalse(self.env["res.partner"].search([("name", "=", vendor)]), vendor)
        self.assertFalse(self.env["qbo.job"].search([("state", "=", "pending")]), "an import pushes nothing back")
        notes = self.env["bus.bus"].sudo().search([("message", "like", "qbo_financial_hub/notify")])
        self.assertTrue(any("QuickBooks import finished" in n.message for n in notes),
                        [json.loads(n.message) for n in notes])

    def test_import_reads_iso_3_letter_countries(self):
        """Since 2025-10-31 QuickBooks answers an address's Country as the ISO 3-letter code, whatever was
        written ("CAN", "FRA"): the import compares countries on codes."""
        store = self.sim._company(self.US_REALM)
        store.data["Customer"]["1"]["BillAddr"].update(Country="CAN", CountrySubDivisionCode="BC")
        store.data["Customer"]["2"]["BillAddr"].update(Country="FRA", CountrySubDivisionCode="")
        imp = self.run_import("customer")
        self.assertEqual(imp.state, "done", imp.error_message)
        amy, bill = self.partner_of("1"), self.partner_of("2")
        self.assertEqual((amy.country_id.code, amy.state_id.code), ("CA", "BC"))
        self.assertEqual(bill.country_id.code, "FR")
        self.assertEqual(self.partner_of("4").country_id.code, "US")   # "USA", as the simulator answers it

    def test_rerun_creates_nothing_twice(self):
        self.run_import("customer")
        partners = self.env["res.partner"].search_count([])
        links = self.env["qbo.link"].search_count([])
        self.sim._company(self.US_REALM).data["Customer"]["1"]["PrimaryEmailAddr"] = {"Address": "amy@example.com"}
        imp = self.run_import("customer")
        self.assertEqual((imp.created_count, imp.updated_count), (0, 3))
        self.assertEqual(self.env["res.partner"].search_count([]), partners)
        self.assertEqual(self.env["qbo.link"].search_count([]), links)
        self.assertEqual(self.partner_of("1").email, "birds@example.com",
                         "an import fills empty fields only: Odoo's email is kept")

    def test_match_by_name_links_existing(self):
        existing = self.env["res.partner"].create({"name": "bill's windsurf shop", "is_company": True,
                                                   "email": "bill@windsurf.example"})
        imp = self.run_import("customer")
        self.assertEqual((imp.created_count, imp.linked_count), (2, 1))
        self.assertEqual(self.partner_of("2"), existing)
        self.assertEqual(existing.qbo_state, "synced")
        self.assertEqual(self.partner_of("4").parent_id, existing)
        self.assertEqual(self.env["res.partner"].search_count([("name", "=ilike", "bill's windsurf shop")]), 1)

    def test_match_by_email(self):
        self.company.qbo_customer_match = "email"
        existing = self.env["res.partner"].create({"name": "Amy L.", "email": "BIRDS@example.com"})
        self.run_import("customer")
        self.assertEqual(self.partner_of("1"), existing)
        self.assertEqual(existing.name, "Amy L.", "a matched partner is linked, not renamed")
        self.assertEqual(existing.city, "Half Moon Bay", "its empty address is filled")

    def test_import_products(self):
        store = self.sim._company(self.US_REALM)
        store.data["Item"]["60"] = {"Id": "60", "Name": "Free Sample", "Type": "NonInventory", "Active": True,
                                    "SyncToken": "0"}
        existing = self.env["product.product"].with_context(qbo_no_enqueue=True).create(
            {"name": "Local pump", "default_code": "PMP-1", "list_price": 1.0})
        imp = self.run_import("product")
        self.assertEqual(imp.state, "done", imp.error_message)
        self.assertEqual((imp.created_count, imp.linked_count, imp.skipped_count), (3, 1, 1))
        self.assertIn("Free Sample", imp.skipped_reasons)
        design = self.product_of("1")
        self.assertEqual((design.name, design.default_code, design.list_price, design.type),
                         ("Design", "DES-1", 75.0, "service"))
        self.assertEqual(design.description_sale, "Custom Design")
        fountain = self.product_of("3")
        self.assertEqual((fountain.type, fountain.list_price, fountain.default_code), ("consu", 275.0, False))
        self.assertEqual(self.product_of("5"), existing)
        self.assertEqual(existing.qbo_state, "synced")
        self.assertEqual((existing.name, existing.list_price), ("Local pump", 1.0),
                         "a matched product is linked, its values kept")
        self.assertFalse(self.product_of("4"), "inactive items are not imported")
        self.assertFalse(self.env["qbo.job"].search([("state", "=", "pending")]))
        again = self.run_import("product")
        self.assertEqual((again.created_count, again.updated_count), (0, 4))

    def _bulk_customers(self, count):
        store = self.sim._company(self.US_REALM)
        with store.lock:
            start = max(store.next_id.values()) + 100
            for n in range(count):
                rid = str(start + n)
                store.data["Customer"][rid] = {
                    "Id": rid, "DisplayName": f"Bulk Customer {n:05d}", "Active": True, "Job": False,
                    "SyncToken": "0", "PrimaryEmailAddr": {"Address": f"bulk{n}@example.com"},
                    "BillAddr": {"Line1": f"{n} Main St", "City": "Springfield", "Country": "US"}}
            store._renumber()

    def test_paging_and_resume(self):
        self._bulk_customers(2100)
        started = time.monotonic()
        imp = self.run_import("customer", max_pages=1)
        self.assertEqual(imp.state, "running")
        self.assertEqual((imp.total, imp.processed, imp.position), (2103, 1000, 1001))
        self.assertAlmostEqual(imp.progress, 100.0 * 1000 / 2103, places=3)
        # the worker dies here: the next cron run resumes at the stored position
        queries_before = self.sim.counters(self.US_REALM).get("query", 0)
        self.env.flush_all()
        imp._qbo_run()
        self.env.invalidate_all()
        self.assertEqual(imp.state, "done", imp.error_message)
        self.assertEqual(imp.processed, 2103)
        self.assertLessEqual(self.sim.counters(self.US_REALM).get("query", 0) - queries_before, 4)
        self.assertEqual(imp.created_count, 2103)
        self.assertEqual(self.env["res.partner"].search_count([("name", "=like", "Bulk Customer %")]), 2100)
        self.assertEqual(self.env["qbo.link"].search_count([("company_id", "=", self.company.id),
                                                            ("res_model", "=", "res.partner")]), 2103)
        self.assertLess(time.monotonic() - started, 120)

    def test_interrupted_page_is_redone_without_duplicates(self):
        self._bulk_customers(300)
        imp = self.run_import("customer", max_pages=1, page_size=200)
        # a crash after a page was applied but before its position was saved: the page is redone
        imp.write({"position": 1, "processed": 0, "created_count": 0})
        self.env.flush_all()
        imp._qbo_run()
        self.env.invalidate_all()
        self.assertEqual(imp.state, "done")
        self.assertEqual(imp.created_count, 103)
        self.assertEqual(imp.updated_count, 200)
        self.assertEqual(self.env["res.partner"].search_count([("name", "=like", "Bulk Customer %")]), 300)

    def test_cron_runs_queued_imports(self):
        imp = self.env["qbo.import"].with_user(self.manager)._qbo_start("customer", self.company)
        self.assertEqual(imp, self.env["qbo.import"]._qbo_start("customer", self.company), "one at a time")
        self.env.flush_all()
        self.env["qbo.import"]._cron_process()
        self.env.invalidate_all()
        self.assertEqual(imp.state, "done")

    def test_not_connected(self):
        self.company.qbo_state = "disconnected"
        with self.assertRaises(Exception):
            self.env["qbo.import"]._qbo_start("customer", self.company)
