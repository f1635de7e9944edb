"""The first hour of a new user (issue 22): what the screens show, as the web client gets it."""
import json
import re
import time
from urllib.parse import parse_qs, urljoin, urlparse

import requests

from odoo import Command
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from ..simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from ..simulator import web as sim_web
from .common import QboHttpCase, QboTransactionCase
from .test_inbound import QboInboundCase
from .test_invoices import QboInvoiceCase
from .test_sync_customers import QboSyncCase


@tagged("post_install", "-at_install")
class TestSettingsForm(QboSyncCase):

    def test_the_settings_form_shows_what_the_record_holds(self):
        """The settings form opens with onchange() on a new record: every QuickBooks field must
        show what the saved settings would hold (the webhook, reconnect and disconnect URLs
        were empty boxes: computed without a dependency, onchange left them False)."""
        Settings = self.env["res.config.settings"]
        names = [name for name in Settings._fields if name.startswith("qbo_")]
        shown = Settings.onchange({}, [], dict({name: {} for name in names}, company_id={}))["value"]
        saved = Settings.create({}).read(names)[0]
        for name in names:
            field = Settings._fields[name]
            value = saved[name]
            if field.type == "many2one":
                value = value and value[0]
            if field.type in ("one2many", "many2many"):
                continue
            self.assertEqual(shown.get(name, False) if not isinstance(shown.get(name), dict) else shown[name].get("id"),
                             value, name)
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url").rstrip("/")
        self.assertEqual(shown["qbo_webhook_url"], f"{base}/qbo/webhook")
        self.assertEqual(shown["qbo_reconnect_url"], f"{base}/qbo/reconnect")
        self.assertEqual(shown["qbo_disconnect_url"], f"{base}/qbo/disconnected")


@tagged("post_install", "-at_install")
class TestReconciliationScreens(QboSyncCase):

    def test_refresh_redraws_the_open_dashboard_and_report(self):
        """The refresh runs in the background: when it is done, the open dashboard and the
        report are told to redraw (they kept "0" differences and no date until reloaded)."""
        self.env["res.partner"].create({"name": "Harbour Lights Ltd", "is_company": True, "qbo_hub": "active"})
        self.drain()
        Bus = self.env["bus.bus"].sudo()
        before = Bus.search([]).ids
        self.company._qbo_reconcile()
        self.env.cr.precommit.run()
        messages = [m for m in Bus.search([("id", "not in", before)]) if "qbo_financial_hub/update" in m.message]
        self.assertTrue(messages, "the refresh is announced")
        payload = json.loads(messages[0].message)["payload"]
        self.assertIn("qbo.dashboard", payload["models"])
        self.assertIn("qbo.reconciliation.line", payload["models"])
        self.assertEqual(payload["company_id"], self.company.id)
        # what the redrawn dashboard reads
        dashboard = self.env["qbo.dashboard"].with_user(self.user).create({})
        self.assertTrue(dashboard.reconciliation_date)
        self.assertEqual(dashboard.reconciliation_differences, self.company.qbo_reconciliation_differences)


@tagged("post_install", "-at_install")
class TestSubCustomers(QboSyncCase):

    def test_a_delivery_address_in_error_follows_its_company(self):
        """A delivery address switched Active before its company fails ("not in the Financial
        Hub"); switching the company Active retries it behind the company, without a Retry."""
        farm = self.Partner.create({"name": "Green Valley Farms", "is_company": True})
        barn = self.Partner.create({"name": "North Barn", "parent_id": farm.id, "type": "delivery",
                                    "qbo_hub": "active"})
        self.drain()
        self.assertEqual(barn.qbo_state, "error")
        self.assertIn("not in the Financial Hub", barn.qbo_error)
        farm.qbo_hub = "active"
        self.assertEqual(barn.qbo_state, "queued", "queued again behind its company")
        self.drain()
        self.assertEqual((farm.qbo_state, barn.qbo_state), ("synced", "synced"), barn.qbo_error)
        remote = [c for c in self.qbo("Customer") if c["Id"] == barn.qbo_id][0]
        self.assertEqual(remote["FullyQualifiedName"], "Green Valley Farms:North Barn", "the parent once")
        self.assertEqual(remote["ParentRef"]["value"], farm.qbo_id)
        history = self.env["qbo.job"].search([("res_model", "=", "res.partner"), ("res_id", "=", barn.id)],
                                             order="id")
        self.assertEqual(history.mapped("state"), ["cancelled", "done"], "no Error row beside the later Done row")
        self.assertTrue(history[0].error_message.startswith("Settled by a later push: The parent customer"))
        self.assertFalse(self.env["qbo.job"].search_count([("state", "=", "error"), ("res_model", "=", "res.partner"),
                                                           ("res_id", "=", barn.id)]))

    def test_a_name_under_another_parent_is_not_taken(self):
        """Two companies each with a delivery address "Main Warehouse": each has its own
        sub-customer; the second never adopts the first one's."""
        first = self.Partner.create({"name": "Chain Stores Inc", "is_company": True, "qbo_hub": "active"})
        second = self.Partner.create({"name": "Corner Shops Ltd", "is_company": True, "qbo_hub": "active"})
        self.drain()
        a = self.Partner.create({"name": "Main Warehouse", "parent_id": first.id, "type": "delivery",
                                 "qbo_hub": "active"})
        self.drain()
        b = self.Partner.create({"name": "Main Warehouse", "parent_id": second.id, "type": "delivery",
                                 "qbo_hub": "active"})
        self.drain()
        self.assertEqual((a.qbo_state, b.qbo_state), ("synced", "synced"), b.qbo_error)
        self.assertNotEqual(a.qbo_id, b.qbo_id)
        names = {c["Id"]: c["FullyQualifiedName"] for c in self.qbo("Customer")}
        self.assertEqual(names[a.qbo_id], "Chain Stores Inc:Main Warehouse")
        self.assertEqual(names[b.qbo_id], "Corner Shops Ltd:Main Warehouse")
        # a top-level customer of that name is not either of them
        top = self.Partner.create({"name": "Main Warehouse", "is_company": True, "qbo_hub": "active"})
        self.drain()
        self.assertEqual(top.qbo_state, "synced", top.qbo_error)
        self.assertNotIn(top.qbo_id, (a.qbo_id, b.qbo_id))


