"""Realms side by side, fair turns between companies, single writes beside the batches and the
10-at-once guard (issue 16; issue 10 point 7)."""
import threading
import uuid
from unittest.mock import patch

from odoo import api, sql_db
from odoo.tests import tagged

from ..models.qbo_drain import REALM_LOCK_SPACE, Lane
from ..models.qbo_job import LEASE, QboJob
from ..models.qbo_rate import PgRateLimiter
from ..qbo import AuthenticationError
from .test_sync_customers import QboSyncCase

OPTIONS = {"max_retries": 2, "sleep": lambda seconds: None}


@tagged("post_install", "-at_install")
class TestScale(QboSyncCase):

    def setUp(self):
        super().setUp()
        self.other = self.env["res.company"].create({"name": "Second Realm Co"})
        self.env.user.company_ids |= self.other
        self.qbo_configure(self.other, self.CA_REALM)
        self.other.write({"qbo_sync_customers": True})
        self.other_env = self.env(context=dict(self.env.context, allowed_company_ids=[self.other.id]))

    def customers(self, env, prefix, count):
        partners = env["res.partner"].create([{"name": f"{prefix} {i:03d}", "is_company": True} for i in range(count)])
        partners.with_company(env.company).write({"qbo_hub": "active"})
        self.env.flush_all()
        return partners

    def claim(self, limit):
        """Claim as a worker does, in a cursor of its own (the claim commits)."""
        self.env.flush_all()
        with self.registry.cursor() as cr:
            ids = api.Environment(cr, self.env.uid, {})["qbo.job"]._qbo_claim(self.company.id, limit).ids
        self.env.invalidate_all()
        return self.env["qbo.job"].browse(ids)

    def claims(self, company_ids, chunk_size):
        """Run one worker's drain over `company_ids`; the company of every claimed chunk, in order."""
        seen = []
        claim = QboJob._qbo_claim

        def recording(job_model, company_id, limit):
            jobs = claim(job_model, company_id, limit)
            if jobs:
                seen.append(company_id)
            return jobs
        self.env.flush_all()
        with patch.object(QboJob, "_qbo_claim", recording):
            Lane(self.env, deadline=float("inf"), chunk_size=chunk_size, lease=LEASE, company_ids=company_ids,
                 client_options=OPTIONS).run()
        self.env.invalidate_all()
        return seen

    def test_small_push_waits_at_most_one_chunk_of_another_backlog(self):
        backlog = self.customers(self.env, "Backlog", 60)
        # neither company had a turn yet: the older company goes first, then the small push
        small = self.customers(self.other_env, "Small", 1)
        seen = self.claims([self.company.id, self.other.id], chunk_size=10)
        self.assertEqual(seen.count(self.company.id), 6, "the backlog in chunks of 10")
        self.assertLessEqual(seen.index(self.other.id), 1, f"at most one chunk of the backlog first: {seen}")
        self.assertEqual(small.with_company(self.other).qbo_state, "synced")
        self.assertEqual(set(backlog.mapped("qbo_state")), {"synced"})
        self.assertTrue(self.sim.entities(self.CA_REALM, "Customer"))

    def test_turns_follow_the_last_turn_not_the_backlog_age(self):
        self.customers(self.env, "Old backlog", 30)
        self.claims([self.company.id], chunk_size=10)   # the first company has had turns
        self.customers(self.env, "More backlog", 30)
        self.customers(self.other_env, "Newcomer", 3)
        seen = self.claims([self.company.id, self.other.id], chunk_size=10)
        self.assertEqual(seen[0], self.other.id, f"the company without a recent turn first: {seen}")

    def test_a_realm_held_by_another_worker_is_left_alone(self):
        partners = self.customers(self.env, "Held", 3)
        holder = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            holder.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [REALM_LOCK_SPACE, self.US_REALM])
            self.assertEqual(self.drain(), 0, "another worker drains this realm")
            self.assertEqual(set(partners.mapped("qbo_state")), {"queued"})
            self.assertFalse(self.env["qbo.job"].search([("res_id", "in", partners.ids), ("state", "=", "sending")]))
            # the other company's realm is free meanwhile
            other = self.customers(self.other_env, "Free realm", 2)
            self.assertEqual(self.env["qbo.job"]._qbo_process_company(self.other.id, client_options=OPTIONS), 2)
            self.env.invalidate_all()
            self.assertEqual(set(other.with_company(self.other).mapped("qbo_state")), {"synced"})
        finally:
            holder.execute("SELECT pg_advisory_unlock_all()")
            holder.close()   # a dead worker's claim ends with its connection
        self.assertEqual(self.drain(), 3)
        self.assertEqual(set(partners.mapped("qbo_state")), {"synced"})

    def test_next_level_waits_for_the_level_being_sent(self):
        parent = self.customers(self.env, "Parent", 1)
        child = self.env["res.partner"].create({"name": "Depot", "type": "delivery", "parent_id": parent.id,
                                                "city": "Boston"})
        child.write({"qbo_hub": "active"})
        self.env.flush_all()
        jobs = self.env["qbo.job"].search([("res_id", "in", (parent | child).ids), ("state", "=", "pending")])
        self.assertEqual(sorted(jobs.mapped("level")), [0, 1])
        first = self.claim(10)
        self.assertEqual(first.mapped("res_id"), parent.ids)
        self.assertFalse(self.claim(10),
                         "the sub-customer is not claimed while its parent is being sent")
        first.write({"state": "done"})
        self.assertEqual(self.claim(10).mapped("res_id"), child.ids)

    def test_single_writes_beside_batches_replay_their_requestid(self):
        ICP = self.env["ir.config_parameter"].sudo()
        # Intuit's proportions (500 requests, 40 batches), ten times larger so that no test waits
        ICP.set_param("qbo_financial_hub.requests_per_minute", 5000)
        ICP.set_param("qbo_financial_hub.batches_per_minute", 400)
        partners = self.customers(self.env, "Split", 60)
        jobs = self.claim(600)
        # the minute's batches are spent (seen by the plan, in this transaction only)
        self.env.cr.execute("""INSERT INTO qbo_rate_log (realm, kind, sent_at)
                               SELECT %s, 'batch', clock_timestamp() FROM generate_series(1, 400)""", [self.US_REALM])
        # the keys are given when the chunk is prepared, committed before anything is sent
        company = self.company.with_company(self.company)
        jobs._qbo_prepare(company, company._qbo_client(**OPTIONS))
        singles = jobs.filtered(lambda j: j.batch_ref.endswith("s"))
        # both budgets used at once: 30 alone, 30 in one batch (2 batches and 32 requests with the lookup)
        self.assertEqual(len(singles), 30, "the newest go one per request")
        self.assertEqual(singles, jobs.sorted("id")[-len(singles):])
        self.assertEqual(len(set(jobs.mapped("batch_ref"))), 2, "one key per /batch request of 30, one for the singles")
        jobs.write({"state": "pending", "attempts": 0})
        self.env.flush_all()
        before = self.sim.counters(self.US_REALM)
        # the worker dies once everything is sent, before writing what QuickBooks answered
        with patch.object(QboJob, "_qbo_finish", lambda jobs, company, chunk, refresh: 0):
            self.drain()
        after = self.sim.counters(self.US_REALM)
        self.assertEqual(after["create"] - before["create"], 30, "30 single creates")
        # every job holds its key and what it sent first: no lookup, the same requests again
        self.assertEqual(after["batch"] - before["batch"], 1, "no lookup batch, 30 creates in one batch")
        names = [c["DisplayName"] for c in self.qbo("Customer") if c["DisplayName"].startswith("Split ")]
        self.assertEqual(sorted(names), sorted(partners.mapped("name")))
        self.assertEqual(set(partners.mapped("qbo_state")), {"queued"})
        # its lease runs out and the same jobs go again, each the way it went the first time
        self.env.cr.execute("UPDATE qbo_job SET sent_at = sent_at - interval '1 hour' WHERE state = 'sending'")
        self.assertEqual(self.drain(), 60)
        again = self.sim.counters(self.US_REALM)
        self.assertEqual(again["create"], after["create"], "no single create was made twice")
        self.assertEqual(again["replayed"] - after["replayed"], 30 + 1, "every write replayed its requestid")
        names = [c["DisplayName"] for c in self.qbo("Customer") if c["DisplayName"].startswith("Split ")]
        self.assertEqual(len(names), 60, "no duplicate")
        self.assertEqual(set(partners.mapped("qbo_state")), {"synced"})

    def test_no_single_writes_while_the_minutes_batches_have_room(self):
        """A single write costs a request and more time than its share of a /batch: while the
        realm's minute has batches to spare for the whole chunk (none spent by others, none
        held by its chunks in flight), the chunk goes in batches only."""
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("qbo_financial_hub.requests_per_minute", 5000)
        ICP.set_param("qbo_financial_hub.batches_per_minute", 400)
        self.customers(self.env, "Roomy", 60)
        jobs = self.claim(600)
        company = self.company.with_company(self.company)
        jobs._qbo_prepare(company, company._qbo_client(**OPTIONS))
        self.assertFalse(jobs.filtered(lambda j: j.batch_ref.endswith("s")), "no single write")
        self.assertEqual(len(set(jobs.mapped("batch_ref"))), 2, "two /batch requests of 30")
        # another chunk of the realm claimed and not answered holds the rest of the minute
        self.assertEqual(jobs._qbo_batch_room(self.US_REALM, 400), jobs.browse()._qbo_batch_room(self.US_REALM, 400) + 2)

    def test_few_jobs_go_alone_and_single_writes_can_be_switched_off(self):
        self.customers(self.env, "Alone", 2)
        before = self.sim.counters(self.US_REALM)
        self.assertEqual(self.drain(), 2)
        after = self.sim.counters(self.US_REALM)
        self.assertEqual(after["create"] - before["create"], 2)
        self.env["ir.config_parameter"].sudo().set_param("qbo_financial_hub.single_writes", "0")
        self.customers(self.env, "Batched", 2)
        self.assertEqual(self.drain(), 2)
        last = self.sim.counters(self.US_REALM)
        self.assertEqual(last["create"], after["create"], "switched off: every write in a batch")

    def test_expired_token_met_by_a_sender_is_refreshed_and_replayed(self):
        partners = self.customers(self.env, "Expired", 3)
        jobs = self.claim(10)
        company = self.company.with_company(self.company)
        chunk = jobs._qbo_prepare(company, company._qbo_client(**OPTIONS))
        self.assertEqual(len(chunk.singles), 3)
        # the sends went out, but their answers were a 401 (token expired in between)
        error = AuthenticationError("Token expired", code="3200")
        chunk.results = {job_id: (None, error, False) for job_id, *_rest in chunk.singles}
        refreshed = []

        def refreshing_client(company):
            refreshed.append(company.id)
            return company._qbo_client(**OPTIONS)
        self.assertEqual(jobs._qbo_finish(company, chunk, refreshing_client), 3)
        self.assertEqual(refreshed, [self.company.id])
        self.env.invalidate_all()
        self.assertEqual(set(partners.mapped("qbo_state")), {"synced"})
        self.assertEqual(self.company.qbo_state, "connected")

    def test_second_worker_is_woken_when_two_realms_are_ready(self):
        self.customers(self.env, "Wake A", 1)
        self.customers(self.other_env, "Wake B", 1)
        first = self.env.ref("qbo_financial_hub.ir_cron_qbo_sync")
        second = self.env.ref("qbo_financial_hub.ir_cron_qbo_sync_2")
        Trigger = self.env["ir.cron.trigger"]
        before = Trigger.search_count([("cron_id", "=", second.id)])
        self.env["qbo.job"].with_context(cron_id=first.id)._qbo_wake_other_workers()
        self.assertEqual(Trigger.search_count([("cron_id", "=", second.id)]), before + 1)


