"""What happens in QuickBooks shows in Odoo, read-only: webhooks (signed deliveries from the
simulator), CDC, paid / voided / deleted documents, customers changed or merged in QuickBooks,
fresh SyncTokens, metered reads."""
import json
import logging
import time
from datetime import datetime, timedelta

from odoo.tests import tagged

from ..qbo import TokenSet
from ..simulator import web as sim_web
from ..simulator.webhooks import sign
from .test_invoices import QboInvoiceCase
from .test_tours import QboTourCase

_logger = logging.getLogger(__name__)
VERIFIER = "test-verifier-token"


class QboInboundCase(QboInvoiceCase):

    def setUp(self):
        super().setUp()
        self.company.sudo().qbo_webhook_verifier = VERIFIER
        self.sim.webhooks.configure("http://odoo.invalid/qbo/webhook", VERIFIER, auto=False)
        self.qbo_company = self.sim.companies[self.US_REALM]
        self.Event = self.env["qbo.webhook.event"]

    def deliver(self, tamper=False):
        """The simulator's pending deliveries, handed to the receiving code as the route would."""
        answers = []

        def send(url, body, headers):
            signature = headers["intuit-signature"]
            if tamper:
                signature = sign("not-the-verifier", body)
            status, result = self.Event._qbo_receive(body, signature)
            answers.append(result)
            return status
        statuses = self.sim.webhooks.flush(send=send)
        return statuses, answers

    def read_changes(self):
        self.env.flush_all()
        seen = self.Event._qbo_inbound_company(self.company.id, client_options={"max_retries": 1,
                                                                                  "sleep": lambda s: None})
        self.env.invalidate_all()
        return seen

    def pushed_invoice(self):
        move = self.invoice()
        move.action_qbo_push()
        self.drain()
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        self.deliver()   # the webhooks of our own push
        return move

    def entries(self, move):
        return [(l.account_id.id, l.debit, l.credit, l.reconciled) for l in move.line_ids] + [
            move.state, move.payment_state, move.amount_residual]