@tagged("post_install", "-at_install")
class TestPushMessages(QboInvoiceCase):

    def test_an_untaxed_invoice_is_not_warned_about_a_tax_it_does_not_use(self):
        """Create QuickBooks invoice warned "Sales taxes QuickBooks cannot carry: The tax 15%
        has no QuickBooks tax code" on an untaxed invoice, then succeeded: the warning names
        only what stops the documents pushed."""
        self.env["account.tax"].create({"name": "Unmapped 15%", "amount": 15, "type_tax_use": "sale",
                                        "company_id": self.company.id})
        untaxed = self.invoice(lines=[Command.create({"product_id": self.fitting.id, "quantity": 1, "price_unit": 40,
                                                      "tax_ids": [Command.clear()]})])
        answer = untaxed.with_user(self.user).action_qbo_push()
        self.assertEqual(answer["params"]["type"], "info", answer["params"]["message"])
        self.assertNotIn("15", answer["params"]["message"])
        self.drain()
        self.assertEqual(untaxed.qbo_state, "synced", untaxed.qbo_error)
        # a document that does use it is told why it will fail, by name
        tax = self.env["account.tax"].search([("name", "=", "Unmapped 15%")])
        taxed = self.invoice(lines=[Command.create({"product_id": self.fitting.id, "quantity": 1, "price_unit": 40,
                                                    "tax_ids": [Command.set(tax.ids)]})])
        answer = taxed.with_user(self.user).action_qbo_push()
        self.assertEqual(answer["params"]["type"], "warning")
        self.assertIn(taxed.display_name, answer["params"]["message"])
        self.assertIn("Unmapped 15%", answer["params"]["message"])


@tagged("post_install", "-at_install")
class TestCustomersList(QboSyncCase):

    def test_the_people_who_use_odoo_and_the_company_are_not_customers(self):
        """QuickBooks > Customers listed "Administrator" and "My Company"."""
        action = self.env["ir.actions.act_window"]._for_xml_id("qbo_financial_hub.res_partner_qbo_action")
        domain = safe_eval(action["domain"])
        shop = self.Partner.create({"name": "Corner Shop", "is_company": True})
        dock = self.Partner.create({"name": "Loading Dock", "parent_id": shop.id, "type": "delivery"})
        buyer = self.Partner.create({"name": "Jane Buyer", "parent_id": shop.id, "type": "contact"})
        portal = new_test_user(self.env, login="qbo_portal_customer", groups="base.group_portal").partner_id
        listed = self.Partner.search(domain)
        self.assertNotIn(self.env.ref("base.partner_admin"), listed)
        self.assertNotIn(self.user.partner_id, listed)
        self.assertNotIn(self.company.partner_id, listed)
        self.assertNotIn(buyer, listed, "a contact of a company is not a customer of its own")
        for partner in (shop, dock, portal):
            self.assertIn(partner, listed)
        self.assertTrue(shop.qbo_listed)
        self.assertFalse(self.company.partner_id.qbo_listed)
        # the dashboard counts the same people
        dashboard = self.env["qbo.dashboard"].with_user(self.user).create({})
        self.assertEqual(dashboard.customer_none, self.Partner.search_count(domain + [("qbo_state", "=", "none")]))


