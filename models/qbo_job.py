"""The durable push queue and the engine that drains it.

A job is a row written in the same transaction as the change that calls for it, so nothing
is lost if QuickBooks is down or Odoo restarts; repeated edits of one record coalesce into
its one pending job (a partial unique index), and the payload is built when the job is sent,
from the record as it is then.

Draining (ir.cron, any number of workers):
1. claim: ``FOR UPDATE SKIP LOCKED`` a bounded chunk of ready jobs of the lowest dependency
   level, mark them ``sending`` with a batch reference, commit. Another worker skips them.
2. build: one /batch of Query items finds the QBO twins of records not linked yet (never one
   request per record) and the current SyncToken of linked ones whose token is unknown;
   payloads are built, and a record whose payload cannot succeed is put in error unsent.
3. send: /batch requests of 30 items; the requestid of each is derived from the stored batch
   reference, so the client's retry after a lost answer, and a re-send after a worker died
   mid-flight, replay the same id and QBO answers the first result instead of creating twice.
4. apply: links, SyncTokens, states, errors (with a chatter note) and notifications, in bulk,
   committed.
Requests go through a per-realm budget held in PostgreSQL (see qbo_rate.py), shared by all
workers, so the queue drains near Intuit's ceiling without a 429.
"""
import logging
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from psycopg2.extras import execute_values

from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..qbo import AuthenticationError, DuplicateNameError, QBOError, RevokedError, StaleObjectError
from .qbo_drain import Chunk, Lane, send_batch, send_singles
from .qbo_sync_mixin import QboPayloadError, in_queries

_logger = logging.getLogger(__name__)

JOB_STATES = [
    ("pending", "Queued"),
    ("sending", "Sending"),
    ("done", "Done"),
    ("error", "Error"),
    ("cancelled", "Cancelled"),
]
JOB_KINDS = [
    ("customer", "Customer"),
    ("item", "Product"),
    ("invoice", "Invoice"),
    ("creditmemo", "Credit note"),
    ("estimate", "Quotation"),
]
# Transient failures back off 30 s, 1, 2, 4, 8, 16, 32 min then hourly: a job survives QBO
# being down for about four hours before it is put in error (and a Retry brings it back).
MAX_ATTEMPTS = 10
CHUNK_SIZE = 600          # jobs claimed at once: 20 batches of 30
LEASE = timedelta(minutes=10)   # a 'sending' job older than this belonged to a dead worker
CRON_TIME_BUDGET = 60     # seconds a cron run drains before handing over (limit_time_real is 120 s)
BATCH_ITEMS = 30          # writes in one /batch request
SINGLES_UP_TO = 5         # a claim of this many jobs or fewer is sent one request per job