@tagged("post_install", "-at_install")
class TestInboundDocuments(QboInboundCase):

    def test_payment_in_quickbooks_shows_paid_without_touching_entries(self):
        move = self.pushed_invoice()
        before = self.entries(move)
        remote = self.remote(move)
        sim_web.record_payment(self.qbo_company, move.qbo_id, 100)
        statuses, answers = self.deliver()
        self.assertEqual(statuses, [200])
        self.assertEqual(answers[0]["accepted"], 1)
        self.read_changes()
        self.assertEqual(move.qbo_remote_status, "partial")
        self.assertAlmostEqual(move.qbo_remote_balance, remote["TotalAmt"] - 100, places=2)
        sim_web.record_payment(self.qbo_company, move.qbo_id)
        self.deliver()
        self.read_changes()
        self.assertEqual(move.qbo_remote_status, "paid")
        self.assertEqual(move.qbo_remote_balance, 0.0)
        Move = self.env["account.move"]
        self.assertIn(move, Move.search([("qbo_remote_status", "=", "paid")]))
        self.assertNotIn(move, Move.search([("qbo_remote_status", "=", "partial")]))
        self.assertEqual(self.entries(move), before, "nothing in Odoo's books changes")
        self.assertFalse(self.Event.search([("company_id", "=", self.company.id), ("state", "=", "pending")]))

    def test_void_in_quickbooks_flags_red_then_push_again(self):
        move = self.pushed_invoice()
        before = self.entries(move)
        remote = self.remote(move)
        self.qbo_company.write("Invoice", {"Id": move.qbo_id, "SyncToken": remote["SyncToken"]}, "void")
        self.deliver()
        self.read_changes()
        self.assertEqual(move.qbo_remote_status, "voided")
        self.assertIn("Voided in QuickBooks on", move.qbo_remote_label)
        self.assertTrue(any("Voided in QuickBooks on" in m.body for m in move.message_ids))
        self.assertEqual(self.entries(move), before)
        # an ordinary push is held: the person chooses
        move.action_qbo_push()
        self.drain()
        self.assertEqual(move.qbo_state, "error")
        self.assertIn("Push again or Unlink", move.qbo_error)
        self.assertEqual(self.remote(move)["TotalAmt"], 0)
        move.action_qbo_push_again()
        self.assertTrue(any("Pushed again to QuickBooks after it was voided there." in m.body
                            for m in move.message_ids))
        self.drain()
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        self.assertFalse(move.qbo_remote_status)
        self.assertAlmostEqual(self.remote(move)["TotalAmt"], move.amount_total, places=2)

    def test_delete_in_quickbooks_then_push_again_creates_it_anew(self):
        move = self.pushed_invoice()
        old_id = move.qbo_id
        remote = self.remote(move)
        self.qbo_company.write("Invoice", {"Id": old_id, "SyncToken": remote["SyncToken"]}, "delete")
        self.deliver()
        self.read_changes()
        self.assertEqual(move.qbo_remote_status, "deleted")
        self.assertTrue(any("Deleted in QuickBooks on" in m.body for m in move.message_ids))
        self.assertIn(move, self.env["account.move"].search([("qbo_remote_status", "in", ("voided", "deleted"))]))
        move.action_qbo_push_again()
        self.assertTrue(any("Pushed again to QuickBooks after it was deleted there." in m.body
                            for m in move.message_ids))
        self.drain()
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        self.assertNotEqual(move.qbo_id, old_id)
        self.assertAlmostEqual(self.remote(move)["TotalAmt"], move.amount_total, places=2)

    def test_unlink_after_void(self):
        move = self.pushed_invoice()
        remote = self.remote(move)
        self.qbo_company.write("Invoice", {"Id": move.qbo_id, "SyncToken": remote["SyncToken"]}, "void")
        self.deliver()
        self.read_changes()
        move.action_qbo_unlink()
        self.assertFalse(move.qbo_remote_status)
        self.assertEqual(move.qbo_state, "none")

    def test_missed_webhook_is_caught_by_cdc(self):
        move = self.pushed_invoice()
        self.read_changes()   # the cursor starts
        sim_web.record_payment(self.qbo_company, move.qbo_id)
        self.sim.webhooks.flush(send=lambda url, body, headers: 500)   # the delivery is lost
        self.assertFalse(self.Event.search([("company_id", "=", self.company.id), ("state", "=", "pending")]))
        self.env.flush_all()
        self.Event._cron_inbound()
        self.env.invalidate_all()
        self.assertEqual(move.qbo_remote_status, "paid")

    def test_update_after_quickbooks_payment_has_no_5010(self):
        move = self.pushed_invoice()
        sim_web.record_payment(self.qbo_company, move.qbo_id, 50)
        token = self.remote(move)["SyncToken"]
        self.deliver()
        self.read_changes()
        link = move._qbo_links(self.company)[move.id]
        self.assertEqual(link.qbo_sync_token, token)
        move.ref = "PO-778"   # a tracked field of a posted invoice: the QBO copy is updated
        jobs = self.pending_jobs(move)
        self.assertTrue(jobs)
        self.drain()
        self.assertEqual(move.qbo_state, "synced", move.qbo_error)
        self.assertEqual(jobs.attempts, 1)
        self.assertFalse(jobs.error_code)
        self.assertEqual(self.remote(move)["Balance"], self.remote(move)["TotalAmt"] - 50)

    def test_catch_up_beyond_thirty_days_offers_a_full_comparison(self):
        move = self.pushed_invoice()
        self.read_changes()
        sim_web.record_payment(self.qbo_company, move.qbo_id)
        old = (datetime.utcnow() - timedelta(days=40)).isoformat(timespec="seconds") + "+00:00"
        self.company.sudo().qbo_cdc_cursor = old
        self.read_changes()
        self.assertTrue(self.company.qbo_cdc_gap)
        self.company.action_qbo_full_compare()   # queued: the inbound cron's next turn of the company runs it
        self.read_changes()
        self.assertFalse(self.company.qbo_cdc_gap)
        self.assertEqual(move.qbo_remote_status, "paid")

    def test_burst_of_a_thousand_events(self):
        """1,000 changes made in QuickBooks at once (other apps creating customers, and payments on
        our invoices): every event is stored once and applied; the time is measured, not asserted."""
        moves = self.invoice() | self.invoice() | self.invoice()
        moves.action_qbo_push()
        self.drain()
        self.assertEqual(set(moves.mapped("qbo_state")), {"synced"})
        self.deliver()
        self.read_changes()
        for index in range(997):
            self.qbo_company.write("Customer", {"DisplayName": f"Burst customer {index}"}, "create")
        for move in moves:
            sim_web.record_payment(self.qbo_company, move.qbo_id)
        started = time.perf_counter()
        statuses, answers = self.deliver()
        received = time.perf_counter()
        self.read_changes()
        elapsed = time.perf_counter() - started
        _logger.info("burst: 1000 events in %d deliveries received in %.2fs, applied in %.2fs (total %.2fs)",
                     len(statuses), received - started, elapsed - (received - started), elapsed)
        self.assertEqual(set(statuses), {200})
        self.assertEqual(sum(a["accepted"] for a in answers), 1000)
        events = self.Event.search([("company_id", "=", self.company.id), ("entity", "!=", "Invoice")])
        self.assertEqual(len(events), 1000)
        self.assertEqual(set(events.mapped("state")), {"done"})
        self.assertEqual(set(moves.mapped("qbo_remote_status")), {"paid"})


