"""Browser tours (headless Chromium), run by `make test` as the `tours` suite (tag qbo_tour).

The push to QuickBooks is asynchronous (a cron drains the queue): a tour does what a person
does, the test drains the queue from Python as the cron would, and a second tour checks what
the person then sees. The simulator's consent page is on another origin, where a tour cannot
follow: the consent is given from Python, as a browser would post it, and a tour checks the
Settings page before and after."""
from urllib.parse import urljoin, urlparse

import requests

from odoo import http
from odoo.tests import HttpCase, tagged

from ..simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from .common import QboCommonMixin
from .test_connection import _FormParser


class QboTourCase(QboCommonMixin, HttpCase):
    """A browser-ready HttpCase on the simulator: admin is a QuickBooks manager, budgets wide."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._qbo_setup_simulator()
        # Read every manifest once, here: the browser's first requests would otherwise do it
        # in several server threads at once, and CPython 3.11's ast.parse is not safe for that
        # ("AST constructor recursion depth mismatch", a 500 on the first asset bundle).
        if hasattr(http.root, "statics"):  # Odoo 18 (19 has no such property)
            http.root.statics  # noqa: B018 - a lazy property, computed on first access

    def setUp(self):
        super().setUp()
        self._qbo_reset_simulator()
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("qbo_financial_hub.batches_per_minute", 100000)
        ICP.set_param("qbo_financial_hub.requests_per_minute", 100000)
        self.company = self.env.company
        self.admin = self.env.ref("base.user_admin")
        self.admin.write({"groups_id": [(4, self.env.ref("qbo_financial_hub.group_qbo_manager").id)]})

    def connect(self):
        self.qbo_configure(self.company, self.US_REALM)
        self.company.action_qbo_refresh_references()
        income = self.env["qbo.reference"].search([("company_id", "=", self.company.id), ("kind", "=", "account"),
                                                   ("account_type", "=", "Income")], limit=1)
        self.company.write({"qbo_income_account_id": income.id, "qbo_sync_customers": True})
        self.env.flush_all()

    def drain(self):
        self.env.flush_all()
        self.env["qbo.job"]._qbo_process_company(
            self.company.id, client_options={"max_retries": 2, "sleep": lambda seconds: None})
        self.env.invalidate_all()


@tagged("post_install", "-at_install", "qbo_tour")
class TestTours(QboTourCase):

    def test_toggle_customer_and_see_green_badge(self):
        self.connect()
        partner = self.env["res.partner"].create({"name": "Tour Toggle Co", "is_company": True})
        self.env.flush_all()
        self.start_tour(f"/odoo/action-qbo_financial_hub.res_partner_qbo_action/{partner.id}",
                        "qbo_partner_toggle", login="admin")
        self.env.invalidate_all()
        self.assertEqual(partner.with_company(self.company).qbo_hub, "active")
        self.assertEqual(partner.qbo_state, "queued")
        self.drain()
        self.assertEqual(partner.qbo_state, "synced", partner.qbo_error)
        self.assertEqual([c["DisplayName"] for c in self.sim.entities(self.US_REALM, "Customer")
                          if c["Id"] == partner.qbo_id], ["Tour Toggle Co"])
        self.start_tour(f"/odoo/action-qbo_financial_hub.res_partner_qbo_action/{partner.id}",
                        "qbo_partner_badge_synced", login="admin")

    def test_bulk_link_from_the_list(self):
        self.connect()
        partners = self.env["res.partner"].create([{"name": f"Tour Bulk {c}", "is_company": True} for c in "ABC"])
        self.env.flush_all()
        self.start_tour("/odoo/action-qbo_financial_hub.res_partner_qbo_action", "qbo_partner_bulk_link",
                        login="admin")
        self.env.invalidate_all()
        self.assertEqual(set(partners.mapped("qbo_state")), {"queued"})
        self.drain()
        self.assertEqual(set(partners.mapped("qbo_state")), {"synced"})

    def test_dashboard_error_to_record(self):
        self.connect()
        self.company.qbo_sync_customers = False
        failing = self.env["res.partner"].create({"name": "Tour Failing", "is_company": True, "qbo_hub": "active"})
        self.drain()
        self.assertEqual(failing.qbo_state, "error")
        self.start_tour("/odoo/action-qbo_financial_hub.qbo_dashboard_action", "qbo_dashboard_error", login="admin")

    def test_invoice_link_and_unlink(self):
        if "qbo_state" not in self.env["account.move"]._fields:
            self.skipTest("invoices are not synced in this version")
        self.connect()
        customer = self.env["res.partner"].create({"name": "Tour Invoice Co", "is_company": True, "qbo_hub": "active"})
        self.drain()
        self.assertEqual(customer.qbo_state, "synced", customer.qbo_error)
        self.sim._company(self.US_REALM).write("Invoice", {
            "DocNumber": "QB-77", "TxnDate": "2025-03-14", "CustomerRef": {"value": customer.qbo_id},
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 100.0,
                      "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": 100.0}}]})
        move = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": customer.id, "invoice_date": "2025-03-14",
            "invoice_line_ids": [(0, 0, {"name": "Design work", "quantity": 1, "price_unit": 100.0, "tax_ids": [(5,)]})]})
        move.action_post()
        self.assertEqual(move.amount_total, 100.0)
        self.env.flush_all()
        self.start_tour(f"/odoo/action-account.action_move_out_invoice_type/{move.id}", "qbo_invoice_link_unlink",
                        login="admin")
        self.env.invalidate_all()
        self.assertEqual(move.qbo_state, "none")
        self.assertFalse(move.qbo_id)
        self.assertEqual(len(self.sim.entities(self.US_REALM, "Invoice")), 1, "QuickBooks itself is not changed")

    def test_connect_through_settings(self):
        self.qbo_configure(self.company, connect=False)
        redirect_uri = self.company._qbo_redirect_uri()
        self.sim.register_app(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, [redirect_uri])
        # what the Settings button does: /qbo/oauth/start, then the consent page on the simulator
        self.authenticate("admin", "admin")
        _page, start = self.qbo_oauth_start(self.company.id)
        authorize_url = start.headers["Location"]
        page = requests.get(authorize_url, timeout=10)
        form = _FormParser()
        form.feed(page.text)
        data = dict(form.fields)
        name = next((n for n, _v in form.realms if n), "realm_id")
        data[name] = self.US_REALM
        answer = requests.post(urljoin(authorize_url, form.action or ""), data=data, allow_redirects=False, timeout=10)
        callback = urlparse(answer.headers["Location"])
        self.url_open(f"{callback.path}?{callback.query}", allow_redirects=False)
        self.env.invalidate_all()
        self.assertEqual(self.company.qbo_state, "connected")
        self.start_tour("/odoo/action-account.action_account_config", "qbo_settings_connected", login="admin")
