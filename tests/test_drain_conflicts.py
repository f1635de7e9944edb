"""A commit conflict in the drain gives every claimed job back and never ends the worker
(issue 21 point 4).

These tests leave Odoo's test mode: the lane, the token refresh and the inbound reader each open
real connections of their own, as cron workers do, so that two transactions really meet on one
row (in test mode every cursor is a savepoint of one connection, and nothing can conflict).
What they create is committed, then removed, and the company row is put back as it was."""
import json
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged

from ..models.qbo_job import QboJob
from .common import QboTransactionCase

OPTIONS = {"max_retries": 1, "sleep": lambda seconds: None}


@tagged("post_install", "-at_install")
class TestDrainCommitConflicts(QboTransactionCase):

    def setUp(self):
        super().setUp()
        self.company_id = self.env.company.id
        self.registry.leave_test_mode()
        self.addCleanup(self.registry.enter_test_mode, self.cr)
        with self.registry.cursor() as cr:
            cr.execute("SELECT row_to_json(c) FROM res_company c WHERE id = %s", [self.company_id])
            company_row = cr.fetchone()[0]
            marks = {}
            for table in ("qbo_job", "qbo_link", "qbo_usage", "ir_cron_trigger", "res_partner", "mail_message"):
                cr.execute(f"SELECT COALESCE(max(id), 0) FROM {table}")   # noqa: S608 - our own table names
                marks[table] = cr.fetchone()[0]
        self.addCleanup(self._put_back, company_row, marks)

    def _put_back(self, company_row, marks):
        """Everything this test committed goes; the company row is as it was."""
        with self.registry.cursor() as cr:
            for table in ("qbo_job", "qbo_link", "qbo_usage", "ir_cron_trigger"):
                cr.execute(f"DELETE FROM {table} WHERE id > %s", [marks[table]])  # noqa: S608
            cr.execute("DELETE FROM qbo_turn WHERE company_id = %s", [self.company_id])
            cr.execute("SELECT id FROM res_partner WHERE id > %s", [marks["res_partner"]])
            api.Environment(cr, SUPERUSER_ID, {})["res.partner"].browse([r[0] for r in cr.fetchall()]).unlink()
            cr.execute("DELETE FROM mail_message WHERE id > %s", [marks["mail_message"]])
            columns = [c for c in company_row if c != "id"]
            cr.execute(f"""UPDATE res_company c SET ({", ".join(f'"{c}"' for c in columns)}) =
                               (SELECT {", ".join(f'r."{c}"' for c in columns)}
                                  FROM json_populate_record(NULL::res_company, %s) r)
                            WHERE c.id = %s""", [json.dumps(company_row), self.company_id])  # noqa: S608

    def committed(self, function):
        """Run `function(env)` in a transaction of its own, committed."""
        with self.registry.cursor() as cr:
            return function(api.Environment(cr, SUPERUSER_ID, {}))

    def connected_customers(self, count):
        def make(env):
            company = env["res.company"].browse(self.company_id)
            self.qbo_configure(company, self.US_REALM)
            company.sudo().write({"qbo_sync_customers": True})
            partners = env["res.partner"].with_company(company).create([
                {"name": f"Conflict {i}", "is_company": True, "qbo_hub": "active"} for i in range(count)])
            return partners.ids
        return self.committed(make)

    def state(self, partner_ids):
        def read(env):
            jobs = env["qbo.job"].search([("res_model", "=", "res.partner"), ("res_id", "in", partner_ids)])
            company = env["res.company"].browse(self.company_id)
            return ({(j.state, j.attempts, bool(j.batch_ref)) for j in jobs}, company.qbo_state,
                    company.qbo_state_message or "", jobs.mapped("error_message"))
        return self.committed(read)

    def drain(self):
        return self.committed(lambda env: env["qbo.job"]._qbo_process_company(self.company_id, client_options=OPTIONS))

    def test_revocation_while_sending_gives_every_job_back_and_the_worker_goes_on(self):
        """The issue's run: the access token is refused while the writes are out; the worker
        refreshes it, Intuit refuses the refresh token (revoked): the refresh commits "Reconnect
        needed" on its own cursor. The worker's transaction must not write the company row too
        (SerializationFailure at its commit, the worker dead, the jobs 'sending' until their
        lease, an attempt counted): every job goes back, pending, no attempt counted."""
        ids = self.connected_customers(6)
        original = QboJob._qbo_plan_requests

        def revoke_then_write(jobs, chunk, plans):
            self.sim.revoke_all(self.US_REALM)
            return original(jobs, chunk, plans)
        with patch.object(QboJob, "_qbo_plan_requests", revoke_then_write):
            self.drain()   # before the fix: psycopg2.errors.SerializationFailure out of the worker
        jobs, company_state, message, _errors = self.state(ids)
        self.assertEqual(jobs, {("pending", 0, True)}, "every job back in the queue, no attempt, its key kept")
        self.assertEqual(company_state, "reconnect")
        self.assertIn("refresh token", message, "the refresh's own reason, written once")
        # reconnected, the queue drains: nothing lost, nothing twice
        self.committed(lambda env: self.qbo_configure(env["res.company"].browse(self.company_id), self.US_REALM))
        self.drain()
        jobs, company_state, _message, _errors = self.state(ids)
        self.assertEqual({state for state, _a, _k in jobs}, {"done"})
        self.assertEqual(len([c for c in self.sim.entities(self.US_REALM, "Customer")
                              if c["DisplayName"].startswith("Conflict ")]), 6)

    def test_a_link_written_meanwhile_by_another_transaction_gives_the_chunk_back(self):
        """Another worker (say the inbound reader storing a fresh SyncToken) commits a change of a
        link while this worker applies QuickBooks' answers to it: this worker's update meets a
        serialization failure. The chunk goes back without an attempt counted, its keys kept; the
        lane takes it again at once, its re-send replays them and QuickBooks answers what it did:
        nothing is created twice, and the job took one attempt."""
        ids = self.connected_customers(3)
        self.drain()
        self.committed(lambda env: env["res.partner"].browse(ids).write({"phone": "555-0100"}))
        first = self.committed(lambda env: env["qbo.job"].search([
            ("res_model", "=", "res.partner"), ("res_id", "in", ids), ("state", "=", "pending")]).ids)
        self.assertEqual(len(first), 3)
        replayed = self.sim.counters(self.US_REALM).get("replayed", 0)
        original = QboJob._qbo_apply
        met = []

        def other_transaction_first(jobs, company, outcome):
            if not met:
                met.append(1)
                self.committed(lambda env: env.cr.execute(
                    "UPDATE qbo_link SET last_sync = now() at time zone 'UTC' WHERE res_model = 'res.partner' "
                    "AND res_id IN %s", [tuple(ids)]))
            return original(jobs, company, outcome)
        with self.assertLogs("odoo.sql_db", "ERROR") as logged, \
                patch.object(QboJob, "_qbo_apply", other_transaction_first):
            self.drain()   # before the fix: the attempt of the failed save counted
        self.assertTrue(any("could not serialize access" in line for line in logged.output))
        jobs = self.committed(lambda env: [(j.state, j.attempts) for j in env["qbo.job"].browse(first)])
        self.assertEqual(jobs, [("done", 1)] * 3, "given back without counting, then sent again and done")
        self.assertGreaterEqual(self.sim.counters(self.US_REALM).get("replayed", 0) - replayed, 1,
                                "the re-send replayed the kept key")
        remote = [c for c in self.sim.entities(self.US_REALM, "Customer") if c["DisplayName"].startswith("Conflict ")]
        self.assertEqual(len(remote), 3)
        self.assertEqual({c["PrimaryPhone"]["FreeFormNumber"] for c in remote}, {"555-0100"})