@tagged("post_install", "-at_install")
class TestInFlightGuard(QboSyncCase):
    """At most N requests of one realm in flight at once, whatever worker or thread sends them."""

    def test_slots_are_shared_through_postgresql(self):
        realm = "guard-test-realm"
        budgets = {"request": 100000, "batch": 100000, "concurrent": 2}
        dbname = self.env.cr.dbname
        a, b = PgRateLimiter(dbname, realm, budgets), PgRateLimiter(dbname, realm, budgets)
        waits = []
        c = PgRateLimiter(dbname, realm, budgets, sleep=lambda s: (waits.append(s), a.release()))
        try:
            a.acquire()
            b.acquire()
            c.acquire()   # both slots are taken: it waits until `a` answers
            self.assertEqual(len(waits), 1, "the third request waited for a free slot")
            self.assertIsNone(a._slot)
            self.assertIsNotNone(c._slot)
            c.release()
            b.release()
            with sql_db.db_connect(dbname).cursor() as cr:
                cr.execute("""SELECT count(*) FROM pg_locks
                               WHERE locktype = 'advisory' AND classid = %s AND objsubid = 2
                                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                                 AND objid::bigint IN (SELECT hashtext(%s || ':' || s)::bigint & 4294967295
                                                         FROM generate_series(0, 1) s)""", [0x51B0, realm])
                self.assertEqual(cr.fetchone()[0], 0, "every slot is given back after its answer")
        finally:
            for limiter in (a, b, c):
                limiter.close()

    def test_a_realm_never_sees_more_than_ten_at_once(self):
        """Twelve senders (threads of workers) call one realm at the same time: the simulator
        counts what is in flight and would refuse an 11th with a 429."""
        peak = []
        limiter_in_flight = self.sim.limiter.in_flight
        acquire = self.sim.limiter.acquire

        def watching(realm, is_batch):
            acquire(realm, is_batch)
            peak.append(limiter_in_flight[realm])
        self.sim.set_limits(per_minute=100000, concurrent=10, batch_per_minute=100000)
        self.sim.latency_ms = 50
        try:
            with patch.object(self.sim.limiter, "acquire", watching):
                budgets = {"request": 100000, "batch": 100000, "concurrent": 10}
                company = self.company
                dbname = self.env.cr.dbname
                base, token = company._qbo_api_base_url(), company.sudo().qbo_access_token
                from ..qbo import QBOClient
                errors = []

                def sender():
                    limiter = PgRateLimiter(dbname, self.US_REALM, budgets)
                    client = QBOClient(self.US_REALM, base, token, rate_limiter=limiter, max_retries=0)
                    try:
                        for _ in range(5):
                            client.company_info()
                    except Exception as exc:  # noqa: BLE001 - asserted below
                        errors.append(exc)
                    finally:
                        limiter.close()
                threads = [threading.Thread(target=sender) for _ in range(12)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(60)
        finally:
            self.sim.latency_ms = 0
        self.assertFalse(errors, errors)
        self.assertEqual(len(peak), 60)
        self.assertLessEqual(max(peak), 10)
        self.assertEqual(self.sim.counters(self.US_REALM)["throttled"], 0)

    def test_ready_in_says_when_the_minute_has_room_without_taking_it(self):
        """What a lane asks before claiming a chunk of a realm it already sends (its lookup would
        otherwise hold the worker's thread, and every other company's turn, until the minute
        has room): nothing is reserved by asking."""
        realm = f"ready-in-test-{uuid.uuid4().hex[:12]}"
        budgets = {"request": 3, "batch": 2, "concurrent": 10}
        limiter = PgRateLimiter(self.env.cr.dbname, realm, budgets, sleep=lambda s: None)
        try:
            self.assertEqual(limiter.ready_in(), 0.0, "an unused realm has room at once")
            limiter.acquire("batch")
            limiter.release()
            self.assertEqual(limiter.ready_in(), 0.0, "one batch of two: room left")
            limiter.acquire("batch")
            limiter.release()
            wait = limiter.ready_in()
            self.assertGreater(wait, 55, "two batches of two: the next one waits for the first to leave the minute")
            self.assertEqual(limiter.ready_in(("request",)), 0.0, "two requests of three: room left")
            self.assertAlmostEqual(limiter.ready_in(), wait, delta=1, msg="asking took nothing")
        finally:
            limiter.close()

    def test_clients_beside_the_drain_count_in_the_realm_budget(self):
        """A list refresh, an import or a CDC read (any client of _qbo_client without a limiter
        of its own) reserves its requests in the realm's budget the workers share, and gives its
        connection back after each answer."""
        realm = self.company.qbo_realm_id
        with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
            cr.execute("SELECT clock_timestamp()")
            started = cr.fetchone()[0]
            client = self.company._qbo_client()
            client.company_info()
            client.preferences()
            cr.rollback()   # a new snapshot: the reservations were committed on the budget's own connection
            cr.execute("SELECT count(*) FROM qbo_rate_log WHERE realm = %s AND kind = 'request' AND sent_at >= %s",
                       [realm, started])
            self.assertEqual(cr.fetchone()[0], 2)
        self.assertIsNone(client.rate_limiter._cr, "the budget's connection is back in the pool")
