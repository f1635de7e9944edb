import json
import logging
import threading

from odoo import api

from odoo.tests import new_test_user, tagged

from .common import QboTransactionCase

_logger = logging.getLogger(__name__)


class QboSyncCase(QboTransactionCase):
    """A company connected to the simulator's US realm, lists imported and mapped."""

    def setUp(self):
        super().setUp()
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("qbo_financial_hub.batches_per_minute", 100000)
        ICP.set_param("qbo_financial_hub.requests_per_minute", 100000)
        self.company = self.qbo_configure(self.env.company, self.US_REALM)
        self.company.action_qbo_refresh_references()
        Ref = self.env["qbo.reference"]
        self.income = Ref.search([("company_id", "=", self.company.id), ("kind", "=", "account"),
                                  ("account_type", "=", "Income")], limit=1)
        self.company.write({"qbo_income_account_id": self.income.id, "qbo_sync_customers": True,
                            "qbo_sync_products": True})
        self.user = new_test_user(self.env, login="qbo_hub_user", groups="base.group_user,base.group_partner_manager,qbo_financial_hub.group_qbo_user,account.group_account_invoice")
        self.Partner = self.env["res.partner"].with_user(self.user)
        self.manager = new_test_user(self.env, login="qbo_hub_manager", groups="base.group_user,base.group_partner_manager,qbo_financial_hub.group_qbo_manager,account.group_account_invoice")

    def drain(self, **client_options):
        options = {"max_retries": 2, "sleep": lambda seconds: None}
        options.update(client_options)
        self.env.flush_all()  # what the cron sees is what was committed
        done = self.env["qbo.job"]._qbo_process_company(self.company.id, client_options=options)
        self.env.invalidate_all()
        return done

    def qbo(self, entity, realm=None):
        return self.sim.entities(realm or self.US_REALM, entity)

    def qbo_by_name(self, entity, name, field="DisplayName"):
        return [e for e in self.qbo(entity) if e.get(field) == name]

    def pending_jobs(self, records):
        return self.env["qbo.job"].search([("res_model", "=", records._name), ("res_id", "in", records.ids),
                                           ("state", "=", "pending")])