@tagged("post_install", "-at_install")
class TestPaymentStatus(QboInboundCase):
    """On the invoice, Odoo's payment state and QuickBooks' side by side, and one line that
    says what to do when they disagree."""

    def register(self, move, **vals):
        wizard = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids).create(dict({"payment_date": "2025-03-20"}, **vals))
        return wizard._create_payments()

    def test_paid_in_quickbooks_not_in_odoo(self):
        move = self.pushed_invoice()
        self.read_changes()
        self.assertEqual(move.qbo_remote_status, "open")
        labels = dict(move._fields["qbo_remote_status"]._description_selection(self.env))
        self.assertEqual(labels["open"], "Unpaid in QuickBooks")
        self.assertFalse(move.qbo_payment_hint, "both sides agree: nothing to do")
        sim_web.record_payment(self.qbo_company, move.qbo_id, 100)
        self.deliver()
        self.read_changes()
        self.assertIn("More is paid in QuickBooks than in Odoo", move.qbo_payment_hint)
        self.assertIn("register the payment in Odoo", move.qbo_payment_hint)
        sim_web.record_payment(self.qbo_company, move.qbo_id)
        self.deliver()
        self.read_changes()
        self.assertEqual(move.qbo_payment_hint, "Paid in QuickBooks, not in Odoo: register the payment in Odoo, or let "
                                                "the reconciliation list it.")
        # once Odoo has the payment too, they agree
        self.register(move)
        move.invalidate_recordset()
        self.assertFalse(move.qbo_payment_hint)

    def test_paid_in_odoo_not_in_quickbooks(self):
        move = self.pushed_invoice()
        self.read_changes()
        payment = self.register(move)
        move.invalidate_recordset()
        self.assertIn("Paid in Odoo, not in QuickBooks", move.qbo_payment_hint)
        self.assertIn("push the payment to QuickBooks", move.qbo_payment_hint)
        payment.action_qbo_push()
        move.invalidate_recordset()
        self.assertEqual(move.qbo_payment_hint, "Odoo's payment is on its way to QuickBooks.")
        self.drain()
        self.assertEqual(payment.qbo_state, "synced", payment.qbo_error)
        self.deliver()
        self.read_changes()
        self.assertEqual(move.qbo_remote_status, "paid")
        self.assertFalse(move.qbo_payment_hint)


@tagged("post_install", "-at_install")
class TestConnectOnThisHost(QboHttpCase):
    """Browsing at localhost while Odoo's base URL says 127.0.0.1 (or the other way round):
    Intuit sends the administrator back to the host they started from, where they are logged
    in, and they land on "Connected to <QuickBooks company>"."""

    def test_callback_on_the_host_browsed_and_connected_message(self):
        # the realm's request budget is the whole suite's: others' requests of this minute do not count here
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("qbo_financial_hub.batches_per_minute", 100000)
        ICP.set_param("qbo_financial_hub.requests_per_minute", 100000)
        company = self.env.company
        self.qbo_configure(company, connect=False)
        port = self.base_url().rsplit(":", 1)[1]
        here = f"http://localhost:{port}"
        self.assertNotIn("localhost", company._qbo_redirect_uri(), "the base URL is another host")
        self.sim.register_app(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
                              [company._qbo_redirect_uri(), f"{here}/qbo/oauth/callback"])
        self.authenticate("admin", "admin")
        browser = requests.Session()
        browser.cookies.set("session_id", self.session.sid)
        page = browser.get(f"{here}/qbo/oauth/connect?company_id={company.id}", timeout=10)
        token = re.search(r"name='csrf_token' value='([^']+)'", page.text).group(1)
        start = browser.post(f"{here}/qbo/oauth/start", data={"csrf_token": token, "company_id": company.id},
                             allow_redirects=False, timeout=10)
        authorize = start.headers["Location"]
        self.assertEqual(parse_qs(urlparse(authorize).query)["redirect_uri"], [f"{here}/qbo/oauth/callback"])
        consent = browser.get(authorize, timeout=10)
        fields = dict(re.findall(r"<input type=['\"]hidden['\"] name=['\"]([^'\"]+)['\"] value=['\"]([^'\"]*)['\"]",
                                 consent.text))
        fields["realm_id"] = self.US_REALM
        action = re.search(r"<form[^>]*action=['\"]([^'\"]*)['\"]", consent.text).group(1)
        answer = requests.post(urljoin(authorize, action), data=fields, allow_redirects=False, timeout=10)
        callback = answer.headers["Location"]
        self.assertTrue(callback.startswith(f"{here}/qbo/oauth/callback"), callback)
        landed = browser.get(callback, allow_redirects=False, timeout=10)
        self.assertIn(landed.status_code, (302, 303), landed.text[:300])
        self.assertEqual(urljoin(callback, landed.headers["Location"]),
                         f"{here}/odoo/action-qbo_financial_hub.qbo_connected_action?cids={company.id}",
                         "the administrator stays on the host they browsed from")
        company.invalidate_recordset()
        self.assertEqual(company.sudo().qbo_state, "connected")
        # what the landing action shows
        notice = self.env["qbo.dashboard"].with_user(self.env.ref("base.user_admin")).action_qbo_connected()
        self.assertEqual(notice["params"]["type"], "success")
        self.assertEqual(notice["params"]["message"], "Connected to Sim US Company (Demo Co.).")
        self.assertEqual(notice["params"]["next"]["res_model"], "qbo.dashboard")