@tagged("post_install", "-at_install")
class TestInboundWebhookChecks(QboInboundCase):

    def test_tampered_replayed_and_unknown_realm(self):
        move = self.pushed_invoice()
        sim_web.record_payment(self.qbo_company, move.qbo_id)
        stored = self.Event.search_count([])
        statuses, _answers = self.deliver(tamper=True)
        self.assertEqual(statuses[0], 401)
        self.assertEqual(self.Event.search_count([]), stored)
        # the simulator retries the refused delivery, with the same events: now correctly signed
        statuses, answers = self.deliver()
        self.assertEqual(statuses, [200])
        self.assertEqual(answers[0]["accepted"], 1)
        # a replay of the very same delivery: ignored by event id
        body = json.dumps(self.sim.webhooks.payload([{"realm": self.US_REALM, "entity": "Invoice",
                                                      "id": move.qbo_id, "operation": "Update",
                                                      "lastUpdated": "2026-01-01T00:00:00-08:00"}])).encode()
        first = self.Event._qbo_receive(body, sign(VERIFIER, body))
        again = self.Event._qbo_receive(body, sign(VERIFIER, body))
        self.assertEqual((first[1]["accepted"], again[1]["accepted"], again[1]["duplicates"]), (1, 0, 1))
        # a company this database does not hold: ignored, acknowledged
        self.sim.companies[self.CA_REALM].write("Customer", {"DisplayName": "Elsewhere"}, "create")
        statuses, answers = self.deliver()
        self.assertEqual(statuses, [200])
        self.assertEqual((answers[0]["accepted"], answers[0]["ignored"]), (0, 1))
        self.assertFalse(self.Event.search([("realm", "=", self.CA_REALM)]))
        # no signature, an unreadable body
        self.assertEqual(self.Event._qbo_receive(body, "")[0], 401)
        self.assertEqual(self.Event._qbo_receive(b"not json", sign(VERIFIER, b"not json"))[0], 400)

    def test_legacy_format(self):
        self.sim.webhooks.configure("http://odoo.invalid/qbo/webhook", VERIFIER, "legacy", auto=False)
        move = self.pushed_invoice()
        remote = self.remote(move)
        self.qbo_company.write("Invoice", {"Id": move.qbo_id, "SyncToken": remote["SyncToken"]}, "void")
        statuses, answers = self.deliver()
        self.assertEqual((statuses, answers[0]["accepted"]), ([200], 1))
        event = self.Event.search([("company_id", "=", self.company.id), ("operation", "=", "Void")])
        self.assertEqual((event.entity, event.entity_id, event.operation), ("Invoice", move.qbo_id, "Void"))
        self.read_changes()
        self.assertEqual(move.qbo_remote_status, "voided")

    def test_verifier_is_for_system_administrators_only(self):
        field = self.env["res.company"]._fields["qbo_webhook_verifier"]
        self.assertEqual(field.groups, "base.group_system")
        self.assertNotIn("qbo_webhook_verifier", self.env["res.company"].with_user(self.user).fields_get())


