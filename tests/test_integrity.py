"""Issue 10: nothing overwritten, nothing stuck. A QuickBooks record linked to one Odoo record
is never taken for another; whatever fails for one record is that record's error; the
bookkeeping never leaves a chunk 'sending'; a job keeps its idempotency key until QuickBooks
has answered it; a revoked connection keeps every job."""
from unittest.mock import patch

from odoo import Command
from odoo.tests import tagged

from ..models.qbo_job import MAX_ATTEMPTS, QboJob
from .test_invoices import QboInvoiceCase
from .test_sync_customers import QboSyncCase


def drain_revoked_before_writes(case):
    """Drain `case`'s queue with the connection revoked after the lookups, before the writes go out."""
    original = QboJob._qbo_plan_requests

    def revoke_then_write(jobs, chunk, plans):
        case.sim.revoke_all(case.US_REALM)
        return original(jobs, chunk, plans)
    with patch.object(QboJob, "_qbo_plan_requests", revoke_then_write):
        case.drain()


class QboIntegrityCase(QboSyncCase):

    def jobs(self, records):
        return self.env["qbo.job"].search([("res_model", "=", records._name), ("res_id", "in", records.ids)])

    def product(self, **vals):
        values = {"name": "Garden Hose 20m", "default_code": "HOSE-20", "list_price": 25.5, "type": "consu",
                  "sale_ok": True}
        values.update(vals)
        return self.env["product.product"].create(values)

    def expire_leases(self):
        self.env.cr.execute("UPDATE qbo_job SET sent_at = sent_at - interval '1 hour' WHERE state = 'sending'")

    def make_ready(self):
        self.env.cr.execute("UPDATE qbo_job SET next_attempt_at = '2000-01-01' WHERE state = 'pending'")

    def requestids(self):
        return [entry.get("requestid") for entry in self.sim.request_log() if "/batch" in entry.get("path", "")]


