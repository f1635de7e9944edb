"""The first hour of a new user (issue 22): what the screens show, as the web client gets it."""
import json

from odoo import Command
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

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
