"""Crons that isolate failure and share time: in the inbound, reconciliation, import and queue
crons, whatever fails in one company's turn (an answer of unexpected shape, Odoo's own bug) is
logged and written on that company (or import), and the next company still runs; imports take
turns between companies. The crons run on a cursor of their own, as Odoo's cron runner gives them."""
import contextlib
import logging
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged

from ..qbo import QBOClient
from .common import QboTransactionCase

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install", "qbo_security")
class TestCronsIsolateFailures(QboTransactionCase):

    def setUp(self):
        super().setUp()
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("qbo_financial_hub.batches_per_minute", 100000)
        ICP.set_param("qbo_financial_hub.requests_per_minute", 100000)
        self.company_a = self.qbo_configure(self.env.company, self.US_REALM)
        self.company_b = self.env["res.company"].create({"name": "Cron B Ltd"})
        self.qbo_configure(self.company_b, self.CA_REALM)
        for company in (self.company_a, self.company_b):
            company.with_company(company).action_qbo_refresh_references()
            refs = self.env["qbo.reference"].search([("company_id", "=", company.id)])
            company.write({
                "qbo_income_account_id": refs.filtered(lambda r: r.kind == "account" and r.account_type == "Income")[:1].id,
                "qbo_tax_default_id": refs.filtered(lambda r: r.kind == "taxcode")[:1].id,
                "qbo_product_tax_default_id": refs.filtered(lambda r: r.kind == "taxcode")[:1].id,
                "qbo_sync_customers": True})
        self.env.flush_all()

    @contextlib.contextmanager
    def cron_env(self):
        """The environment of a cron run: a cursor of its own, superuser."""
        with self.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})
        self.env.invalidate_all()

    def answer_for(self, realm, path, answer):
        """QuickBooks answers `answer` to `path` requests of `realm` (others go through)."""
        original = QBOClient._request

        def fake(client, method, request_path, *args, **kwargs):
            if client.realm_id == realm and request_path == path:
                return answer, None
            return original(client, method, request_path, *args, **kwargs)
        return patch.object(QBOClient, "_request", autospec=True, side_effect=fake)

    def customer_of(self, company, name):
        partner = self.env["res.partner"].with_company(company).create(
            {"name": name, "is_company": True, "company_id": company.id, "qbo_hub": "active"})
        partner.with_company(company)._qbo_enqueue(company)
        return partner

    # ------------------------------------------------------------------------------
    # inbound
    # ------------------------------------------------------------------------------
    def check_inbound_isolated(self, failing, answer=None, error=None, expect=""):
        """`failing` (the first company the cron reaches) fails; the other still reads its changes."""
        other = (self.company_a | self.company_b) - failing
        event = self.env["qbo.webhook.event"].sudo().create({"event_uid": "iso-1", "company_id": failing.id,
                                                             "realm": failing.qbo_realm_id, "entity": "Customer",
                                                             "entity_id": "1", "operation": "Update"})
        self.env.flush_all()
        if answer is not None:
            context = self.answer_for(failing.qbo_realm_id, "cdc", answer)
        else:
            original = type(self.env["qbo.webhook.event"])._qbo_read_changes

            def bug(model, company, *args, **kwargs):
                if company.id == failing.id:
                    raise error
                return original(model, company, *args, **kwargs)
            context = patch.object(type(self.env["qbo.webhook.event"]), "_qbo_read_changes", autospec=True,
                                   side_effect=bug)
        with context, self.assertLogs("odoo.addons.qbo_financial_hub", "WARNING") as logs, self.cron_env() as env:
            env["qbo.webhook.event"]._cron_inbound()
        failing.invalidate_recordset()
        other.invalidate_recordset()
        self.assertTrue(other.qbo_cdc_last_run and other.qbo_cdc_cursor, "the next company read its changes")
        self.assertFalse(other.qbo_cdc_message)
        self.assertFalse(failing.qbo_cdc_last_run)
        self.assertIn("QuickBooks' changes were not read", failing.qbo_cdc_message)
        self.assertIn(expect, failing.qbo_cdc_message)
        self.assertEqual(event.state, "pending", "its events wait for the next run")
        return "\n".join(logs.output)

    def test_inbound_cdc_answer_of_unexpected_shape(self):
        self.assertLess(self.company_a.id, self.company_b.id, "A's turn comes first")
        log = self.check_inbound_isolated(self.company_a, answer=[{"Customer": [{"Id": "1"}]}],
                                          expect="could not be read")
        self.assertIn("unexpected shape (no CDCResponse list)", log)
        self.assertIn('(answer: [{"Customer": [{"Id": "1"}]}])', log, "the raw answer is kept for the log")

    def test_inbound_sync_token_that_is_not_a_number(self):
        answer = {"CDCResponse": [{"QueryResponse": [{"Customer": [{"Id": "1", "SyncToken": "seven"}]}]}],
                  "time": "2026-01-01T00:00:00-08:00"}
        log = self.check_inbound_isolated(self.company_a, answer=answer, expect="could not be read")
        self.assertIn("SyncToken 'seven'", log)

    def test_inbound_bug_in_odoo_for_one_company(self):
        log = self.check_inbound_isolated(self.company_a, error=AttributeError("'list' object has no attribute 'get'"),
                                          expect="Odoo failed (AttributeError")
        self.assertIn("Traceback", log, "Odoo's own failure is logged with its traceback")

    def test_read_changes_button_says_it_failed(self):
        with self.answer_for(self.US_REALM, "cdc", ["not", "cdc"]), \
                self.assertLogs("odoo.addons.qbo_financial_hub", "WARNING"):
            action = self.company_a.action_qbo_read_changes()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("could not be read", action["params"]["message"])

    # ------------------------------------------------------------------------------
    # reconciliation
    # ------------------------------------------------------------------------------
    def test_reconciliation_of_the_next_company_still_runs(self):
        with self.answer_for(self.US_REALM, "query", {"QueryResponse": {"Customer": "not a list"}}), \
                self.assertLogs("odoo.addons.qbo_financial_hub", "WARNING"), self.cron_env() as env:
            env["res.company"]._cron_qbo_reconcile()
        (self.company_a | self.company_b).invalidate_recordset()
        self.assertTrue(self.company_b.qbo_reconciled_at, "the next company's report was refreshed")
        self.assertFalse(self.company_b.qbo_reconciliation_message)
        self.assertFalse(self.company_a.qbo_reconciled_at)
        self.assertIn("The reconciliation was not refreshed", self.company_a.qbo_reconciliation_message)
        # once QuickBooks answers again, the message goes
        with self.cron_env() as env:
            env["res.company"]._cron_qbo_reconcile()
        self.company_a.invalidate_recordset()
        self.assertTrue(self.company_a.qbo_reconciled_at)
        self.assertFalse(self.company_a.qbo_reconciliation_message)

    # ------------------------------------------------------------------------------
    # imports
    # ------------------------------------------------------------------------------
    def start_imports(self, page_size):
        imports = self.env["qbo.import"]
        for realm in (self.US_REALM, self.CA_REALM):
            for k in range(4):
                self.sim.companies[realm].write("Customer", {"DisplayName": f"Turn Customer {realm[-1]}-{k}"}, "create")
        for company in (self.company_a, self.company_b):
            imp = self.env["qbo.import"].with_company(company)._qbo_start("customer", company)
            imp.page_size = page_size
            imports |= imp
        self.env.flush_all()
        return imports

    def test_imports_take_turns_between_companies(self):
        imp_a, imp_b = self.start_imports(page_size=1)
        turns = []
        original = type(imp_a)._qbo_import_page

        def page(imp, client):
            turns.append("A" if imp.id == imp_a.id else "B")
            return original(imp, client)
        with patch.object(type(imp_a), "_qbo_import_page", autospec=True, side_effect=page), self.cron_env() as env:
            env["qbo.import"]._cron_process(time_budget=300)
        (imp_a | imp_b).invalidate_recordset()
        self.assertEqual((imp_a.state, imp_b.state), ("done", "done"), (imp_a.error_message, imp_b.error_message))
        shared = 2 * min(turns.count("A"), turns.count("B"))
        self.assertGreater(shared, 4)
        self.assertEqual(turns[:shared], ["A", "B"] * (shared // 2), f"turns: {''.join(turns)}")

    def test_an_import_that_fails_in_odoo_is_its_own_error(self):
        imp_a, imp_b = self.start_imports(page_size=1000)
        original = type(imp_a)._qbo_import_customers

        def bug(imp, *args, **kwargs):
            if imp.id == imp_a.id:
                raise KeyError("DisplayName")
            return original(imp, *args, **kwargs)
        with patch.object(type(imp_a), "_qbo_import_customers", autospec=True, side_effect=bug), \
                self.assertLogs("odoo.addons.qbo_financial_hub", "WARNING"), self.cron_env() as env:
            env["qbo.import"]._cron_process(time_budget=300)
        (imp_a | imp_b).invalidate_recordset()
        self.assertEqual(imp_a.state, "error")
        self.assertIn("The import stopped: Odoo failed (KeyError", imp_a.error_message)
        self.assertEqual(imp_b.state, "done", imp_b.error_message)

    # ------------------------------------------------------------------------------
    # the queue
    # ------------------------------------------------------------------------------
    def test_queue_turn_that_fails_in_odoo_leaves_the_next_company_its_turn(self):
        partner_a = self.customer_of(self.company_a, "Queue A Customer")
        partner_b = self.customer_of(self.company_b, "Queue B Customer")
        self.env.flush_all()
        Company = type(self.env["res.company"])
        original = Company._qbo_client

        def bug(company, **kwargs):
            if company.id == self.company_a.id:
                raise AttributeError("'NoneType' object has no attribute 'qbo_realm_id'")
            return original(company, **kwargs)
        with patch.object(Company, "_qbo_client", autospec=True, side_effect=bug), \
                self.assertLogs("odoo.addons.qbo_financial_hub", "ERROR"), self.cron_env() as env:
            env["qbo.job"]._cron_process(time_budget=60)
        jobs = self.env["qbo.job"].search([("res_model", "=", "res.partner"),
                                           ("res_id", "in", (partner_a | partner_b).ids)])
        job_a = jobs.filtered(lambda j: j.res_id == partner_a.id)
        job_b = jobs.filtered(lambda j: j.res_id == partner_b.id)
        self.assertEqual(job_b.state, "done", job_b.error_message)
        self.assertEqual(job_a.state, "pending", "given back, to be tried again")
        self.assertIn("Odoo failed while preparing this chunk", job_a.error_message or "", "with the reason")

    def test_queue_claim_that_fails_leaves_the_next_company_its_turn(self):
        self.customer_of(self.company_a, "Claim A Customer")
        partner_b = self.customer_of(self.company_b, "Claim B Customer")
        self.env.flush_all()
        Job = type(self.env["qbo.job"])
        original = Job._qbo_claim

        def bug(model, company_id, limit):
            if company_id == self.company_a.id:
                raise RuntimeError("claim failed")
            return original(model, company_id, limit)
        with patch.object(Job, "_qbo_claim", autospec=True, side_effect=bug), \
                self.assertLogs("odoo.addons.qbo_financial_hub", "ERROR"), self.cron_env() as env:
            env["qbo.job"]._cron_process(time_budget=60)
        self.assertEqual(partner_b.with_company(self.company_b).qbo_state, "synced")