@tagged("post_install", "-at_install")
class TestLinkTakenOnce(QboIntegrityCase):
    """Point 1: matching never adopts a QuickBooks record linked to another Odoo record."""

    def test_same_name_as_a_linked_customer_is_a_name_clash(self):
        first = self.Partner.create({"name": "Harbour Lights", "is_company": True, "email": "first@harbour.example",
                                     "city": "Boston", "qbo_hub": "active"})
        self.drain()
        self.assertEqual(first.qbo_state, "synced", first.qbo_error)
        second = self.Partner.create({"name": "Harbour Lights", "is_company": True, "ref": "HL-2",
                                      "email": "second@harbour.example", "city": "Denver", "qbo_hub": "active"})
        self.drain()
        self.make_ready()
        self.drain()
        remote_first = [c for c in self.qbo("Customer") if c["Id"] == first.qbo_id][0]
        self.assertEqual(remote_first["PrimaryEmailAddr"]["Address"], "first@harbour.example", "not overwritten")
        self.assertEqual(remote_first["BillAddr"]["City"], "Boston")
        self.assertEqual(second.qbo_state, "synced", second.qbo_error)
        self.assertNotEqual(second.qbo_id, first.qbo_id)
        remote_second = [c for c in self.qbo("Customer") if c["Id"] == second.qbo_id][0]
        self.assertEqual(remote_second["DisplayName"], "Harbour Lights (HL-2)", "the documented suffix rule")
        self.assertEqual(remote_second["PrimaryEmailAddr"]["Address"], "second@harbour.example")
        self.assertFalse(self.jobs(first | second).filtered(lambda j: j.state in ("pending", "sending")))

    def test_two_unlinked_partners_with_one_name_in_one_chunk(self):
        partners = self.Partner.create([{"name": "Twin Shop", "is_company": True, "ref": f"TW-{i}",
                                         "qbo_hub": "active"} for i in range(2)])
        for _round in range(3):
            self.drain()
            self.make_ready()
        self.assertEqual(set(partners.mapped("qbo_state")), {"synced"}, partners.mapped("qbo_error"))
        self.assertEqual(len(set(partners.mapped("qbo_id"))), 2)
        names = sorted(c["DisplayName"] for c in self.qbo("Customer") if c["DisplayName"].startswith("Twin Shop"))
        # the two creates race (sent side by side): one takes the plain name, the other its suffixed one
        self.assertEqual(len(names), 2)
        self.assertIn("Twin Shop", names)
        self.assertIn([n for n in names if n != "Twin Shop"][0], ["Twin Shop (TW-0)", "Twin Shop (TW-1)"])

    def test_same_email_under_email_key_is_an_error_naming_the_other(self):
        self.company.qbo_customer_match = "email"
        first = self.Partner.create({"name": "Anna Baker", "email": "shared@example.com", "qbo_hub": "active"})
        self.drain()
        self.assertEqual(first.qbo_state, "synced", first.qbo_error)
        second = self.Partner.create({"name": "Bob Baker", "email": "shared@example.com", "phone": "555",
                                      "qbo_hub": "active"})
        self.drain()
        self.assertEqual(second.qbo_state, "error")
        self.assertIn("Anna Baker", second.qbo_error)
        self.assertIn("already linked", second.qbo_error)
        remote = [c for c in self.qbo("Customer") if c["Id"] == first.qbo_id][0]
        self.assertEqual(remote["DisplayName"], "Anna Baker", "the linked customer is not renamed")
        self.assertNotIn("PrimaryPhone", {k for k, v in remote.items() if v and k == "PrimaryPhone"
                                          and v.get("FreeFormNumber") == "555"})
        self.assertIn("QuickBooks push failed", second.message_ids[:1].body)

    def test_same_sku_as_a_linked_product_is_an_error(self):
        first = self.product()
        self.drain()
        self.assertEqual(first.qbo_state, "synced", first.qbo_error)
        second = self.product(name="Another hose", list_price=99.0)
        self.drain()
        self.assertEqual(second.qbo_state, "error")
        self.assertIn(first.display_name, second.qbo_error)
        item = [i for i in self.qbo("Item") if i["Id"] == first.qbo_id][0]
        self.assertEqual(item["Name"], "Garden Hose 20m", "the linked item is not renamed")
        self.assertEqual(float(item["UnitPrice"]), 25.5)

    def test_deleted_and_recreated_product_takes_its_item_again(self):
        first = self.product(default_code="REBORN-1")
        self.drain()
        qbo_id = first.qbo_id
        self.assertTrue(qbo_id)
        first.unlink()
        self.assertFalse(self.env["qbo.link"].search([("res_model", "=", "product.product"),
                                                      ("qbo_id", "=", qbo_id)]), "the link went with the record")
        second = self.product(default_code="REBORN-1", name="Garden Hose 20m v2")
        self.drain()
        self.assertEqual(second.qbo_state, "synced", second.qbo_error)
        self.assertEqual(second.qbo_id, qbo_id, "the QuickBooks twin is linked again")
        self.assertEqual(len([i for i in self.qbo("Item") if i.get("Sku") == "REBORN-1"]), 1)

    def test_stale_link_of_a_record_deleted_behind_the_orm_does_not_block(self):
        first = self.product(default_code="GONE-1")
        self.drain()
        qbo_id = first.qbo_id
        self.env.cr.execute("DELETE FROM qbo_job WHERE res_model = 'product.product' AND res_id = %s", [first.id])
        self.env.cr.execute("DELETE FROM product_product WHERE id = %s", [first.id])
        self.env.invalidate_all()
        second = self.product(default_code="GONE-1", name="Garden Hose again")
        self.drain()
        self.assertEqual(second.qbo_state, "synced", second.qbo_error)
        self.assertEqual(second.qbo_id, qbo_id)