@tagged("post_install", "-at_install")
class TestCustomerHub(QboSyncCase):

    def test_toggle_active_pushes_and_notifies(self):
        partner = self.Partner.create({"name": "Harbour Lights Ltd", "is_company": True, "email": "ap@harbour.example",
                                       "phone": "+1 555 0100", "street": "1 Quay St", "city": "Boston", "zip": "02110",
                                       "qbo_hub": "active"})
        self.assertEqual(len(self.pending_jobs(partner)), 1)
        self.assertEqual(partner.qbo_state, "queued")
        self.assertEqual(self.drain(), 1)
        partner.invalidate_recordset()
        self.assertEqual(partner.qbo_state, "synced")
        remote = self.qbo_by_name("Customer", "Harbour Lights Ltd")
        self.assertEqual(len(remote), 1)
        self.assertEqual(partner.qbo_id, remote[0]["Id"])
        self.assertEqual(remote[0]["PrimaryEmailAddr"]["Address"], "ap@harbour.example")
        self.assertEqual(remote[0]["BillAddr"]["City"], "Boston")
        self.assertIn(f"nameId={partner.qbo_id}", partner.qbo_url)
        notes = self.env["bus.bus"].sudo().search([("message", "like", "qbo_financial_hub/notify")])
        payloads = [json.loads(n.message) for n in notes]
        self.assertTrue(any("Linked to QuickBooks" in json.dumps(p) and "Harbour Lights Ltd" in json.dumps(p)
                            for p in payloads), payloads)

    def test_switching_active_on_existing_customer_links_it(self):
        partner = self.Partner.create({"name": "Existing Shop", "is_company": True})
        self.assertFalse(self.pending_jobs(partner))
        partner.qbo_hub = "active"
        self.assertEqual(len(self.pending_jobs(partner)), 1)
        self.drain()
        self.assertEqual(partner.qbo_state, "synced")

    def test_inactive_customers_never_pushed(self):
        partner = self.Partner.create({"name": "Local Only", "is_company": True})
        partner.write({"email": "x@local.example", "street": "somewhere"})
        self.assertFalse(self.pending_jobs(partner))
        self.drain()
        self.assertFalse(self.qbo_by_name("Customer", "Local Only"))

    def test_update_only_for_listed_fields(self):
        partner = self.Partner.create({"name": "Tracked Co", "is_company": True, "qbo_hub": "active"})
        self.drain()
        token = self.qbo_by_name("Customer", "Tracked Co")[0]["SyncToken"]
        partner.write({"comment": "<p>internal note</p>", "website": "https://tracked.example"})
        self.assertFalse(self.pending_jobs(partner), "a change of an unlisted field queues nothing")
        partner.write({"email": "new@tracked.example"})
        partner.write({"phone": "+1 555 0199"})
        self.assertEqual(len(self.pending_jobs(partner)), 1, "edits coalesce into one pending job")
        counters = self.sim.counters(self.US_REALM)
        updates_before = counters.get("batch_items", 0) + counters.get("update", 0)   # in a batch or alone
        self.drain()
        remote = self.qbo_by_name("Customer", "Tracked Co")[0]
        self.assertEqual(remote["PrimaryEmailAddr"]["Address"], "new@tracked.example")
        self.assertEqual(remote["PrimaryPhone"]["FreeFormNumber"], "+1 555 0199")
        self.assertEqual(int(remote["SyncToken"]), int(token) + 1, "one sparse update")
        counters = self.sim.counters(self.US_REALM)
        self.assertEqual(counters.get("batch_items", 0) + counters.get("update", 0) - updates_before, 1)

    def test_qbo_side_edits_are_not_pulled(self):
        partner = self.Partner.create({"name": "One Way Co", "is_company": True, "qbo_hub": "active"})
        self.drain()
        self.assertEqual(partner.name, "One Way Co")
        partner.write({"email": "changed@oneway.example"})
        self.drain()
        self.assertEqual(partner.name, "One Way Co")
        self.assertEqual(partner.email, "changed@oneway.example")

    def test_name_with_quotes_and_colon(self):
        partner = self.Partner.create({"name": 'O\'Brien: "Fish & Chips"', "is_company": True, "qbo_hub": "active"})
        self.drain()
        self.assertEqual(partner.qbo_state, "synced", partner.qbo_error)
        remote = self.qbo_by_name("Customer", 'O\'Brien - "Fish & Chips"')
        self.assertEqual(len(remote), 1)
        # pushed again (an update), the rule gives the same name: no duplicate
        partner.write({"email": "fish@chips.example"})
        self.drain()
        self.assertEqual(len(self.qbo_by_name("Customer", 'O\'Brien - "Fish & Chips"')), 1)

    def test_clash_with_vendor_name(self):
        vendor = self.qbo("Vendor")[0]["DisplayName"]
        partner = self.Partner.create({"name": vendor, "is_company": True, "ref": "C-77", "qbo_hub": "active"})
        self.drain()
        self.drain()
        self.assertEqual(partner.qbo_state, "synced", partner.qbo_error)
        self.assertEqual(len(self.qbo_by_name("Customer", f"{vendor} (C-77)")), 1)
        self.assertFalse(self.qbo_by_name("Customer", vendor))

    def test_clash_with_inactive_customer(self):
        inactive = [c for c in self.qbo("Customer") if c.get("Active") is False][0]["DisplayName"]
        partner = self.Partner.create({"name": inactive, "is_company": True, "qbo_hub": "active"})
        self.drain()
        self.drain()
        self.assertEqual(partner.qbo_state, "synced", partner.qbo_error)
        self.assertEqual(len(self.qbo_by_name("Customer", f"{inactive} (Odoo {partner.id})")), 1)

    def test_match_existing_customer_links_and_updates(self):
        existing = [c for c in self.qbo("Customer") if c.get("Active") is not False and not c.get("Job")][0]
        count = len(self.qbo("Customer"))
        partner = self.Partner.create({"name": existing["DisplayName"], "is_company": True,
                                       "email": "matched@example.com", "qbo_hub": "active"})
        self.drain()
        self.assertEqual(partner.qbo_id, existing["Id"])
        self.assertEqual(len(self.qbo("Customer")), count, "matched, not created")
        remote = [c for c in self.qbo("Customer") if c["Id"] == existing["Id"]][0]
        self.assertEqual(remote["PrimaryEmailAddr"]["Address"], "matched@example.com")

    def test_no_match_with_customer_sync_off(self):
        self.company.qbo_sync_customers = False
        partner = self.Partner.create({"name": "Nowhere In QBO", "is_company": True, "qbo_hub": "active"})
        self.drain()
        self.assertEqual(partner.qbo_state, "error")
        self.assertIn("No match in QuickBooks", partner.qbo_error)
        self.assertFalse(self.qbo_by_name("Customer", "Nowhere In QBO"))

    def test_sub_customers_and_contacts(self):
        parent = self.Partner.create({"name": "Chain Stores Inc", "is_company": True, "qbo_hub": "active"})
        branch = self.Partner.create({"name": "Downtown", "parent_id": parent.id, "type": "delivery",
                                      "city": "Denver", "qbo_hub": "active"})
        contact = self.Partner.create({"name": "Jane Buyer", "parent_id": parent.id, "type": "contact",
                                       "qbo_hub": "active"})
        self.assertFalse(self.pending_jobs(contact), "a contact of a company is never a customer of its own")
        self.assertFalse(contact.qbo_can_sync)
        self.drain()
        self.assertEqual(parent.qbo_state, "synced", parent.qbo_error)
        self.assertEqual(branch.qbo_state, "synced", branch.qbo_error)
        remote = [c for c in self.qbo("Customer") if c["Id"] == branch.qbo_id][0]
        self.assertTrue(remote["Job"])
        self.assertEqual(remote["ParentRef"]["value"], parent.qbo_id)
        self.assertEqual(remote["DisplayName"], "Downtown")
        self.assertEqual(remote["FullyQualifiedName"], "Chain Stores Inc:Downtown", "the parent once")

    def test_preflight_error_is_explained_and_not_sent(self):
        term = self.env["account.payment.term"].create({"name": "Unmapped 45 days"})
        partner = self.Partner.create({"name": "Term Trouble", "is_company": True,
                                       "property_payment_term_id": term.id, "qbo_hub": "active"})
        requests_before = self.sim.counters(self.US_REALM).get("total", 0)
        self.drain()
        self.assertEqual(partner.qbo_state, "error")
        self.assertIn("Unmapped 45 days", partner.qbo_error)
        self.assertEqual(self.sim.counters(self.US_REALM).get("total", 0), requests_before, "nothing doomed is sent")
        body = partner.message_ids.mapped("body")
        self.assertTrue(any("Unmapped 45 days" in (b or "") for b in body), body)
        job = self.env["qbo.job"].search([("res_id", "=", partner.id), ("res_model", "=", "res.partner")])
        self.assertEqual(job.state, "error")
        # fixing the mapping and retrying succeeds
        net30 = self.env["qbo.reference"].search([("company_id", "=", self.company.id), ("kind", "=", "term"),
                                                  ("name", "=", "Net 30")])
        term.qbo_term_ref_id = net30
        partner.with_user(self.user).action_qbo_retry()
        self.drain()
        self.assertEqual(partner.qbo_state, "synced", partner.qbo_error)

    def test_transient_failures_retry_then_error(self):
        partner = self.Partner.create({"name": "Flaky Network", "is_company": True, "qbo_hub": "active"})
        self.sim.set_faults(self.US_REALM, error_rate=1.0)
        self.drain()
        job = self.pending_jobs(partner)
        self.assertEqual(len(job), 1, "a transient failure leaves the job queued")
        self.assertEqual(job.attempts, 1)
        self.assertTrue(job.error_message)
        self.assertEqual(partner.qbo_state, "queued")
        delays = []
        for _attempt in range(15):
            delays.append(round((job.next_attempt_at - job.write_date).total_seconds()))
            job.next_attempt_at = "2000-01-01 00:00:00"
            self.drain()
            job = self.env["qbo.job"].search([("res_model", "=", "res.partner"), ("res_id", "=", partner.id)])
            if job.state == "error":
                break
        self.assertEqual(job.state, "error")
        self.assertEqual(job.attempts, 10, "QBO down for hours: ten attempts before giving up")
        self.assertTrue(all(b >= a for a, b in zip(delays, delays[1:])), f"backoff grows: {delays}")
        self.assertEqual(partner.qbo_state, "error", "the badge turns red with the job")
        self.assertTrue(partner.qbo_error)
        self.sim.set_faults(self.US_REALM)
        job.action_retry()
        self.drain()
        self.assertEqual(partner.qbo_state, "synced")

    def test_revoked_connection_pauses_queue(self):
        partner = self.Partner.create({"name": "Paused Co", "is_company": True, "qbo_hub": "active"})
        self.sim.revoke_all(self.US_REALM)
        self.sim.advance(3601)
        self.company.sudo().qbo_access_token_expires_at = "2000-01-01 00:00:00"
        self.drain()
        self.company.invalidate_recordset()
        self.assertEqual(self.company.qbo_state, "reconnect")
        job = self.env["qbo.job"].search([("res_model", "=", "res.partner"), ("res_id", "=", partner.id)])
        self.assertEqual(job.state, "pending", "nothing is dropped while the connection is revoked")
        self.assertEqual(job.attempts, 0)

    def test_lost_responses_create_no_duplicate(self):
        partners = self.Partner.create([{"name": f"Lossy {i:03d}", "is_company": True, "qbo_hub": "active"}
                                        for i in range(40)])
        self.sim.set_faults(self.US_REALM, lost_rate=0.5, seed=7)
        for _round in range(6):
            self.drain(max_retries=8)
            self.env["qbo.job"].search([("state", "=", "pending")]).write({"next_attempt_at": "2000-01-01 00:00:00"})
        self.sim.set_faults(self.US_REALM)
        self.drain()
        names = [c["DisplayName"] for c in self.qbo("Customer") if c["DisplayName"].startswith("Lossy ")]
        self.assertEqual(len(names), 40)
        self.assertEqual(len(set(names)), 40, "no duplicate")
        self.assertEqual(set(partners.mapped("qbo_state")), {"synced"})

    def test_two_workers_share_one_queue(self):
        partners = self.Partner.create([{"name": f"Worker {i:03d}", "is_company": True, "qbo_hub": "active"}
                                        for i in range(90)])
        self.env.flush_all()
        Job = self.env["qbo.job"]
        # two workers claim in turn: each gets its own jobs, committed as 'sending'
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            claim_a = api.Environment(cr_a, self.env.uid, {})["qbo.job"]._qbo_claim(self.company.id, 30)
            claim_b = api.Environment(cr_b, self.env.uid, {})["qbo.job"]._qbo_claim(self.company.id, 30)
            self.assertEqual((len(claim_a), len(claim_b)), (30, 30))
            self.assertFalse(set(claim_a.ids) & set(claim_b.ids), "no job is claimed twice")
            ids_a, ids_b = claim_a.ids, claim_b.ids
        # a worker that died holding its claim: its jobs come back after the lease
        self.env.cr.execute("UPDATE qbo_job SET sent_at = sent_at - interval '1 hour' WHERE id IN %s", [tuple(ids_a)])
        results, errors = [], []

        def worker():
            try:
                # each worker opens its own cursors, as cron workers do
                results.append(Job._qbo_process_company(
                    self.company.id, chunk_size=30, client_options={"sleep": lambda s: None}))
            except Exception as exc:  # noqa: BLE001 - asserted below
                _logger.exception("worker failed")
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        self.env.invalidate_all()
        self.assertFalse(errors, errors)
        self.assertEqual(sum(results), 60, "the 60 unclaimed and lease-expired jobs were finished once")
        jobs = Job.search([("res_model", "=", "res.partner"), ("res_id", "in", partners.ids)])
        self.assertEqual(set(jobs.filtered(lambda j: j.id in ids_b).mapped("state")), {"sending"},
                         "a live worker's claim is left alone")
        done = jobs.filtered(lambda j: j.state == "done")
        self.assertEqual(len(done), 60)
        self.assertEqual(set(done.filtered(lambda j: j.id not in ids_a).mapped("attempts")), {1}, "no job ran twice")
        self.assertEqual(set(done.filtered(lambda j: j.id in ids_a).mapped("attempts")), {2},
                         "the re-claim of an expired lease counts an attempt")
        names = [c["DisplayName"] for c in self.qbo("Customer") if c["DisplayName"].startswith("Worker ")]
        self.assertEqual(len(names), 60)
        self.assertEqual(len(set(names)), 60, "no duplicate in QuickBooks")

    def test_bulk_link_from_list_returns_at_once(self):
        partners = self.Partner.create([{"name": f"Bulk {i:03d}", "is_company": True} for i in range(200)])
        before = self.sim.counters(self.US_REALM).get("total", 0)
        action = partners.action_qbo_link()
        self.assertEqual(action["params"]["type"], "info")
        self.assertIn("200", action["params"]["message"])
        self.assertEqual(self.sim.counters(self.US_REALM).get("total", 0), before, "nothing sent in the request")
        self.assertEqual(set(partners.mapped("qbo_state")), {"queued"})
        self.assertEqual(len(self.pending_jobs(partners)), 200)
        self.drain()
        self.assertEqual(set(partners.mapped("qbo_state")), {"synced"})
        self.assertEqual(self.env["res.partner"].search_count([("id", "in", partners.ids), ("qbo_state", "=", "synced")]), 200)
        self.assertEqual(self.env["res.partner"].search_count([("id", "in", partners.ids), ("qbo_state", "=", "none")]), 0)