@tagged("post_install", "-at_install")
class TestInboundCustomers(QboInboundCase):

    def test_customer_changed_in_quickbooks_odoo_wins_by_default(self):
        remote = [c for c in self.qbo("Customer") if c["Id"] == self.customer.qbo_id][0]
        self.qbo_company.write("Customer", {"Id": remote["Id"], "SyncToken": remote["SyncToken"], "sparse": True,
                                            "DisplayName": "Harbour Lights (QBO edit)",
                                            "PrimaryPhone": {"FreeFormNumber": "555-0199"}}, "update")
        self.deliver()
        self.read_changes()
        self.assertIn("DisplayName", self.customer.qbo_changed_fields)
        self.assertIn("PrimaryPhone.FreeFormNumber", self.customer.qbo_changed_fields)
        self.assertTrue(any("Changed in QuickBooks" in m.body for m in self.customer.message_ids))
        self.assertEqual(self.company.qbo_conflict_winner, "odoo")
        self.customer.action_qbo_push()
        self.drain()
        self.assertEqual(self.customer.qbo_state, "synced", self.customer.qbo_error)
        self.assertFalse(self.customer.qbo_changed_fields)
        remote = [c for c in self.qbo("Customer") if c["Id"] == self.customer.qbo_id][0]
        self.assertEqual(remote["DisplayName"], "Harbour Lights Ltd")

    def test_customer_changed_in_quickbooks_quickbooks_wins(self):
        self.company.qbo_conflict_winner = "qbo"
        remote = [c for c in self.qbo("Customer") if c["Id"] == self.customer.qbo_id][0]
        self.qbo_company.write("Customer", {"Id": remote["Id"], "SyncToken": remote["SyncToken"], "sparse": True,
                                            "CompanyName": "Harbour Lights Holdings"}, "update")
        self.deliver()
        self.read_changes()
        self.assertEqual(self.customer.qbo_changed_fields, "CompanyName")
        self.customer.action_qbo_push()
        self.drain()
        self.assertEqual(self.customer.qbo_state, "error")
        self.assertIn("QuickBooks win", self.customer.qbo_error)
        remote = [c for c in self.qbo("Customer") if c["Id"] == self.customer.qbo_id][0]
        self.assertEqual(remote["CompanyName"], "Harbour Lights Holdings")
        self.customer.action_qbo_push_odoo_version()
        self.drain()
        self.assertEqual(self.customer.qbo_state, "synced", self.customer.qbo_error)
        remote = [c for c in self.qbo("Customer") if c["Id"] == self.customer.qbo_id][0]
        self.assertEqual(remote["CompanyName"], "Harbour Lights Ltd")

    def test_own_push_is_not_a_change(self):
        self.customer.phone = "555-0123"
        self.drain()
        self.deliver()
        self.read_changes()
        self.assertFalse(self.customer.qbo_changed_fields)

    def test_merge_in_quickbooks_relinks(self):
        old_id = self.customer.qbo_id
        survivor = self.qbo_company.write("Customer", {"DisplayName": "Harbour Lights Group"}, "create")[1]
        sim_web.merge_customers(self.sim, self.qbo_company, survivor["Id"], old_id)
        self.deliver()
        self.read_changes()
        self.assertEqual(self.customer.qbo_id, survivor["Id"])
        self.assertTrue(any("Merged in QuickBooks" in m.body for m in self.customer.message_ids))
        self.customer.phone = "555-0111"
        self.drain()
        self.assertEqual(self.customer.qbo_state, "synced", self.customer.qbo_error)
        self.assertFalse([c for c in self.qbo("Customer") if c["Id"] == old_id])

    def test_merge_into_a_customer_linked_elsewhere_is_not_taken(self):
        other = self.env["res.partner"].create({"name": "Other Shop", "is_company": True, "qbo_hub": "active"})
        self.drain()
        sim_web.merge_customers(self.sim, self.qbo_company, other.qbo_id, self.customer.qbo_id)
        self.deliver()
        self.read_changes()
        self.assertEqual(self.customer.qbo_state, "error")
        self.assertIn("Other Shop", self.customer.qbo_error)
        self.assertNotEqual(self.customer.qbo_id, other.qbo_id)