@tagged("post_install", "-at_install")
class TestPerRecordFailures(QboIntegrityCase):
    """Point 2: failures stay per record; nothing is left 'sending'."""

    def test_newline_in_a_sku_among_19_good_records(self):
        self.company.qbo_product_match = "sku"
        good = self.env["product.product"].browse([self.product(name=f"Good {i:02d}", default_code=f"GOOD-{i:02d}").id
                                                   for i in range(19)])
        bad = self.product(name="Bad one", default_code="BAD\n1")
        self.drain()
        self.assertEqual(set(good.mapped("qbo_state")), {"synced"}, good.mapped("qbo_error"))
        self.assertEqual(bad.qbo_state, "error")
        self.assertIn("line break", bad.qbo_error)
        self.assertFalse(self.jobs(good | bad).filtered(lambda j: j.state in ("pending", "sending")))

    def test_newline_in_an_email_under_email_key(self):
        self.company.qbo_customer_match = "email"
        good = self.Partner.create([{"name": f"Mail {i}", "email": f"m{i}@example.com", "qbo_hub": "active"}
                                    for i in range(5)])
        bad = self.Partner.create({"name": "Broken mail", "email": "a@b.com\nx", "qbo_hub": "active"})
        self.drain()
        self.assertEqual(set(good.mapped("qbo_state")), {"synced"})
        self.assertEqual(bad.qbo_state, "error")
        self.assertIn("line break", bad.qbo_error)

    def test_exception_while_matching_one_record(self):
        partners = self.Partner.create([{"name": f"Match {i}", "is_company": True, "qbo_hub": "active"}
                                        for i in range(5)])
        victim = partners[2]
        original = type(self.env["res.partner"])._qbo_match_queries

        def match_queries(records, company):
            if victim in records:
                raise ValueError("unexpected value in a lookup")
            return original(records, company)
        with patch.object(type(self.env["res.partner"]), "_qbo_match_queries", match_queries):
            self.drain()
        self.assertEqual(victim.qbo_state, "error")
        self.assertIn("unexpected value in a lookup", victim.qbo_error)
        self.assertEqual(set((partners - victim).mapped("qbo_state")), {"synced"})

    def test_exception_while_building_one_payload(self):
        partners = self.Partner.create([{"name": f"Build {i}", "is_company": True, "qbo_hub": "active"}
                                        for i in range(5)])
        victim = partners[1]
        original = type(self.env["res.partner"])._qbo_prepare_payload

        def prepare(record, company, link, match):
            if record == victim:
                raise KeyError("boom")
            return original(record, company, link, match)
        with patch.object(type(self.env["res.partner"]), "_qbo_prepare_payload", prepare):
            self.drain()
        self.assertEqual(victim.qbo_state, "error")
        self.assertIn("boom", victim.qbo_error)
        self.assertEqual(set((partners - victim).mapped("qbo_state")), {"synced"})
        self.assertEqual(len([c for c in self.qbo("Customer") if c["DisplayName"].startswith("Build ")]), 4)

    def test_failure_while_applying_results_never_leaves_sending(self):
        partners = self.Partner.create([{"name": f"Apply {i}", "is_company": True, "qbo_hub": "active"}
                                        for i in range(3)])
        original = QboJob._qbo_check_answers
        calls = []

        def broken(jobs, company, outcome, links):
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("database hiccup")
            return original(jobs, company, outcome, links)
        with patch.object(QboJob, "_qbo_check_answers", broken):
            self.drain()
        jobs = self.jobs(partners)
        self.assertEqual(set(jobs.mapped("state")), {"pending"}, "back in the queue, not 'sending'")
        self.assertIn("database hiccup", jobs[:1].error_message)
        self.assertEqual(set(jobs.mapped("attempts")), {1}, "the attempt counts")
        keys = set(jobs.mapped("batch_ref"))
        self.assertEqual(len(keys), 1)
        self.assertTrue(all(keys), "the idempotency key is kept: QBO may have created them")
        self.make_ready()
        self.drain()
        self.assertEqual(set(partners.mapped("qbo_state")), {"synced"})
        self.assertEqual(len([c for c in self.qbo("Customer") if c["DisplayName"].startswith("Apply ")]), 3,
                         "the re-send replayed the first requestid: nothing created twice")
        self.assertGreaterEqual(self.sim.counters(self.US_REALM).get("replayed", 0), 1)

    def test_bookkeeping_that_keeps_failing_still_releases_the_chunk(self):
        partners = self.Partner.create([{"name": f"Stubborn {i}", "is_company": True, "qbo_hub": "active"}
                                        for i in range(2)])

        def broken(jobs, company, outcome, links):
            raise RuntimeError("disk full")
        with patch.object(QboJob, "_qbo_check_answers", broken):
            self.drain()
        jobs = self.jobs(partners)
        self.assertEqual(set(jobs.mapped("state")), {"pending"})
        self.assertIn("disk full", jobs[:1].error_message)
        self.assertTrue(all(jobs.mapped("batch_ref")), "keys kept")
        self.make_ready()
        self.drain()
        self.assertEqual(set(partners.mapped("qbo_state")), {"synced"})
        self.assertEqual(len([c for c in self.qbo("Customer") if c["DisplayName"].startswith("Stubborn ")]), 2)

    def test_expired_lease_counts_an_attempt_and_gives_up_with_a_note(self):
        partner = self.Partner.create({"name": "Lease Holder", "is_company": True, "qbo_hub": "active"})
        self.env.flush_all()
        job = self.jobs(partner)
        for _claim in range(MAX_ATTEMPTS):
            with self.registry.cursor() as cr:
                from odoo import api
                claimed = api.Environment(cr, self.env.uid, {})["qbo.job"]._qbo_claim(self.company.id, 10)
                self.assertEqual(claimed.ids, job.ids)
            self.expire_leases()   # the worker died with the chunk
        job.invalidate_recordset()
        self.assertEqual(job.attempts, MAX_ATTEMPTS)
        self.drain()   # the next claim is one too many
        job.invalidate_recordset()
        self.assertEqual(job.state, "error")
        self.assertIn("Given up after", job.error_message)
        self.assertEqual(partner.qbo_state, "error")
        self.assertIn("Given up after", partner.message_ids[:1].body)


