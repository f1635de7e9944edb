from odoo import Command
from odoo.tests import tagged

from .test_estimates import QboEstimateCase
from .test_invoices import QboCanadaCase


class ClassesMixin:

    def qbo_lists(self, realm, classes, departments, per="line", departments_on=True):
        """Classes and locations in the QuickBooks company, tracked as its preferences say."""
        company = self.sim._company(realm)
        ids = {}
        for entity, names in (("Class", classes), ("Department", departments)):
            for name in names:
                ids[name] = company.write(entity, {"Name": name})[1]["Id"]
        company.prefs["AccountingInfoPrefs"].update({
            "ClassTrackingPerTxnLine": per == "line", "ClassTrackingPerTxn": per == "txn",
            "TrackDepartments": departments_on})
        return ids

    def qbo_ref(self, company, kind, name):
        return self.env["qbo.reference"].search([("company_id", "=", company.id), ("kind", "=", kind),
                                                 ("name", "=", name)])


@tagged("post_install", "-at_install")
class TestClassesUS(ClassesMixin, QboEstimateCase):

    def setUp(self):
        super().setUp()
        self.ids = self.qbo_lists(self.US_REALM, ["Retail", "Wholesale"], ["Downtown", "Airport"])
        self.company.action_qbo_refresh_references()
        self.plan = self.env["account.analytic.plan"].create({"name": "Channels"})
        Account = self.env["account.analytic.account"]
        self.retail = Account.create({"name": "Retail shop", "plan_id": self.plan.id})
        self.wholesale = Account.create({"name": "Wholesale desk", "plan_id": self.plan.id})
        self.team = self.env["crm.team"].create({"name": "Downtown team"})

    def test_lists_and_tracking_imported(self):
        self.assertEqual((self.company.qbo_class_tracking, self.company.qbo_track_departments), ("line", True))
        self.assertEqual(sorted(self.env["qbo.reference"].search([("company_id", "=", self.company.id),
                                                                  ("kind", "=", "class")]).mapped("name")),
                         ["Retail", "Wholesale"])
        self.assertEqual(self.qbo_ref(self.company, "department", "Airport").qbo_id, self.ids["Airport"])

    def test_classes_on_lines_location_on_the_invoice(self):
        self.retail.qbo_class_ref_id = self.qbo_ref(self.company, "class", "Retail")
        # the plan's class for its accounts without one
        self.plan.qbo_class_ref_id = self.qbo_ref(self.company, "class", "Wholesale")
        self.team.qbo_department_ref_id = self.qbo_ref(self.company, "department", "Downtown")
        move = self.invoice(team_id=self.team.id, lines=[
            Command.create({"product_id": self.chair.id, "quantity": 1, "price_unit": 120.0,
                            "tax_ids": [Command.set(self.tax_ca.ids)],
                            "analytic_distribution": {str(self.retail.id): 70, str(self.wholesale.id): 30}}),
            Command.create({"product_id": self.fitting.id, "quantity": 2, "price_unit": 45.5,
                            "tax_ids": [Command.clear()], "analytic_distribution": {str(self.wholesale.id): 100}}),
        ])
        move.action_qbo_push()
        self.drain()
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        inv = self.remote(move)
        classes = [line["SalesItemLineDetail"].get("ClassRef") for line in inv["Line"]
                   if line["DetailType"] == "SalesItemLineDetail"]
        self.assertEqual(classes, [{"value": self.ids["Retail"], "name": "Retail"},
                                   {"value": self.ids["Wholesale"], "name": "Wholesale"}])
        self.assertEqual(inv["DepartmentRef"], {"value": self.ids["Downtown"], "name": "Downtown"})
        self.assertNotIn("ClassRef", inv, "tracked per line, not per transaction")
        self.assertEqual(float(inv["TotalAmt"]), move.amount_total)

    def test_missing_class_is_listed_by_the_preflight(self):
        move = self.invoice(lines=[
            Command.create({"product_id": self.chair.id, "quantity": 1, "price_unit": 120.0,
                            "tax_ids": [Command.set(self.tax_ca.ids)],
                            "analytic_distribution": {str(self.retail.id): 100}}),
            Command.create({"name": "Plain fitting", "product_id": self.fitting.id, "quantity": 1,
                            "price_unit": 45.5, "tax_ids": [Command.clear()]}),
        ])
        move.action_qbo_push()
        self.drain()
        self.assertEqual(move.qbo_state, "error")
        self.assertIn("The analytic account Retail shop", move.qbo_error)
        self.assertIn("has no QuickBooks class", move.qbo_error)
        self.assertIn("'Plain fitting' has no QuickBooks class", move.qbo_error)
        self.assertFalse(self.qbo("Invoice"), "nothing was sent")
        # a default class fills both gaps
        self.company.qbo_default_class_id = self.qbo_ref(self.company, "class", "Retail")
        move.action_qbo_push()
        self.drain()
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        self.assertEqual({line["SalesItemLineDetail"]["ClassRef"]["value"] for line in self.remote(move)["Line"]
                          if line["DetailType"] == "SalesItemLineDetail"}, {self.ids["Retail"]})

    def test_classes_not_required_when_the_company_says_so(self):
        self.company.qbo_class_required = False
        move = self.invoice()
        move.action_qbo_push()
        self.drain()
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        self.assertFalse([line for line in self.remote(move)["Line"]
                          if (line.get("SalesItemLineDetail") or {}).get("ClassRef")])

    def test_quotation_carries_classes_and_location(self):
        self.retail.qbo_class_ref_id = self.qbo_ref(self.company, "class", "Retail")
        self.company.qbo_default_class_id = self.qbo_ref(self.company, "class", "Wholesale")
        self.company.qbo_default_department_id = self.qbo_ref(self.company, "department", "Airport")
        order = self.quotation()
        order.order_line.filtered(lambda l: l.product_id == self.chair).analytic_distribution = {str(self.retail.id): 100}
        order.action_qbo_push()
        self.drain()
        self.assertEqual(order.qbo_state, "synced", order.qbo_error)
        est = self.estimate(order)
        self.assertEqual([line["SalesItemLineDetail"]["ClassRef"]["name"] for line in est["Line"]
                          if line["DetailType"] == "SalesItemLineDetail"], ["Retail", "Wholesale"])
        self.assertEqual(est["DepartmentRef"]["name"], "Airport")

    def test_unknown_class_is_refused_by_quickbooks(self):
        ref = self.qbo_ref(self.company, "class", "Retail")
        self.company.qbo_default_class_id = ref
        del self.sim._company(self.US_REALM).data["Class"][ref.qbo_id]
        move = self.invoice()
        move.action_qbo_push()
        self.drain()
        self.assertEqual(move.qbo_state, "error")
        self.assertIn("ClassRef", move.qbo_error)