@tagged("post_install", "-at_install")
class TestChecklist(QboTransactionCase):
    """The dashboard's checklist, until the company is connected, its lists read, its mapping
    complete and a first record pushed."""

    def test_steps_in_order(self):
        company = self.env.company
        Dashboard = self.env["qbo.dashboard"]
        steps = ("setup_connected", "setup_lists", "setup_mapped", "setup_pushed", "setup_done")

        def state():
            dash = Dashboard.create({})
            return tuple(dash[name] for name in steps), dash

        self.qbo_configure(company, connect=False)
        self.assertEqual(state()[0], (False, False, False, False, False))
        self.qbo_configure(company, self.US_REALM)
        self.assertEqual(state()[0], (True, False, False, False, False))
        action = state()[1].action_refresh_lists()
        self.assertEqual(action["res_model"], "qbo.dashboard")
        done, dash = state()
        self.assertEqual(done, (True, True, False, False, False))
        self.assertIn("No default income account", dash.setup_problems)
        income = self.env["qbo.reference"].search([("company_id", "=", company.id), ("kind", "=", "account"),
                                                   ("account_type", "=", "Income")], limit=1)
        terms = self.env["qbo.reference"].search([("company_id", "=", company.id), ("kind", "=", "term")], limit=1)
        company.write({"qbo_income_account_id": income.id, "qbo_sync_customers": True})
        self.env["account.payment.term"].search([]).write({"qbo_term_ref_id": terms.id})
        for tax in self.env["account.tax"].search([("company_id", "=", company.id), ("type_tax_use", "=", "sale")]):
            tax.active = False
        done, dash = state()
        self.assertEqual(done, (True, True, True, False, False), dash.setup_problems)
        partner = self.env["res.partner"].create({"name": "First Customer", "is_company": True, "qbo_hub": "active"})
        self.env.flush_all()
        self.env["qbo.job"]._qbo_process_company(company.id, client_options={"sleep": lambda s: None})
        self.env.invalidate_all()
        self.assertEqual(partner.qbo_state, "synced", partner.qbo_error)
        self.assertEqual(state()[0], (True, True, True, True, True))


@tagged("post_install", "-at_install")
class TestNotificationsOnce(QboSyncCase):

    def test_a_notification_carries_when_it_was_sent(self):
        """The page compares it with when it was served (session_info): Odoo's bus hands a new
        page the last 50 seconds of messages, and "Linked to QuickBooks" came back in a new
        browser session 30 s later."""
        before = time.time()
        partner = self.Partner.create({"name": "Toast Once Ltd", "is_company": True, "qbo_hub": "active"})
        self.drain()
        self.assertEqual(partner.qbo_state, "synced", partner.qbo_error)
        self.env.cr.precommit.run()
        messages = [json.loads(m.message) for m in self.env["bus.bus"].sudo().search(
            [("message", "like", "qbo_financial_hub/notify")])]
        toast = next(m["payload"] for m in messages if "Toast Once Ltd" in m["payload"]["message"])
        self.assertEqual(toast["title"], "Linked to QuickBooks")
        self.assertGreaterEqual(toast["sent_at"], before)
        self.assertLessEqual(toast["sent_at"], time.time())
        self.assertFalse(self.env["bus.bus"].sudo().search_count([("message", "like", "Toast Once Ltd"),
                                                                  ("message", "like", "simple_notification")]),
                         "not through Odoo's simple notifications, which every new page replays")


@tagged("post_install", "-at_install")
class TestPageTime(QboHttpCase):

    def test_a_page_says_when_it_was_served(self):
        """What static/src/js/qbo_live.js compares a notification's sent_at with."""
        before = time.time()
        self.authenticate("admin", "admin")
        page = self.url_open("/odoo")
        served = float(re.search(r'"qbo_page_time": ([0-9.]+)', page.text).group(1))
        self.assertGreaterEqual(served, before)
        self.assertLessEqual(served, time.time())