@tagged("post_install", "-at_install")
class TestIdempotencyAndRevocation(QboIntegrityCase):
    """Points 3 and 6."""

    def test_key_kept_across_a_failed_chunk_and_reclaim(self):
        partners = self.Partner.create([{"name": f"Keyed {i:02d}", "is_company": True, "qbo_hub": "active"}
                                        for i in range(35)])
        # every answer is lost: QBO creates, Odoo never hears back
        self.sim.set_faults(self.US_REALM, lost_rate=1.0, seed=3)
        with patch.object(QboJob, "_qbo_lookup", lambda jobs, company, client, groups, outcome:
                          [{} for _group in groups]):
            self.drain(max_retries=0)
        jobs = self.jobs(partners)
        self.assertEqual(set(jobs.mapped("state")), {"pending"})
        keys = {job.id: job.batch_ref for job in jobs}
        self.assertEqual(len(set(keys.values())), 2, "35 jobs: two requests of at most 30")
        self.sim.set_faults(self.US_REALM)
        self.make_ready()
        # the lookup is switched off: only the kept requestid can prevent duplicates
        with patch.object(QboJob, "_qbo_lookup", lambda jobs, company, client, groups, outcome:
                          [{} for _group in groups]):
            self.drain()
        self.assertEqual(set(partners.mapped("qbo_state")), {"synced"})
        names = [c["DisplayName"] for c in self.qbo("Customer") if c["DisplayName"].startswith("Keyed ")]
        self.assertEqual(len(names), 35, "no duplicate")
        self.assertGreaterEqual(self.sim.counters(self.US_REALM).get("replayed", 0), 2)
        sent = self.requestids()
        for key in set(keys.values()):
            self.assertEqual(sum(1 for rid in sent if rid and rid.startswith(key)), 2, "the same requestid, twice")

    def test_change_during_an_unanswered_send_is_pushed_after_the_replay(self):
        partner = self.Partner.create({"name": "Moving Target", "is_company": True, "city": "Boston",
                                       "qbo_hub": "active"})
        self.sim.set_faults(self.US_REALM, lost_rate=1.0, seed=3)
        with patch.object(QboJob, "_qbo_lookup", lambda jobs, company, client, groups, outcome:
                          [{} for _group in groups]):
            self.drain(max_retries=0)
        self.sim.set_faults(self.US_REALM)
        partner.city = "Denver"   # coalesces into the waiting job, which carries the old key
        self.make_ready()
        for _round in range(2):
            self.drain()
            self.make_ready()
        remote = [c for c in self.qbo("Customer") if c["DisplayName"] == "Moving Target"]
        self.assertEqual(len(remote), 1)
        self.assertEqual(remote[0]["BillAddr"]["City"], "Denver", "the change made during the send follows")
        self.assertEqual(partner.qbo_state, "synced")

    def test_revoked_during_a_write_batch_keeps_jobs_pending(self):
        partners = self.Partner.create([{"name": f"Revoked {i:02d}", "is_company": True, "qbo_hub": "active"}
                                        for i in range(40)])
        drain_revoked_before_writes(self)
        self.company.invalidate_recordset()
        self.assertEqual(self.company.qbo_state, "reconnect")
        jobs = self.jobs(partners)
        self.assertEqual(set(jobs.mapped("state")), {"pending"}, "nothing in error")
        self.assertEqual(set(jobs.mapped("attempts")), {0}, "no attempt counted")
        self.assertEqual(set(partners.mapped("qbo_state")), {"queued"})
        # reconnecting drains the queue fully
        self.qbo_configure(self.company, self.US_REALM)
        self.drain()
        self.assertEqual(set(partners.mapped("qbo_state")), {"synced"})
        self.assertEqual(len([c for c in self.qbo("Customer") if c["DisplayName"].startswith("Revoked ")]), 40)

    def test_revoked_during_the_lookup_keeps_jobs_pending(self):
        partners = self.Partner.create([{"name": f"Lookup {i}", "is_company": True, "qbo_hub": "active"}
                                        for i in range(3)])
        original = QboJob._qbo_lookup

        def revoke_then_lookup(jobs, company, client, groups, outcome):
            self.sim.revoke_all(self.US_REALM)
            return original(jobs, company, client, groups, outcome)
        with patch.object(QboJob, "_qbo_lookup", revoke_then_lookup):
            self.drain()
        jobs = self.jobs(partners)
        self.assertEqual(set(jobs.mapped("state")), {"pending"})
        self.assertEqual(set(jobs.mapped("attempts")), {0})
        self.company.invalidate_recordset()
        self.assertEqual(self.company.qbo_state, "reconnect")