@tagged("post_install", "-at_install")
class TestClassesCanada(ClassesMixin, QboCanadaCase):

    def setUp(self):
        super().setUp()
        self.ids = self.qbo_lists(self.CA_REALM, ["Commercial", "Residential"], ["Montréal"], per="txn")
        self.ca.action_qbo_refresh_references()
        env = self.ca_env
        plan = env["account.analytic.plan"].create({"name": "Markets"})
        self.commercial = env["account.analytic.account"].create({"name": "Commercial market", "plan_id": plan.id,
                                                                 "company_id": self.ca.id})
        self.residential = env["account.analytic.account"].create({"name": "Residential market",
                                                                  "plan_id": plan.id, "company_id": self.ca.id})
        self.commercial.with_company(self.ca).qbo_class_ref_id = self.qbo_ref(self.ca, "class", "Commercial")
        self.residential.with_company(self.ca).qbo_class_ref_id = self.qbo_ref(self.ca, "class", "Residential")
        self.team = env["crm.team"].create({"name": "Québec team", "company_id": self.ca.id})
        self.team.with_company(self.ca).qbo_department_ref_id = self.qbo_ref(self.ca, "department", "Montréal")

    def move(self, distributions):
        move = self.ca_env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id, "invoice_date": "2025-03-14",
            "team_id": self.team.id,
            "invoice_line_ids": [Command.create({"product_id": self.chair.id, "quantity": 1, "price_unit": 100,
                                                 "tax_ids": [Command.set(self.gst.ids)],
                                                 "analytic_distribution": distribution})
                                 for distribution in distributions]})
        move.action_post()
        move.action_qbo_push()
        self.drain_ca()
        return move.with_company(self.ca)

    def test_class_per_transaction_and_location(self):
        self.assertEqual(self.ca.qbo_class_tracking, "txn")
        move = self.move([{str(self.commercial.id): 100}, {str(self.commercial.id): 100}])
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        inv = [r for r in self.qbo("Invoice", self.CA_REALM) if r["Id"] == move.qbo_id][0]
        self.assertEqual(inv["ClassRef"], {"value": self.ids["Commercial"], "name": "Commercial"})
        self.assertEqual(inv["DepartmentRef"]["name"], "Montréal")
        self.assertFalse([line for line in inv["Line"] if (line.get("SalesItemLineDetail") or {}).get("ClassRef")])
        self.assertEqual(float(inv["TotalAmt"]), move.amount_total)

    def test_two_classes_on_one_transaction_are_refused_before_sending(self):
        move = self.move([{str(self.commercial.id): 100}, {str(self.residential.id): 100}])
        self.assertEqual(move.qbo_state, "error")
        self.assertIn("one class per transaction", move.qbo_error)
        self.assertIn("Commercial, Residential", move.qbo_error)
        self.assertFalse(self.qbo("Invoice", self.CA_REALM))