class QboJob(models.Model):
    _name = "qbo.job"
    _description = "QuickBooks Online push job"
    _order = "id desc"
    _rec_name = "record_name"

    company_id = fields.Many2one("res.company", required=True, index=True, ondelete="cascade")
    res_model = fields.Char("Model", required=True)
    res_id = fields.Many2oneReference("Record", model_field="res_model", required=True)
    record_name = fields.Char(compute="_compute_record_name")
    kind = fields.Selection(JOB_KINDS, required=True)
    operation = fields.Selection([("push", "Push"), ("void", "Void"), ("delete", "Delete")],
                                 default="push", required=True)
    level = fields.Integer(default=0, help="Dependency order: lower levels are pushed first.")
    state = fields.Selection(JOB_STATES, default="pending", required=True, index=True)
    attempts = fields.Integer(default=0)
    next_attempt_at = fields.Datetime(default=fields.Datetime.now, required=True)
    batch_ref = fields.Char("Batch reference", copy=False,
                            help="Base of the requestid of the QBO batch that carries this job.")
    sent_at = fields.Datetime()
    done_at = fields.Datetime()
    qbo_id = fields.Char("QuickBooks Id")
    error_code = fields.Char()
    error_message = fields.Text()

    def init(self):
        cr = self.env.cr
        cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS qbo_job_pending_unique
                ON qbo_job (company_id, res_model, res_id, operation) WHERE state = 'pending';
            CREATE INDEX IF NOT EXISTS qbo_job_ready_index
                ON qbo_job (company_id, level, id) WHERE state = 'pending';
            CREATE INDEX IF NOT EXISTS qbo_job_sending_index ON qbo_job (sent_at) WHERE state = 'sending';
            CREATE INDEX IF NOT EXISTS qbo_job_record_index ON qbo_job (res_model, res_id);
            CREATE TABLE IF NOT EXISTS qbo_rate_budget (
                realm varchar NOT NULL, kind varchar NOT NULL, tat timestamptz NOT NULL,
                PRIMARY KEY (realm, kind));
            CREATE TABLE IF NOT EXISTS qbo_rate_log (
                realm varchar NOT NULL, kind varchar NOT NULL, sent_at timestamptz NOT NULL);
            CREATE INDEX IF NOT EXISTS qbo_rate_log_index ON qbo_rate_log (realm, kind, sent_at DESC);
            CREATE INDEX IF NOT EXISTS qbo_job_next_index ON qbo_job (company_id, next_attempt_at) WHERE state = 'pending';
            CREATE TABLE IF NOT EXISTS qbo_turn (
                company_id integer PRIMARY KEY REFERENCES res_company(id) ON DELETE CASCADE,
                last_turn timestamptz NOT NULL);
        """)

    @api.depends("res_model", "res_id")
    def _compute_record_name(self):
        for job in self:
            record = self.env[job.res_model].browse(job.res_id).exists() if job.res_model in self.env else None
            job.record_name = record.display_name if record else f"{job.res_model},{job.res_id}"

    # ==================================================================================
    # enqueue
    # ==================================================================================
    @api.model
    def _qbo_check_user(self):
        if not self.env.user.has_group("qbo_financial_hub.group_qbo_user"):
            raise AccessError(self.env._("Only QuickBooks users can push records to QuickBooks."))

    @api.model
    def _qbo_create_jobs(self, company, res_model, ids, kind, operation="push", level=0, levels=None):
        """Insert one pending job per record (coalescing with a pending one) and mark the
        records' links queued, in two statements whatever the number of records."""
        if not ids:
            return
        cr = self.env.cr
        uid = self.env.uid
        levels = levels or {}
        rows = [(company.id, res_model, rid, kind, operation, levels.get(rid, level), uid, uid) for rid in ids]
        execute_values(cr._obj, """
            INSERT INTO qbo_job (company_id, res_model, res_id, kind, operation, level, create_uid, write_uid,
                                 state, attempts, next_attempt_at, create_date, write_date)
            SELECT v.c, v.m, v.r, v.k, v.o, v.l, v.cu, v.wu, 'pending', 0, now() at time zone 'UTC',
                   now() at time zone 'UTC', now() at time zone 'UTC'
              FROM (VALUES %s) AS v(c, m, r, k, o, l, cu, wu)
            ON CONFLICT (company_id, res_model, res_id, operation) WHERE state = 'pending'
            DO UPDATE SET next_attempt_at = LEAST(qbo_job.next_attempt_at, EXCLUDED.next_attempt_at),
                          write_uid = EXCLUDED.write_uid
        """, rows, page_size=1000)
        execute_values(cr._obj, """
            INSERT INTO qbo_link (company_id, res_model, res_id, state, create_uid, write_uid, create_date, write_date)
            SELECT v.c, v.m, v.r, 'queued', v.u, v.u, now() at time zone 'UTC', now() at time zone 'UTC'
              FROM (VALUES %s) AS v(c, m, r, u)
            ON CONFLICT (company_id, res_model, res_id)
            DO UPDATE SET state = 'queued', write_date = now() at time zone 'UTC'
        """, [(company.id, res_model, rid, uid) for rid in ids], page_size=1000)
        self.env["qbo.link"].invalidate_model()
        self.invalidate_model()
        if res_model in self.env:
            self.env[res_model].invalidate_model(["qbo_state", "qbo_id", "qbo_error", "qbo_last_sync", "qbo_url"])

    # ==================================================================================
    # cron
    # ==================================================================================
    @api.model
    def _cron_process(self, time_budget=CRON_TIME_BUDGET):
        """One cron worker's run: turns between the companies with ready jobs, on the realms no
        other worker holds (see qbo_drain.py). Every cron of this model running this method is
        a worker of its own; when more realms are ready than this one takes, the others are
        woken up."""
        self._qbo_wake_other_workers()
        done = Lane(self.env, time.monotonic() + time_budget, CHUNK_SIZE, LEASE).run()
        self.env.cr.execute("""SELECT count(*) FILTER (WHERE next_attempt_at <= clock_timestamp() at time zone 'UTC'),
                                      min(next_attempt_at)
                                 FROM qbo_job j JOIN res_company c ON c.id = j.company_id
                                WHERE j.state = 'pending' AND c.qbo_enabled AND c.qbo_state = 'connected'""")
        ready, next_at = self.env.cr.fetchone()
        cron = self.env.ref("qbo_financial_hub.ir_cron_qbo_sync", raise_if_not_found=False)
        if cron and next_at and not ready:
            cron._trigger(at=next_at)
        self.env["ir.cron"]._notify_progress(done=done, remaining=ready or 0)
        return done

    @api.model
    def _qbo_wake_other_workers(self):
        """Trigger the other queue crons when jobs of more than one realm are ready."""
        self.env.cr.execute("""SELECT count(DISTINCT c.qbo_realm_id) FROM res_company c
                                WHERE c.qbo_enabled AND c.qbo_state = 'connected'
                                  AND EXISTS (SELECT 1 FROM qbo_job j WHERE j.company_id = c.id AND j.state = 'pending'
                                                 AND j.next_attempt_at <= clock_timestamp() at time zone 'UTC')""")
        if self.env.cr.fetchone()[0] < 2:
            return
        crons = self.env["ir.cron"].sudo().search([("model_id.model", "=", self._name),
                                                   ("code", "=like", "%_cron_process()%"),
                                                   ("id", "!=", self.env.context.get("cron_id") or 0)])
        for cron in crons:
            cron._trigger()

    @api.model
    def _qbo_process_company(self, company_id, deadline=None, chunk_size=CHUNK_SIZE, client_options=None):
        """Drain the queue of one company until it is empty or `deadline` (monotonic) passes,
        as a cron worker does (nothing when another worker holds its realm).
        Returns the number of jobs finished (done or error)."""
        deadline = deadline or time.monotonic() + CRON_TIME_BUDGET
        return Lane(self.env, deadline, chunk_size, LEASE, company_ids=[company_id],
                    client_options=client_options).run()

    @api.model
    def _qbo_budgets(self):
        get = self.env["ir.config_parameter"].sudo().get_param
        return {"request": int(get("qbo_financial_hub.requests_per_minute", 500)),
                "batch": int(get("qbo_financial_hub.batches_per_minute", 40)),
                "concurrent": int(get("qbo_financial_hub.concurrent_requests", 10))}

    @api.model
    def _qbo_singles(self, count):
        """How many of a claim of `count` jobs are sent one per request, beside its /batch
        requests: all of a claim of a few jobs (one request instead of one batch), else the
        share that uses both of a realm's budgets at once, whole batches of 30 for the rest.
        With Intuit's 500 requests and 40 batches a minute, and one /batch of lookups per
        chunk, 180 of 600: per chunk 15 batches and 195 requests, about 1,500 writes a
        minute where batches alone carry 1,170."""
        if not self._qbo_single_writes():
            return 0
        if count <= SINGLES_UP_TO:
            return count
        budgets = self._qbo_budgets()
        spare = budgets["request"] - budgets["batch"]
        if spare <= 0:
            return 0
        # requests per record = batches per record * request / batch budget, solved for the share
        per_batch, lookup = 1 / BATCH_ITEMS, 1 / count
        share = spare * (per_batch + lookup) / (budgets["batch"] + spare * per_batch)
        batched = BATCH_ITEMS * round((1 - share) * count / BATCH_ITEMS)
        return min(max(count - batched, 0), count)

    @api.model
    def _qbo_single_writes(self):
        """System parameter qbo_financial_hub.single_writes (default on): "0" sends every create
        and update in /batch requests (fewest requests per record, about 1,170 writes a minute
        per QuickBooks company at most)."""
        value = self.env["ir.config_parameter"].sudo().get_param("qbo_financial_hub.single_writes", "1")
        return value.strip().lower() not in ("0", "false", "no", "off")

    @api.model
    def _qbo_claim(self, company_id, limit):
        """Take ready jobs of the lowest level not finished yet (pending or being sent) for
        this worker, committed as 'sending'. Jobs of a dead worker (lease expired) are taken
        back with their batch reference, so their re-send replays the same requestids.

        The claim decides which jobs go in /batch requests and which go one per request
        (their batch reference ends with 's'): the newest `_qbo_singles` of them. The decision
        is stored, so a re-send is the same."""
        cr = self.env.cr
        cr.execute("""
            SELECT id, batch_ref FROM qbo_job
             WHERE company_id = %s AND state = 'sending' AND sent_at < (now() at time zone 'UTC') - %s
             ORDER BY batch_ref, id LIMIT %s FOR UPDATE SKIP LOCKED
        """, [company_id, LEASE, limit])
        stale = cr.fetchall()
        if stale:
            ref = stale[0][1]
            ids = [jid for jid, bref in stale if bref == ref]
            cr.execute("UPDATE qbo_job SET sent_at = now() at time zone 'UTC' WHERE id IN %s", [tuple(ids)])
        else:
            # jobs being sent hold their level back too: a later level waits until they are in
            cr.execute("""
                SELECT id FROM qbo_job
                 WHERE company_id = %(c)s AND state = 'pending' AND next_attempt_at <= clock_timestamp() at time zone 'UTC'
                   AND level = (SELECT min(level) FROM qbo_job
                                 WHERE company_id = %(c)s AND (state = 'sending' OR (state = 'pending'
                                   AND next_attempt_at <= clock_timestamp() at time zone 'UTC')))
                 ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED""", {"c": company_id, "limit": limit})
            ids = [r[0] for r in cr.fetchall()]
            if ids:
                singles = self._qbo_singles(len(ids))
                batch_ref = uuid.uuid4().hex[:24]
                cr.execute("""
                    UPDATE qbo_job SET state = 'sending', attempts = attempts + 1,
                                       batch_ref = CASE WHEN id >= %(cut)s THEN %(ref)s || 's' ELSE %(ref)s END,
                                       sent_at = now() at time zone 'UTC', write_date = now() at time zone 'UTC'
                     WHERE id IN %(ids)s""", {"ids": tuple(ids), "ref": batch_ref,
                                              "cut": ids[len(ids) - singles] if singles else ids[-1] + 1})
        cr.commit()
        self.invalidate_model()
        return self.browse(sorted(ids))

    # ==================================================================================
    # send one claimed chunk
    # ==================================================================================
    def _qbo_prepare(self, company, client):
        """Build the claimed jobs `self` (all of one company and level): what can be known to
        fail is decided, the QBO twins are looked up, the payloads built and split between
        /batch items and single writes as the claim decided. Returns a Chunk to send, or None
        when the chunk was given back as a whole (QuickBooks unreachable, connection revoked)."""
        chunk = Chunk(company.id, company.qbo_realm_id, self.ids)
        outcome = chunk.outcome
        # grouped by model and kind: a model may map to several QBO entities (an account.move is
        # an Invoice or a CreditMemo), and each group's lookup queries one entity
        by_model = defaultdict(lambda: self.browse())
        for job in self:
            by_model[(job.res_model, job.kind)] |= job
        try:
            groups = []
            for (res_model, _kind), jobs in sorted(by_model.items()):
                records = self.env[res_model].with_company(company).browse(jobs.mapped("res_id")).exists()
                links = records._qbo_links(company)
                chunk.links.setdefault(res_model, {}).update({rid: link.id for rid, link in links.items()})
                missing = jobs.filtered(lambda j: j.res_id not in records.ids)
                for job in missing:
                    outcome[job.id] = {"state": "cancelled", "message": self.env._("The record no longer exists.")}
                # what can be known to fail without asking QBO is never sent, nor looked up
                for job in jobs - missing:
                    problems = records.browse(job.res_id)._qbo_preflight(company)
                    if problems:
                        outcome[job.id] = {"state": "error", "code": "pre-flight", "message": "\n".join(problems)}
                doomed = jobs.filtered(lambda j: j.id in outcome)
                records = records.browse([rid for rid in records.ids if rid not in doomed.mapped("res_id")])
                groups.append((jobs - doomed, records, links))
            all_matches = self._qbo_lookup(company, client, [(records, links) for _jobs, records, links in groups])
        except (RevokedError, AuthenticationError) as exc:
            self._qbo_release(exc, count_attempt=False)
            company.sudo().write({"qbo_state": "reconnect", "qbo_state_message": exc.user_message()})
            return None
        except QBOError as exc:
            # the whole chunk failed (QBO down, throttled for long): retry it later
            self._qbo_release(exc, count_attempt=True)
            return None
        chunk.batch_ref = next((j.batch_ref for j in self if not (j.batch_ref or "").endswith("s")), None) \
            or self[:1].batch_ref or uuid.uuid4().hex[:24]
        for (jobs, records, links), matches in zip(groups, all_matches):
            for job in jobs:
                record = records.browse(job.res_id)
                link = links.get(record.id)
                try:
                    payload, operation = record._qbo_prepare_payload(company, link, matches.get(record.id))
                except QboPayloadError as exc:
                    if exc.code in ("defer", "clash"):
                        outcome[job.id] = {"state": exc.code, "message": "\n".join(exc.problems)}
                    else:
                        outcome[job.id] = {"state": "error", "code": exc.code, "message": "\n".join(exc.problems)}
                    continue
                if payload is None:  # nothing to send (e.g. already in step)
                    outcome[job.id] = {"state": "done", "entity": matches.get(record.id)}
                    continue
                chunk.plans[job.id] = (job.res_model, record.id, operation, payload)
                single = (job.batch_ref or "").endswith("s")
                if operation in ("create", "update") and not single:
                    chunk.batch_items.append({"bId": str(job.id), "operation": operation, record._qbo_entity: payload})
                else:
                    # void and delete (a cancelled invoice), and writes the claim sent alone: one
                    # request each, with a requestid stored through the job's batch reference
                    chunk.singles.append((job.id, record._qbo_entity, operation, payload,
                                          f"{job.batch_ref or chunk.batch_ref}-{job.id}"))
        return chunk

    def _qbo_finish(self, company, chunk, refreshing_client):
        """Apply what QuickBooks answered to the chunk's jobs `self`. Writes refused for an
        expired access token are sent again, with the same requestids, by a client that
        refreshes it (`refreshing_client(company)`); a revoked connection puts the company in
        "Reconnect needed" and those jobs back in the queue."""
        results = chunk.results
        expired = {job_id for job_id, (_data, error) in results.items()
                   if isinstance(error, AuthenticationError) and not isinstance(error, RevokedError)}
        revoked = next((error for _data, error in results.values() if isinstance(error, RevokedError)), None)
        if expired and not revoked:
            try:
                client = refreshing_client(company)
                items = [item for item in chunk.batch_items if int(item["bId"]) in expired]
                if items:   # the chunk's whole /batch sequence again: the same requestids per 30
                    results.update(send_batch(client, chunk.batch_items, chunk.batch_ref))
                results.update(send_singles(client, [s for s in chunk.singles if s[0] in expired]))
            except QBOError as exc:
                revoked = exc
        revoked = revoked or next((error for _data, error in results.values()
                                   if isinstance(error, AuthenticationError)), None)
        if revoked:
            company.sudo().write({"qbo_state": "reconnect", "qbo_state_message": revoked.user_message()})
        outcome = dict(chunk.outcome)
        for job_id, (data, error) in results.items():
            if error is None:
                outcome[job_id] = {"state": "done", "entity": data}
            elif isinstance(error, AuthenticationError):
                outcome[job_id] = {"state": "defer", "message": error.user_message()}
            else:
                res_model, res_id, operation, payload = chunk.plans[job_id]
                record = self.env[res_model].with_company(company).browse(res_id)
                outcome[job_id] = self._qbo_classify(error, (record, operation, payload))
        Link = self.env["qbo.link"]
        links = {link.id: link for link in Link.browse([lid for by_id in chunk.links.values() for lid in by_id.values()])}
        links_by_model = {model: {rid: links[lid] for rid, lid in by_id.items()} for model, by_id in chunk.links.items()}
        return self._qbo_apply(company, outcome, links_by_model)

    def _qbo_lookup(self, company, client, groups):
        """Current QBO rows, for each (records, links) group of one entity: matches of unlinked
        records by the configured key and fresh SyncTokens of linked ones whose token is unknown.
        The queries of every group go in one /batch (split by 30 only past 30 queries).
        Returns one {record id: row or None} per group."""
        items, plans = [], []
        for index, (records, links) in enumerate(groups):
            unlinked = records.filtered(lambda r: not (links.get(r.id) and links[r.id].qbo_id))
            stale = records.filtered(lambda r: links.get(r.id) and links[r.id].qbo_id
                                     and not links[r.id].qbo_sync_token)
            queries, pick = unlinked._qbo_match_queries(company) if unlinked else ([], None)
            entity = records._qbo_entity
            select = "SELECT *, Sku FROM Item" if entity == "Item" else f"SELECT * FROM {entity}"
            queries = list(queries) + in_queries(select, "Id", [links[r.id].qbo_id for r in stale], condition=None)
            items += [{"bId": f"q{index}-{i}", "Query": q} for i, q in enumerate(queries)]
            plans.append((entity, unlinked, stale, pick))
        rows = defaultdict(list)
        for result in client.batch(items) if items else []:
            if not result.ok:
                raise result.error
            index = int(result.bId[1:].split("-")[0])
            rows[index].extend((result.data or {}).get(plans[index][0], []))
        found_by_group = []
        for index, (records, links) in enumerate(groups):
            _entity, unlinked, stale, pick = plans[index]
            by_id = {row["Id"]: row for row in rows[index]}
            found = {r.id: by_id.get(links[r.id].qbo_id) for r in stale}
            for record in unlinked:
                found[record.id] = pick(record, rows[index])
            found_by_group.append(found)
        return found_by_group

    def _qbo_classify(self, error, plan):
        record, operation, payload = plan
        if isinstance(error, DuplicateNameError) and operation == "create" and record._qbo_name_clash_allowed(payload):
            return {"state": "clash", "code": error.code, "message": error.user_message()}
        if isinstance(error, StaleObjectError):
            return {"state": "retry", "code": error.code, "message": error.user_message(), "stale": True}
        if error.transient:
            return {"state": "retry", "code": error.code, "message": error.user_message()}
        return {"state": "error", "code": error.code, "message": error.user_message()}

    def _qbo_release(self, error, count_attempt):
        """Put claimed jobs back in the queue after a failure of the whole chunk."""
        message = error.user_message() if isinstance(error, QBOError) else str(error)
        now = datetime.utcnow()
        for job in self:
            attempts = job.attempts if count_attempt else max(job.attempts - 1, 0)
            if count_attempt and attempts >= MAX_ATTEMPTS:
                job.write({"state": "error", "error_message": message, "error_code": getattr(error, "code", None)})
                self.env["qbo.link"].search([("company_id", "=", job.company_id.id), ("res_model", "=", job.res_model),
                                             ("res_id", "=", job.res_id)]).write(
                    {"state": "error", "error_code": getattr(error, "code", None), "error_message": message})
                self.env[job.res_model].browse(job.res_id)._qbo_message_log(
                    self.env._("QuickBooks push failed after %(n)s attempts: %(message)s", n=attempts, message=message))
                continue
            # the client already retried quickly: back off, and never sooner than QBO asked
            delay = max(getattr(error, "retry_after", None) or 0, min(30 * 2 ** max(attempts - 1, 0), 3600))
            job.write({"state": "pending", "attempts": attempts, "error_message": message,
                       "next_attempt_at": now + timedelta(seconds=delay)})

    # ==================================================================================
    # apply results
    # ==================================================================================
    def _qbo_apply(self, company, outcome, links_by_model):
        now = datetime.utcnow()
        job_rows, link_rows, errors, successes = [], [], [], defaultdict(list)
        for job in self:
            result = outcome.get(job.id) or {"state": "retry", "message": self.env._("No answer from QuickBooks.")}
            state = result["state"]
            link = links_by_model.get(job.res_model, {}).get(job.res_id)
            if state == "done":
                entity = result.get("entity") or {}
                record = self.env[job.res_model].browse(job.res_id).with_company(company)
                # e.g. QBO's total against Odoo's: the record is linked, and in error if they differ
                problem = record._qbo_check_result(company, entity) if entity else None
                job_rows.append((job.id, "error" if problem else "done", job.attempts, now, entity.get("Id"),
                                 "mismatch" if problem else None, problem, now))
                if link and entity.get("status") == "Deleted":
                    # the QBO twin was deleted: the record is linked to nothing any more
                    link_rows.append((link.id, None, None, None, None, "none", None, None, now, None))
                elif link:
                    link_rows.append((link.id, entity.get("Id") or link.qbo_id or None, entity.get("SyncToken"),
                                      entity.get("DisplayName") or entity.get("Name") or link.qbo_name or None,
                                      entity.get("DocNumber") or link.qbo_doc_number or None,
                                      "error" if problem else "synced", "mismatch" if problem else None, problem,
                                      now, None))
                if problem:
                    errors.append((job, "mismatch", problem))
                else:
                    successes[job.create_uid.id].append(job)
            elif state in ("retry", "defer", "clash") and (state != "retry" or job.attempts < MAX_ATTEMPTS):
                attempts = job.attempts if state == "retry" else max(job.attempts - 1, 0)
                delay = {"retry": min(30 * 2 ** max(job.attempts - 1, 0), 3600), "defer": 30, "clash": 0}[state]
                job_rows.append((job.id, "pending", attempts, now + timedelta(seconds=delay), None,
                                 result.get("code"), result.get("message"), None))
                if link and (result.get("stale") or state == "clash"):
                    # stale: forget the SyncToken, the next attempt reads the current one;
                    # clash: the next payload uses the documented name suffix rule
                    link_rows.append((link.id, link.qbo_id or None,
                                      None if result.get("stale") else (link.qbo_sync_token or None),
                                      link.qbo_name or None, link.qbo_doc_number or None, "queued", None, None,
                                      link.last_sync or None, True if state == "clash" else None))
            elif state == "cancelled":
                job_rows.append((job.id, "cancelled", job.attempts, now, None, None, result.get("message"), now))
            else:
                message = result.get("message") or self.env._("Unknown error")
                job_rows.append((job.id, "error", job.attempts, now, None, result.get("code"), message, now))
                if link:
                    link_rows.append((link.id, link.qbo_id or None, link.qbo_sync_token or None, link.qbo_name or None,
                                      link.qbo_doc_number or None, "error", result.get("code"), message,
                                      link.last_sync or None, None))
                errors.append((job, result.get("code"), message))
        self.flush_recordset()
        self.env["qbo.link"].flush_model()
        cr = self.env.cr
        if job_rows:
            execute_values(cr._obj, """
                UPDATE qbo_job j SET state = v.state, attempts = v.attempts, next_attempt_at = v.next_at,
                       qbo_id = COALESCE(v.qbo_id, j.qbo_id), error_code = v.code, error_message = v.msg,
                       done_at = v.done_at, write_date = now() at time zone 'UTC'
                  FROM (VALUES %s) AS v(id, state, attempts, next_at, qbo_id, code, msg, done_at)
                 WHERE j.id = v.id""", job_rows,
                template="(%s, %s, %s, %s::timestamp, %s, %s, %s, %s::timestamp)", page_size=1000)
        if link_rows:
            execute_values(cr._obj, """
                UPDATE qbo_link l SET qbo_id = v.qbo_id, qbo_sync_token = v.token, qbo_name = v.name,
                       qbo_doc_number = v.doc, state = v.state, error_code = v.code, error_message = v.msg,
                       last_sync = v.last_sync, name_clash = COALESCE(v.clash, l.name_clash),
                       write_date = now() at time zone 'UTC'
                  FROM (VALUES %s) AS v(id, qbo_id, token, name, doc, state, code, msg, last_sync, clash)
                 WHERE l.id = v.id""", link_rows,
                template="(%s, %s, %s, %s, %s, %s, %s, %s, %s::timestamp, %s::boolean)", page_size=1000)
        self.invalidate_model()
        self.env["qbo.link"].invalidate_model()
        for job, code, message in errors:
            record = self.env[job.res_model].browse(job.res_id)
            record._qbo_message_log(self.env._("QuickBooks push failed (%(code)s): %(message)s", code=code or "-", message=message))
        self._qbo_notify(errors, successes)
        return sum(1 for row in job_rows if row[1] in ("done", "error"))

    def _qbo_notify(self, errors, successes):
        """Tell the users who queued the records what became of them."""
        Users = self.env["res.users"]
        for uid, jobs in successes.items():
            user = Users.browse(uid)
            if not user.exists() or user._is_superuser() or user._is_public():
                continue
            names = ", ".join(j.record_name for j in jobs[:5]) + ("…" if len(jobs) > 5 else "")
            user._bus_send("simple_notification", {
                "type": "success", "title": self.env._("Linked to QuickBooks"),
                "message": self.env._("%(count)s record(s) in QuickBooks: %(names)s", count=len(jobs), names=names)})
        by_user = defaultdict(list)
        for job, code, message in errors:
            by_user[job.create_uid.id].append((job, code, message))
        for uid, entries in by_user.items():
            user = Users.browse(uid)
            if not user.exists() or user._is_superuser() or user._is_public():
                continue
            text = "\n".join(f"{job.record_name}: {message}" for job, _code, message in entries[:5])
            user._bus_send("simple_notification", {
                "type": "danger", "sticky": True, "title": self.env._("QuickBooks push failed"), "message": text})

    # ==================================================================================
    # UI
    # ==================================================================================
    def action_retry(self):
        self._qbo_check_user()
        for job in self.filtered(lambda j: j.state in ("error", "cancelled")):
            record = self.env[job.res_model].browse(job.res_id).exists()
            if record:
                record.with_company(job.company_id)._qbo_enqueue(job.company_id, job.operation, trigger=False)
        self.env.ref("qbo_financial_hub.ir_cron_qbo_sync")._trigger()
        return True

    def action_open_record(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": self.res_model, "res_id": self.res_id,
                "view_mode": "form", "target": "current"}