@tagged("post_install", "-at_install")
class TestReplayedAnswers(QboIntegrityCase):
    """What `make chaos` found: a kept key's answer is QuickBooks' answer to what was first sent
    under it, and a QuickBooks record is owned by the create whose requestid made it."""

    def lose_every_answer(self):
        """One drain in which QuickBooks carries out every write and Odoo hears nothing back
        (nothing to find yet: the lookup is skipped, its answer would be lost too)."""
        self.sim.set_faults(self.US_REALM, lost_rate=1.0, seed=3)
        with patch.object(QboJob, "_qbo_lookup", lambda jobs, company, client, groups, outcome:
                          [{} for _group in groups]):
            self.drain(max_retries=0)
        self.sim.set_faults(self.US_REALM)

    def customers(self, prefix):
        return {c["Id"]: c for c in self.qbo("Customer") if c["DisplayName"].startswith(prefix)}

    def test_replayed_refusal_of_a_clash_is_retried_under_the_suffixed_name(self):
        partners = self.Partner.create([{"name": "Triple Shop", "is_company": True, "ref": f"TS-{i}",
                                         "email": f"ts{i}@example.com", "qbo_hub": "active"} for i in range(3)])
        self.lose_every_answer()
        self.assertEqual(len(self.customers("Triple Shop")), 1, "the first create went through, the others met 6240")
        jobs = self.jobs(partners)
        self.assertEqual(set(jobs.mapped("state")), {"pending"})
        self.assertEqual(len(set(jobs.mapped("batch_ref"))), 1, "one request, its key kept")
        self.assertEqual({job.sent_request["payload"]["DisplayName"] for job in jobs}, {"Triple Shop"})
        for _round in range(3):
            self.make_ready()
            self.drain()
        self.assertEqual(set(partners.mapped("qbo_state")), {"synced"}, partners.mapped("qbo_error"))
        remote = self.customers("Triple Shop")
        self.assertEqual(len(remote), 3, "no duplicate, none missing")
        self.assertEqual(set(partners.mapped("qbo_id")), set(remote))
        for partner in partners:
            customer = remote[partner.qbo_id]
            self.assertEqual(customer["PrimaryEmailAddr"]["Address"], partner.email, "each holds its own record")
            self.assertIn(customer["DisplayName"], ("Triple Shop", f"Triple Shop ({partner.ref})"))
        self.assertEqual(sorted(c["DisplayName"] for c in remote.values()).count("Triple Shop"), 1)
        self.assertGreaterEqual(self.sim.counters(self.US_REALM).get("replayed", 0), 1, "the key was replayed")
        self.assertFalse(self.jobs(partners).filtered(lambda j: j.state in ("pending", "sending", "error")))
        self.assertFalse(self.jobs(partners).filtered("sent_request"), "kept only while the key waits")

    def test_match_made_by_an_unanswered_create_of_another_record_is_not_adopted(self):
        first = self.Partner.create({"name": "Race Corner", "is_company": True, "ref": "RC-1",
                                     "email": "first@race.example", "qbo_hub": "active"})
        self.lose_every_answer()
        created = self.customers("Race Corner")
        self.assertEqual(len(created), 1)
        first_job = self.jobs(first)
        # the first record's request is still in flight in another worker's chunk
        self.env.cr.execute("UPDATE qbo_job SET state = 'sending', sent_at = now() at time zone 'UTC' WHERE id = %s",
                            [first_job.id])
        second = self.Partner.create({"name": "Race Corner", "is_company": True, "ref": "RC-2",
                                      "email": "second@race.example", "qbo_hub": "active"})
        self.drain()
        second_job = self.jobs(second)
        self.assertEqual(second_job.state, "pending", second_job.error_message)
        self.assertFalse(second.qbo_id, "the match may be the first record's creation: not adopted")
        self.assertIn("not answered yet", second_job.error_message)
        self.assertEqual(second_job.attempts, 0, "waiting for another's answer is no attempt")
        (remote,) = self.customers("Race Corner").values()
        self.assertEqual(remote["PrimaryEmailAddr"]["Address"], "first@race.example", "not overwritten")
        # the worker of the first record died: its lease expires and its kept key is replayed
        self.expire_leases()
        for _round in range(3):
            self.make_ready()
            self.drain()
        self.assertEqual(first.qbo_state, "synced", first.qbo_error)
        self.assertEqual(first.qbo_id, next(iter(created)), "the create whose requestid made it owns it")
        self.assertEqual(second.qbo_state, "synced", second.qbo_error)
        remote = self.customers("Race Corner")
        self.assertEqual(len(remote), 2)
        self.assertEqual(remote[first.qbo_id]["PrimaryEmailAddr"]["Address"], "first@race.example")
        self.assertEqual(remote[second.qbo_id]["DisplayName"], "Race Corner (RC-2)")

    def test_replayed_create_with_a_change_made_meanwhile_follows_up(self):
        partner = self.Partner.create({"name": "Drifting Shop", "is_company": True, "ref": "DS-1",
                                       "qbo_hub": "active"})
        self.lose_every_answer()
        partner.name = "Drifting Shop Renamed"   # coalesces into the waiting job
        for _round in range(3):
            self.make_ready()
            self.drain()
        self.assertEqual(partner.qbo_state, "synced", partner.qbo_error)
        remote = self.customers("Drifting Shop")
        self.assertEqual(len(remote), 1, "the replay is the first create: nothing created twice")
        self.assertEqual(remote[partner.qbo_id]["DisplayName"], "Drifting Shop Renamed")

    def test_superseded_job_replays_the_first_request_it_took_over(self):
        partner = self.Partner.create({"name": "Handed Shop", "is_company": True, "city": "Boston",
                                       "qbo_hub": "active"})
        original = QboJob._qbo_plan_requests
        changes = ["Denver"]

        def change_while_sending(jobs, chunk, plans):
            result = original(jobs, chunk, plans)
            if changes:   # the record changes while its job is 'sending': a new job waits beside it
                partner.with_env(jobs.env).write({"city": changes.pop()})
            return result
        with patch.object(QboJob, "_qbo_plan_requests", change_while_sending):
            self.lose_every_answer()
        jobs = self.jobs(partner)
        first, newer = jobs.sorted("id")
        self.assertEqual(first.state, "cancelled", "superseded by the newer change")
        self.assertEqual(newer.state, "pending")
        self.assertEqual(newer.batch_ref, first.batch_ref, "the unanswered key is carried on")
        self.assertEqual(newer.sent_request["bId"], str(first.id), "with the request it was sent in")
        self.assertTrue(newer.follow_up)
        for _round in range(3):
            self.make_ready()
            self.drain()
        remote = self.customers("Handed Shop")
        self.assertEqual(len(remote), 1, "the replay answered the first create: nothing created twice")
        self.assertEqual(partner.qbo_state, "synced", partner.qbo_error)
        self.assertEqual(remote[partner.qbo_id]["BillAddr"]["City"], "Denver", "the change follows the replay")