@tagged("post_install", "-at_install")
class TestInboundBudget(QboInboundCase):

    def test_reads_metered_and_no_read_after_write(self):
        usage = self.env["qbo.usage"]
        reads0, writes0 = usage._qbo_month_totals(self.company)
        log_start = len(self.sim.request_log())
        partners = self.env["res.partner"].create([{"name": f"Budget {i}", "is_company": True, "qbo_hub": "active"}
                                                   for i in range(40)])
        self.drain()
        self.assertEqual(set(partners.mapped("qbo_state")), {"synced"})
        reads, writes = usage._qbo_month_totals(self.company)
        self.assertEqual(writes - writes0, 40)
        self.assertLessEqual(reads - reads0, 2, "lookups only: 40 names in two queries of one batch")
        self.assertFalse([e for e in self.sim.request_log()[log_start:] if e["method"] == "GET"],
                         "no read after a create")
        dash = self.env["qbo.dashboard"].create({"company_id": self.company.id})
        self.assertEqual(dash.metered_reads, reads)
        self.assertEqual(dash.core_writes, writes)
        self.assertFalse(dash.metered_warning)
        self.company.qbo_metered_allowance = reads   # spent
        dash.invalidate_recordset()
        self.assertTrue(dash.metered_warning)

    def test_refresh_token_hard_expiry_stored_and_warned(self):
        now = time.time()
        tokens = TokenSet("access", "refresh", now + 3600, now + 8726400, now + 20 * 86400)
        self.company.sudo().write(self.company._qbo_token_values(tokens))
        self.assertTrue(self.company.qbo_refresh_token_hard_expires_at)
        manager = self.env.ref("base.user_admin")
        manager.groups_id |= self.env.ref("qbo_financial_hub.group_qbo_manager")
        self.env["res.company"]._qbo_warn_hard_expiry()
        activities = self.env["mail.activity"].search([("res_model", "=", "res.company"),
                                                       ("res_id", "=", self.company.id)])
        self.assertTrue(activities.filtered(lambda a: a.user_id == manager))
        self.env["res.company"]._qbo_warn_hard_expiry()   # once, not every day
        self.assertEqual(len(self.env["mail.activity"].search([("res_model", "=", "res.company"),
                                                               ("res_id", "=", self.company.id),
                                                               ("user_id", "=", manager.id)])), 1)
        dash = self.env["qbo.dashboard"].create({"company_id": self.company.id})
        self.assertTrue(dash.hard_expiry_soon)


@tagged("post_install", "-at_install")
class TestWebhookRoute(QboTourCase):
    """The public route itself, reached over HTTP by the simulator's own delivery."""

    def setUp(self):
        super().setUp()
        self.company = self.qbo_configure(self.env.company, self.US_REALM)
        self.company.sudo().qbo_webhook_verifier = VERIFIER
        self.env.flush_all()

    def test_signed_delivery_accepted_tampered_refused(self):
        url = f"{self.base_url()}/qbo/webhook"
        self.sim.webhooks.configure(url, VERIFIER, auto=False)
        self.sim.companies[self.US_REALM].write("Customer", {"DisplayName": "Route Co"}, "create")
        with self.qbo_server_open():
            self.assertEqual(self.sim.webhooks.flush(), [200])
        events = self.env["qbo.webhook.event"].search([("company_id", "=", self.company.id)])
        self.assertEqual(len(events), 1)
        self.assertEqual(events.entity, "Customer")
        self.sim.webhooks.configure(url, "wrong-verifier", auto=False)
        self.sim.companies[self.US_REALM].write("Customer", {"DisplayName": "Forged Co"}, "create")
        with self.qbo_server_open():
            self.assertEqual(self.sim.webhooks.flush(), [401])
        response = self.url_open("/qbo/webhook", data=b"[]", headers={"intuit-signature": "AAAA"})
        self.assertEqual(response.status_code, 401)
        self.assertEqual(len(self.env["qbo.webhook.event"].search([])), 1)