@tagged("post_install", "-at_install")
class TestLifeCycle(QboIntegrityCase):
    """Point 4: archive / unarchive, delete, merge."""

    def remote_customer(self, partner):
        return [c for c in self.qbo("Customer") if c["Id"] == partner.qbo_id][0]

    def test_archive_and_unarchive_customer(self):
        partner = self.Partner.create({"name": "Seasonal Shop", "is_company": True, "qbo_hub": "active"})
        self.drain()
        self.assertIs(self.remote_customer(partner)["Active"], True)
        partner.action_archive()
        self.assertEqual(partner.qbo_state, "queued")
        self.drain()
        self.assertIs(self.remote_customer(partner)["Active"], False)
        self.assertEqual(partner.qbo_state, "synced", partner.qbo_error)
        partner.action_unarchive()
        self.drain()
        self.assertIs(self.remote_customer(partner)["Active"], True)

    def test_archived_unlinked_customer_is_not_created(self):
        partner = self.Partner.create({"name": "Never Active", "is_company": True})
        partner.action_archive()
        partner.with_context(active_test=False).qbo_hub = "active"
        self.drain()
        self.assertFalse(self.qbo_by_name("Customer", "Never Active"))
        self.assertEqual(partner.qbo_state, "none")

    def test_archive_and_unarchive_product(self):
        product = self.product(default_code="ARCH-1")
        self.drain()
        item = lambda: [i for i in self.qbo("Item") if i["Id"] == product.qbo_id][0]  # noqa: E731
        product.action_archive()
        self.drain()
        self.assertIs(item()["Active"], False)
        product.action_unarchive()
        self.drain()
        self.assertIs(item()["Active"], True)

    def test_deleted_record_takes_link_and_pending_jobs(self):
        partner = self.Partner.create({"name": "Short Lived", "is_company": True, "qbo_hub": "active"})
        self.assertEqual(len(self.pending_jobs(partner)), 1)
        partner_id = partner.id
        partner.unlink()
        self.assertFalse(self.env["qbo.job"].search([("res_model", "=", "res.partner"), ("res_id", "=", partner_id),
                                                     ("state", "=", "pending")]))
        self.assertFalse(self.env["qbo.link"].search([("res_model", "=", "res.partner"), ("res_id", "=", partner_id)]))

    def test_merge_of_two_linked_partners_then_import(self):
        keep = self.Partner.create({"name": "Merge Keep", "is_company": True, "email": "m@example.com",
                                    "qbo_hub": "active"})
        gone = self.Partner.create({"name": "Merge Gone", "is_company": True, "email": "m@example.com",
                                    "qbo_hub": "active"})
        self.drain()
        gone_qbo = gone.qbo_id
        keep_qbo = keep.qbo_id
        self.assertTrue(gone_qbo and keep_qbo)
        wizard = self.env["base.partner.merge.automatic.wizard"].create({})
        wizard._merge((keep | gone).ids, keep)
        self.assertFalse(gone.exists())
        links = self.env["qbo.link"].search([("res_model", "=", "res.partner"),
                                             ("qbo_id", "in", [gone_qbo, keep_qbo])])
        self.assertEqual(links.mapped("res_id"), [keep.id], "one link, on the surviving partner")
        self.assertEqual(keep.qbo_id, keep_qbo)
        self.assertIn("Merge Gone", keep.message_ids[:1].body)
        self.assertIn("made inactive", keep.message_ids[:1].body)
        self.drain()
        absorbed = [c for c in self.qbo("Customer") if c["Id"] == gone_qbo][0]
        self.assertIs(absorbed["Active"], False, "the absorbed partner's customer is made inactive")
        self.assertIs(self.remote_customer(keep)["Active"], True)
        imp = self.env["qbo.import"].with_user(self.manager)._qbo_start("customer", self.company)
        self.env.flush_all()
        imp._qbo_run()
        self.env.invalidate_all()
        self.assertEqual(imp.state, "done", imp.error_message)
        self.assertEqual(keep.name, "Merge Keep")

    def test_merge_keeps_the_absorbed_link_when_the_survivor_has_none(self):
        keep = self.Partner.create({"name": "Survivor", "is_company": True, "email": "s@example.com"})
        gone = self.Partner.create({"name": "Absorbed", "is_company": True, "email": "s@example.com",
                                    "qbo_hub": "active"})
        self.drain()
        gone_qbo = gone.qbo_id
        self.env["base.partner.merge.automatic.wizard"].create({})._merge((keep | gone).ids, keep)
        self.assertEqual(keep.qbo_id, gone_qbo)
        self.assertEqual(keep.qbo_state, "synced")
        self.drain()
        self.assertIs([c for c in self.qbo("Customer") if c["Id"] == gone_qbo][0]["Active"], True)


@tagged("post_install", "-at_install")
class TestImportKeepsLinkedRecords(QboIntegrityCase):
    """Point 5: an import links and fills empty fields; it never reshapes a linked record."""

    def run_import(self, kind):
        imp = self.env["qbo.import"].with_user(self.manager)._qbo_start(kind, self.company)
        self.env.flush_all()
        imp._qbo_run()
        self.env.invalidate_all()
        return imp

    def test_import_never_renames_retypes_or_reparents(self):
        parent = self.Partner.create({"name": "Harbour Group", "is_company": True, "qbo_hub": "active"})
        self.drain()
        delivery = self.Partner.create({"name": "Dock 4", "parent_id": parent.id, "type": "delivery",
                                        "city": "Oakland", "qbo_hub": "active"})
        person = self.Partner.create({"name": "Jo: Smith", "is_company": False, "qbo_hub": "active"})
        self.drain()
        self.assertEqual(delivery.qbo_state, "synced", delivery.qbo_error)
        self.assertEqual([c for c in self.qbo("Customer") if c["Id"] == delivery.qbo_id][0]["FullyQualifiedName"],
                         "Harbour Group:Dock 4")
        imp = self.run_import("customer")
        self.assertEqual(imp.state, "done", imp.error_message)
        self.assertEqual(delivery.name, "Dock 4", "not renamed to QuickBooks' FullyQualifiedName")
        self.assertEqual(delivery.parent_id, parent)
        self.assertEqual(delivery.type, "delivery")
        self.assertEqual(person.name, "Jo: Smith", "':' is not turned into ' - '")
        self.assertFalse(person.is_company, "a person stays a person")

    def test_import_fills_empty_fields_only(self):
        partner = self.Partner.create({"name": "Amy's Bird Sanctuary", "is_company": True,
                                       "email": "amy@odoo.example"})
        imp = self.run_import("customer")
        self.assertEqual(imp.linked_count, 1)
        self.assertEqual(partner.qbo_state, "synced")
        self.assertEqual(partner.email, "amy@odoo.example", "Odoo's value is kept")
        self.assertEqual(partner.city, "Half Moon Bay", "an empty address is filled")

    def test_constraint_error_on_one_row_is_its_skip_reason(self):
        imp = self.env["qbo.import"].with_user(self.manager)._qbo_start("customer", self.company)
        self.env.flush_all()
        Import = type(self.env["qbo.import"])
        original = Import._qbo_match_partners

        def match_then_intrude(importer, rows):
            found = original(importer, rows)
            # another worker links Bill's Windsurf Shop (QBO 2) to some partner meanwhile
            intruder = importer.env["res.partner"].create({"name": "Intruder"})
            importer.env["qbo.link"].sudo().create({"company_id": self.company.id, "res_model": "res.partner",
                                                    "res_id": intruder.id, "qbo_id": "2", "state": "synced"})
            return found
        with patch.object(Import, "_qbo_match_partners", match_then_intrude):
            imp._qbo_run()
        self.env.invalidate_all()
        self.assertEqual(imp.state, "done", imp.error_message)
        self.assertIn("Bill's Windsurf Shop", imp.skipped_reasons or "")
        self.assertEqual(imp.skipped_count, 1)
        amy = self.env["qbo.link"].search([("company_id", "=", self.company.id), ("res_model", "=", "res.partner"),
                                           ("qbo_id", "=", "1")])
        self.assertTrue(amy, "the other rows are linked")


@tagged("post_install", "-at_install")
class TestDocumentsLifeCycle(QboInvoiceCase):
    """Point 4 for documents."""

    def test_pushed_invoice_deleted_after_reset_to_draft_is_voided(self):
        move = self.invoice()
        move.action_qbo_push()
        self.drain()
        qbo_id, number = move.qbo_id, move.name
        self.assertTrue(qbo_id)
        move.button_draft()
        move.unlink()
        self.drain()
        voided = [r for r in self.qbo("Invoice") if r["Id"] == qbo_id][0]
        self.assertEqual(float(voided["TotalAmt"]), 0.0)
        self.assertEqual(voided["PrivateNote"], "Voided")
        self.assertNotEqual(voided["DocNumber"], number, "the number is freed for Odoo's next invoice")
        self.assertFalse(self.env["qbo.link"].search([("qbo_id", "=", qbo_id), ("res_model", "=", "account.move")]))
        # Odoo gives the number again: the new invoice reaches QuickBooks (no 6140)
        again = self.invoice(post=False)
        again.name = number
        again.action_post()
        again.action_qbo_push()
        self.drain()
        self.assertEqual(again.qbo_state, "synced", again.qbo_error)
        self.assertEqual(self.remote(again)["DocNumber"], number)

    def test_cancelled_queued_quotation_ends_not_linked(self):
        order = self.env["sale.order"].create({"partner_id": self.customer.id, "order_line": [
            Command.create({"product_id": self.fitting.id, "product_uom_qty": 1, "price_unit": 45.5,
                            "tax_id": [Command.clear()]})]})
        order.action_qbo_push()
        self.assertEqual(order.qbo_state, "queued")
        order._action_cancel()
        self.assertEqual(order.qbo_state, "none")
        self.drain()
        self.assertEqual(order.qbo_state, "none", "Not linked, not Synced")
        self.assertFalse(order.qbo_id)
        self.assertFalse(self.qbo("Estimate"))

    def test_quotation_cancelled_while_sending_ends_not_linked(self):
        order = self.env["sale.order"].create({"partner_id": self.customer.id, "order_line": [
            Command.create({"product_id": self.fitting.id, "product_uom_qty": 1, "price_unit": 45.5,
                            "tax_id": [Command.clear()]})]})
        order.action_qbo_push()
        # cancelled behind the queue's back (state written directly): the engine finds it cancelled
        order.with_context(qbo_no_enqueue=True).write({"state": "cancel"})
        self.drain()
        self.assertEqual(order.qbo_state, "none")
        self.assertFalse(order.qbo_id)

    def test_revoked_during_a_single_void_keeps_the_job_pending(self):
        move = self.invoice()
        move.action_qbo_push()
        self.drain()
        move.button_cancel()
        drain_revoked_before_writes(self)
        job = self.env["qbo.job"].search([("res_model", "=", "account.move"), ("res_id", "=", move.id),
                                          ("operation", "=", "void")])
        self.assertEqual((job.state, job.attempts), ("pending", 0))
        self.assertEqual(move.qbo_state, "queued")
        self.qbo_configure(self.company, self.US_REALM)
        self.drain()
        self.assertEqual(self.remote(move)["PrivateNote"], "Voided")
